/**
 * One client's outgoing queue and its slow-client policy. One slow client never delays another:
 * nothing here awaits a send, so the fan-out loop only appends to each socket's buffer or to
 * this queue.
 *
 * Policy (bound B = TASA_WS_MAX_BUFFER_BYTES):
 * 1. While the socket buffer (ws.bufferedAmount) is below B, every message is written at once.
 * 2. At or above B the client is congested. Data messages wait here, conflated:
 *    - market_data: only the latest per symbol is kept;
 *    - bar: only the latest version of each bar (per symbol and open time) is kept: a newer
 *      forming update or revision replaces the older one, so a final is only ever replaced by
 *      a later version of the same bar;
 *    - market_status, alert, prediction: every one is kept, in order.
 *    Each replaced message counts in tasa_ws_messages_dropped_total{reason="conflated"}.
 *    A WebSocket ping is written behind the buffered data; when it is flushed, the socket
 *    has drained and the waiting messages go out in seq order.
 * 3. When the waiting messages exceed B bytes too, they are all dropped
 *    ({reason="slow_consumer"}) and the client gets, per affected symbol, a `gap` frame for the
 *    dropped seqs (with the REST URL of their period) and
 *    `{"type":"error","code":"slow_consumer","symbol","resume_since":<last seq sent>}`.
 *    The session stops sending that symbol until the client subscribes again (with
 *    `since` = resume_since to get the dropped events from the bus's replay window).
 *    So bar finals are never dropped silently.
 * 4. A client congested for longer than the stall limit (a client that stopped reading) is
 *    disconnected ({reason="stalled"}), so its buffers are freed.
 * Control messages (acks, errors, notices) are written directly; heartbeats are skipped while
 * congested.
 *
 * Writes are batched per event-loop turn: the frames of a turn wait in `turnFrames` (in order)
 * and the hub writes them out at the end of the turn as ONE socket write; the hub joins the
 * same frames once for every client that has them (WriteBatcher.join). Anything ws writes
 * itself (ping, close) first writes out what waits, so it stays behind the data.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { textFrame, type OutboundEvent } from './protocol.ts';

/** Where a queue reports what it sent or dropped (aggregated by the fan-out hub into metrics). */
export interface DeliveryStats {
  sent(type: string): void;
  dropped(reason: 'conflated' | 'slow_consumer' | 'throttled' | 'stalled', n: number): void;
  finalBarSent(closeAt: number): void;
}

export interface Overflowed {
  symbol: string;
  /** The last seq written to the client for this symbol: what to resume from. */
  resumeSince: number;
  /** The last seq dropped: resumeSince + 1 .. lastDropped is what the client missed. */
  lastDropped: number;
  /** Publish times (epoch ms) of the first and last dropped events, for the REST refetch. */
  firstDroppedAt: number;
  lastDroppedAt: number;
}

/** What waits to be written at the end of the turn. */
export interface TurnWriter {
  writeOut(): void;
}

/** Batches writes per event-loop turn (the fan-out hub): a burst of messages is one socket write. */
export interface WriteBatcher {
  /** Calls writer.writeOut() at the end of this event-loop turn. */
  enqueue(writer: TurnWriter): void;
  /** The frames as one buffer, joined once per turn for every client that writes the same frames. */
  join(frames: readonly Buffer[]): Buffer;
}

export interface SendQueueOptions {
  ws: WebSocket;
  /** The connection's TCP socket, where a turn's frames are written at once. */
  socket: Duplex;
  maxBufferBytes: number;
  stats: DeliveryStats;
  batcher: WriteBatcher;
  onOverflow: (dropped: Overflowed[]) => void;
  now: () => number;
}

const TEXT = { binary: false } as const;

export class SendQueue implements TurnWriter {
  private pending: Map<string, OutboundEvent> | null = null;
  private pendingBytes = 0;
  private congestedAt: number | null = null;
  private readonly sentSeq = new Map<string, number>();
  /** Frames of this turn, not yet written to the socket (in order), and their bytes. */
  private turnFrames: Buffer[] = [];
  private turnBytes = 0;

  /**
   * Frames may go to the socket as they are: nothing was negotiated (no permessage-deflate)
   * that would make ws transform them. Otherwise every message goes through ws.send.
   */
  private readonly rawFrames: boolean;

  constructor(private readonly o: SendQueueOptions) {
    this.rawFrames = o.ws.extensions === '';
  }

  get congested(): boolean {
    return this.pending !== null;
  }

  /** How long the client has been congested (ms), 0 when it is not. */
  congestedFor(now: number): number {
    return this.congestedAt === null ? 0 : now - this.congestedAt;
  }

  /** A data message: written now, or held (conflated) while the client is congested. */
  push(ev: OutboundEvent): void {
    if (this.pending !== null && this.hasRoom()) this.flush();
    if (this.pending === null) {
      if (this.hasRoom()) return this.write(ev);
      this.congest();
    }
    this.hold(ev);
  }

