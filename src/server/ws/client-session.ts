/**
 * One WebSocket client of the gateway: what it is subscribed to (symbols and channels), its
 * resumes (replay with `since`, then live, without gap or duplicate), its update frequency
 * (realtime subscriptions) and its outgoing queue (send-queue.ts holds the slow-client policy).
 *
 * Resume: the client is attached to the symbol's live feed first, with its live events held;
 * then the bus replays the events after `since` page by page; then the held events follow.
 * Everything goes through one per-symbol "last seq" check, so the overlap between the replay
 * and the live events is delivered exactly once.
 *
 * Update frequency: `tick` sends everything. `1s`/`5s` conflate market_data and forming bar
 * updates to at most one of each per period and symbol (the latest wins); finals and other
 * events go at once, after any conflated update they follow (so seq order holds). `bar` sends
 * no market_data and no forming updates: final bars, status, alerts and predictions only.
 */
import type { WebSocket } from 'ws';
import type { Duplex } from 'node:stream';
import { CHANNELS, type BusEvent, type Channel, type SeqGap } from '../../bus/index.ts';
import type { CancelTimer } from '../../clock.ts';
import { errorMessage } from '../../errors.ts';
import type { UpdateFrequency } from '../../store/subscriptions-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { STALL_LIMIT_MS, type FanoutHub, type HubClient } from './fanout.ts';
import type { ProtocolErrorCode, TickMessageName } from '../../contracts/ws-protocol.ts';
import { ackPayload, encodeEvent, encodeGap, errorPayload, marketStatusPayload, namedForClient, type OutboundEvent } from './protocol.ts';
import { SendQueue, type Overflowed } from './send-queue.ts';

/** Events per bus replay call while a client catches up. */
const REPLAY_PAGE = 1_000;

export const UPDATE_PERIOD_MS: Record<UpdateFrequency, number> = { tick: 0, '1s': 1_000, '5s': 5_000, bar: 0 };

interface SymbolState {
  channels: Set<Channel>;
  /** Seq of the last event handed on (delivered, conflated or filtered): anything not newer is a duplicate. */
  lastSeq: number;
  /** Live events waiting while a replay runs; null when live. */
  held: OutboundEvent[] | null;
  /** Dropped by the slow-client policy: nothing is sent until the client subscribes again. */
  suspended: boolean;
  /** Bumped by each (re)subscription, so that an older replay still running stops. */
  generation: number;
  throttle: Throttle | null;
}

interface Throttle {
  lastFlushAt: number;
  waiting: Map<string, OutboundEvent>;
  timer: CancelTimer | null;
}

export interface ClientSessionOptions {
  ws: WebSocket;
  /** The connection's TCP socket (the upgrade request's), written once per turn. */
  socket: Duplex;
  hub: FanoutHub;
  deps: ServerDeps;
  frequency?: UpdateFrequency;
  /** The type of tick messages on this connection (default market_data). */
  tickMessage?: TickMessageName;
  /** Where a client told "replay_unavailable" or sent a gap should refetch the history of a symbol (the period from..to, epoch ms). */
  refetchUrl: (symbol: string, fromTime: number, toTime?: number) => string;
}

export class ClientSession implements HubClient {
  private readonly symbols = new Map<string, SymbolState>();
  private readonly queue: SendQueue;
  private readonly periodMs: number;
  private readonly barsOnly: boolean;
  private closed = false;

  constructor(private readonly o: ClientSessionOptions) {
    const frequency = o.frequency ?? 'tick';
    this.periodMs = UPDATE_PERIOD_MS[frequency];
    this.barsOnly = frequency === 'bar';
    this.queue = new SendQueue({
      ws: o.ws,
      socket: o.socket,
      maxBufferBytes: o.deps.config.TASA_WS_MAX_BUFFER_BYTES,
      stats: o.hub,
      batcher: o.hub,
      onOverflow: (dropped) => this.suspend(dropped),
      now: () => o.deps.clock.now(),
    });
  }

  /** Registers with the hub and greets the client with the market status. */
  start(): void {
    this.o.hub.register(this);
    for (const symbol of this.o.deps.symbols) this.queue.control(marketStatusPayload(this.o.deps.calendar.of(symbol), this.o.deps.clock.now()), 'market_status');
  }