  /** A control message (ack, error, notice, heartbeat reply): written directly. */
  control(payload: Buffer, type: string): void {
    if (this.o.ws.readyState !== this.o.ws.OPEN) return;
    this.send(payload, null);
    this.o.stats.sent(type);
  }

  /** A (re)subscription of the symbol: nothing sent yet, or everything up to `since` counts as sent. */
  restart(symbol: string, since: number | undefined): void {
    if (since === undefined) this.sentSeq.delete(symbol);
    else this.sentSeq.set(symbol, since);
  }

  /** Writes out what waits, then closes the connection (the close frame follows the data). */
  close(code: number, reason: string): void {
    this.writeOut();
    this.o.ws.close(code, reason);
  }

  /** Writes this turn's frames as one socket write; dropped if the connection is no longer open. */
  writeOut(): void {
    const frames = this.turnFrames;
    if (frames.length === 0) return;
    this.turnFrames = [];
    this.turnBytes = 0;
    if (this.o.ws.readyState !== this.o.ws.OPEN) return;
    this.o.socket.write(frames.length === 1 ? (frames[0] as Buffer) : this.o.batcher.join(frames));
  }

  /** Forgets what is waiting for this symbol (unsubscribed or suspended). */
  discard(symbol: string): void {
    this.sentSeq.delete(symbol);
    if (this.pending === null) return;
    for (const [key, ev] of this.pending) {
      if (ev.symbol !== symbol) continue;
      this.pending.delete(key);
      this.pendingBytes -= ev.payload.length;
    }
  }

  /**
   * Room in the socket buffer for more. The frames of this turn do not count: they have not
   * been offered to the kernel yet, so they say nothing about the client's speed.
   */
  private hasRoom(): boolean {
    return this.o.ws.bufferedAmount < this.o.maxBufferBytes;
  }

  /** Sends one message; `frame` is the payload already framed (shared by every client), or null. */
  private send(payload: Buffer, frame: Buffer | null): void {
    if (!this.rawFrames) return this.o.ws.send(payload, TEXT);
    const whole = frame ?? textFrame(payload);
    if (this.turnFrames.push(whole) === 1) this.o.batcher.enqueue(this);
    this.turnBytes += whole.length;
    // A burst as large as the bound goes out now, so that the bound measures the client, not the burst.
    if (this.turnBytes >= this.o.maxBufferBytes) this.writeOut();
  }

  private write(ev: OutboundEvent): void {
    if (this.o.ws.readyState !== this.o.ws.OPEN) return;
    this.send(ev.payload, ev.frame);
    this.sentSeq.set(ev.symbol, ev.seq);
    this.o.stats.sent(ev.type);
    if (ev.barCloseAt !== null) this.o.stats.finalBarSent(ev.barCloseAt);
  }

  private congest(): void {
    this.pending = new Map();
    this.pendingBytes = 0;
    this.congestedAt = this.o.now();
    this.watchDrain();
  }

  /** The ping's callback runs once everything written before it has left the socket buffer. */
  private watchDrain(): void {
    if (this.o.ws.readyState !== this.o.ws.OPEN) return;
    this.writeOut();
    this.o.ws.ping(undefined, undefined, (err?: Error) => {
      if (err || this.pending === null) return;
      if (this.hasRoom()) this.flush();
      else this.watchDrain();
    });
  }

  private flush(): void {
    const waiting = this.pending ?? new Map<string, OutboundEvent>();
    this.pending = null;
    this.pendingBytes = 0;
    this.congestedAt = null;
    for (const ev of waiting.values()) this.write(ev);
  }

  private hold(ev: OutboundEvent): void {
    const pending = this.pending ?? new Map<string, OutboundEvent>();
    const key = ev.key ?? `seq:${ev.symbol}:${ev.seq}`;
    const previous = pending.get(key);
    if (previous) {
      // Delete first so that the newer version takes its place at the end: seq order is kept.
      pending.delete(key);
      this.pendingBytes -= previous.payload.length;
      this.o.stats.dropped('conflated', 1);
    }
    pending.set(key, ev);
    this.pendingBytes += ev.payload.length;
    if (this.pendingBytes > this.o.maxBufferBytes) this.overflow(pending);
  }

  private overflow(pending: Map<string, OutboundEvent>): void {
    const spans = new Map<string, { first: OutboundEvent; last: OutboundEvent }>();
    for (const ev of pending.values()) {
      const span = spans.get(ev.symbol);
      if (!span) spans.set(ev.symbol, { first: ev, last: ev });
      else if (ev.seq > span.last.seq) span.last = ev;
    }
    this.o.stats.dropped('slow_consumer', pending.size);
    pending.clear();
    this.pendingBytes = 0;
    const dropped = [...spans].map(([symbol, { first, last }]) => ({
      symbol,
      resumeSince: this.sentSeq.get(symbol) ?? first.seq - 1,
      lastDropped: last.seq,
      firstDroppedAt: first.time,
      lastDroppedAt: last.time,
    }));
    this.o.onOverflow(dropped);
  }
}