  /** The connection ended: leave every feed and stop timers. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    for (const state of this.symbols.values()) state.throttle?.timer?.();
    this.symbols.clear();
    this.o.hub.unregister(this);
  }

  get congested(): boolean {
    return this.queue.congested;
  }

  /**
   * Adds the channels (all when none are given) of each symbol, acknowledges with `subscribed`,
   * then, with `since`, replays the events after it before the live ones. Without `since`,
   * delivery starts with the next live event. A symbol whose bus subscription fails gets an
   * `unavailable` error and is left out of the acknowledgement.
   */
  async subscribe(symbols: readonly string[], channels: readonly Channel[] | undefined, since: number | undefined): Promise<void> {
    const attached: Array<{ symbol: string; state: SymbolState; generation: number }> = [];
    for (const symbol of symbols) {
      if (this.closed) return;
      const state = this.stateOf(symbol);
      for (const c of channels ?? CHANNELS) state.channels.add(c);
      const generation = ++state.generation;
      if (since !== undefined || state.suspended) this.restart(symbol, state, since);
      try {
        await this.o.hub.attach(this, symbol);
        attached.push({ symbol, state, generation });
      } catch (err) {
        if (this.symbols.get(symbol) === state && state.generation === generation) this.symbols.delete(symbol);
        this.error('unavailable', `Subscribing to ${symbol} failed (${errorMessage(err)}); try again.`, { symbol });
      }
    }
    if (this.closed || attached.length === 0) return;
    this.control(ackPayload('subscribed', attached.map((a) => a.symbol), [...(channels ?? CHANNELS)], since), 'subscribed');
    if (since === undefined) return;
    for (const a of attached) void this.catchUp(a.symbol, a.state, since, a.generation);
  }

  /** Removes the channels (all when none are given) of each symbol, then acknowledges with `unsubscribed`. */
  unsubscribe(symbols: readonly string[], channels: readonly Channel[] | undefined): void {
    for (const symbol of symbols) this.removeChannels(symbol, channels ?? CHANNELS);
    this.control(ackPayload('unsubscribed', [...symbols], [...(channels ?? CHANNELS)]), 'unsubscribed');
  }

  // ---- HubClient ----

  offer(ev: OutboundEvent): void {
    const state = this.symbols.get(ev.symbol);
    if (!state || state.suspended) return;
    if (state.held) state.held.push(ev);
    else this.handOn(state, ev);
  }

  /** Seqs the bus cannot deliver: a `gap` frame, in seq order with the data messages (held like them during a replay). */
  gap(gap: SeqGap): void {
    const state = this.symbols.get(gap.symbol);
    if (!state || state.suspended) return;
    const ev = this.encodeGap(gap);
    if (state.held) state.held.push(ev);
    else this.handOn(state, ev);
  }

  heartbeat(payload: Buffer, now: number): void {
    if (!this.queue.congested) return this.queue.control(payload, 'heartbeat');
    if (this.queue.congestedFor(now) < STALL_LIMIT_MS) return;
    this.o.hub.dropped('stalled', 1);
    this.o.ws.terminate();
  }

  marketStatus(payload: Buffer): void {
    this.queue.control(payload, 'market_status');
  }

  /** Closes the connection after what was sent before. */
  close(code: number, reason: string): void {
    this.queue.close(code, reason);
  }

  /** Sends a control message (ack, heartbeat reply, error). */
  control(payload: Buffer, type: string): void {
    this.queue.control(payload, type);
  }

  error(code: ProtocolErrorCode, message: string, extra: { symbol?: string; resume_since?: number; refetch?: string } = {}): void {
    this.queue.control(errorPayload(code, message, extra), 'error');
  }

  // ---- internals ----

  private stateOf(symbol: string): SymbolState {
    let state = this.symbols.get(symbol);
    if (!state) {
      state = { channels: new Set(), lastSeq: 0, held: null, suspended: false, generation: 0, throttle: null };
      this.symbols.set(symbol, state);
    }
    return state;
  }

  /** A symbol left with no channel is detached from its feed. */
  private removeChannels(symbol: string, channels: readonly Channel[]): void {
    const state = this.symbols.get(symbol);
    if (!state) return;
    for (const c of channels) state.channels.delete(c);
    if (state.channels.size > 0) return;
    state.generation++;
    state.throttle?.timer?.();
    this.symbols.delete(symbol);
    this.queue.discard(symbol);
    this.o.hub.detach(this, symbol);
  }

  /** A resume (since) or a fresh start after suspension: forget what was in flight for the symbol. */
  private restart(symbol: string, state: SymbolState, since: number | undefined): void {
    state.suspended = false;
    state.lastSeq = since ?? 0;
    state.held = since === undefined ? null : [];
    if (state.throttle) {
      state.throttle.timer?.();
      state.throttle = null;
    }
    this.queue.discard(symbol);
    this.queue.restart(symbol, since);
  }

  /** Replays the events after `since`, then releases the live events held meanwhile. */
  private async catchUp(symbol: string, state: SymbolState, since: number, generation: number): Promise<void> {
    const current = () => !this.closed && !state.suspended && this.symbols.get(symbol) === state && state.generation === generation;
    let previous: Pick<BusEvent, 'seq'> & { time: number | null } = { seq: since, time: null };
    try {
      for (let after = since; current(); ) {
        const { events, complete } = await this.o.deps.bus.replay(symbol, after, REPLAY_PAGE);
        if (!current()) return;
        if (!complete) {
          this.error('replay_unavailable', `Events of ${symbol} after seq ${since} are no longer in the replay window; refetch the history over REST. Live events follow from now.`, {
            symbol,
            refetch: this.o.refetchUrl(symbol, this.o.deps.clock.now()),
          });
          break;
        }
        const now = this.o.deps.clock.now();
        for (const e of events) {
          // A jump inside the replay window: seqs lost with Redis or refused by a publisher's full buffer.
          if (e.seq > previous.seq + 1) this.handOn(state, this.encodeGap({ symbol, from: previous.seq + 1, to: e.seq - 1, afterTime: previous.time, beforeTime: e.time }));
          previous = e;
          if (state.channels.has(e.channel)) this.handOn(state, encodeEvent(e, { calendar: this.o.deps.calendar, now }));
        }
        const last = events.at(-1);
        if (!last || events.length < REPLAY_PAGE) break;
        after = last.seq;
      }
    } catch (err) {
      if (current()) this.error('unavailable', `Replaying ${symbol} failed (${errorMessage(err)}); live events follow from now.`, { symbol });
    }
    if (!current()) return;
    const held = state.held ?? [];
    state.held = null;
    for (const ev of held) this.handOn(state, ev);
  }

  /** In seq order, once: the frequency filter, then the send queue. */
  private handOn(state: SymbolState, event: OutboundEvent): void {
    if (state.suspended || event.seq <= state.lastSeq) return;
    state.lastSeq = event.seq;
    if (event.channel !== null && !state.channels.has(event.channel)) return;
    const ev = namedForClient(event, this.o.tickMessage ?? 'market_data');
    const conflatable = ev.type === 'market_data' || (ev.type === 'bar' && !ev.final);
    if (this.barsOnly && conflatable) return;
    if (this.periodMs > 0) {
      if (conflatable) return this.throttle(state, ev);
      if (state.throttle) this.flushThrottle(state.throttle);
    }
    this.queue.push(ev);
  }

  private throttle(state: SymbolState, ev: OutboundEvent): void {
    const now = this.o.deps.clock.now();
    const t = (state.throttle ??= { lastFlushAt: -Infinity, waiting: new Map(), timer: null });
    if (t.waiting.size === 0 && now - t.lastFlushAt >= this.periodMs) {
      t.lastFlushAt = now;
      return this.queue.push(ev);
    }
    const key = ev.key ?? String(ev.seq);
    if (t.waiting.delete(key)) this.o.hub.dropped('throttled', 1);
    t.waiting.set(key, ev);
    t.timer ??= this.o.deps.clock.setTimer(t.lastFlushAt + this.periodMs - now, () => {
      t.timer = null;
      if (!this.closed) this.flushThrottle(t);
    });
  }

  private flushThrottle(t: Throttle): void {
    t.timer?.();
    t.timer = null;
    if (t.waiting.size === 0) return;
    t.lastFlushAt = this.o.deps.clock.now();
    const waiting = [...t.waiting.values()];
    t.waiting.clear();
    for (const ev of waiting) this.queue.push(ev);
  }

  private encodeGap(gap: SeqGap): OutboundEvent {
    const now = this.o.deps.clock.now();
    return encodeGap(gap, this.o.refetchUrl(gap.symbol, gap.afterTime ?? gap.beforeTime ?? now, gap.beforeTime ?? now), now);
  }

  /**
   * The slow-client policy dropped events of these symbols: a gap frame for the dropped seqs,
   * then where to resume from the replay window.
   */
  private suspend(dropped: Overflowed[]): void {
    for (const { symbol, resumeSince, lastDropped, firstDroppedAt, lastDroppedAt } of dropped) {
      const gap = encodeGap(
        { symbol, from: resumeSince + 1, to: lastDropped, afterTime: firstDroppedAt, beforeTime: lastDroppedAt },
        this.o.refetchUrl(symbol, firstDroppedAt, lastDroppedAt),
        this.o.deps.clock.now(),
      );
      this.queue.control(gap.payload, 'gap');
      const state = this.symbols.get(symbol);
      if (state) {
        state.suspended = true;
        state.held = null;
        state.throttle?.timer?.();
        state.throttle = null;
      }
      this.error('slow_consumer', `This connection fell behind on ${symbol}; events were dropped. Subscribe again with since=${resumeSince} to get them from the replay window.`, {
        symbol,
        resume_since: resumeSince,
      });
    }
  }
}
