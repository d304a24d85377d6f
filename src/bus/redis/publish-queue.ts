/**
 * The local publish buffer of a Redis bus: every publish goes through it, in order, so that an
 * event published while Redis is unreachable waits here instead of failing, and one published
 * after it can never overtake it. Seqs are allocated by the publish script when the event reaches
 * Redis, so no seq is spent on an event that was not stored, and the events of an outage get the
 * next seqs in their publish order when Redis returns.
 *
 * - Up to IN_FLIGHT events are sent at once (pipelined on the one connection, so Redis applies
 *   them in order). A reply that does not come (the connection dropped, a timeout) leaves the
 *   event at the head, to be sent again when Redis is back; the script's marks make a re-sent
 *   event that had been applied return its seq instead of appending it twice.
 * - A Redis that refuses an event for good (a bug, a foreign key of the wrong type) rejects that
 *   event's publish and the queue carries on; one that answers "try later" (LOADING, BUSY, OOM,
 *   READONLY, ...) is an outage like a dropped connection.
 * - The buffer is bounded (`limit` events). When it is full a publish is refused (rejected with a
 *   clear error, counted, logged loudly), and the refused events of a symbol become one "hole":
 *   their number of seqs is allocated without entries when the hole reaches Redis, so every reader
 *   sees the jump and announces it as a gap. A refused event is never a silent skip.
 */
import { TasaError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Channel, PublishBacklog } from '../types.ts';

/** Events sent before the first reply is awaited; far below MARKS_KEPT (publish-script.ts). */
const IN_FLIGHT = 1_000;
/** While Redis is down, try again this often (real time) even without a reconnection event. */
const RETRY_MS = 1_000;
/** On close, how long to wait for the buffer to drain before giving up on what remains. */
const CLOSE_GRACE_MS = 2_000;
/** A full buffer logs its refused events at most once per this many (plus the first). */
const DROP_LOG_EVERY = 10_000;

const TRY_LATER = /^(LOADING|BUSY|OOM|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

export interface QueuedEvent {
  symbol: string;
  channel: Channel;
  time: number;
  /** '' for a hole. */
  json: string;
  /** This publisher's per-symbol number of the event (see the publish script's marks). */
  mark: number;
  /** 1 for an event; the number of refused events for a hole. */
  count: number;
}

interface Entry extends QueuedEvent {
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

export interface PublishQueueOptions {
  /** Events the buffer holds at most (holes not counted). */
  limit: number;
  /** Runs before each batch is sent, with its symbols (the seq floors are read there). Must not reject. */
  prepare: (symbols: string[]) => Promise<void>;
  /** Sends one event; must write its command before it returns (the batch's order is the send order). Resolves with its seq. */
  send: (e: QueuedEvent) => Promise<number>;
  logger: Logger;
}

export class PublishQueue {
  private readonly entries: Entry[] = [];
  private readonly marks = new Map<string, number>();
  /** The hole of each symbol that refused events are added to, while no event of the symbol follows it. */
  private readonly openHoles = new Map<string, Entry>();
  private events = 0;
  private dropped = 0;
  private droppedSinceLog = 0;
  private pumping: Promise<void> | null = null;
  /** Set while sending fails for want of Redis (logged once when it starts and once when it ends). */
  private outageSince: number | null = null;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(private readonly o: PublishQueueOptions) {}

  /** Queues an event; resolves with its seq once Redis has it. */
  push(symbol: string, channel: Channel, time: number, json: string): Promise<number> {
    if (this.closed) return Promise.reject(new TasaError('internal', 'The bus is closed.', { hint: 'Create a new bus; close() is final.' }));
    if (this.events >= this.o.limit) return this.refuse(symbol, channel, time);
    this.openHoles.delete(symbol);
    this.events++;
    const { done } = this.enqueue({ symbol, channel, time, json, mark: this.nextMark(symbol), count: 1 });
    this.pump();
    return done;
  }

  /** Redis is (probably) reachable again: send now rather than at the next retry. */
  retryNow(): void {
    this.wake?.();
  }

  backlog(): PublishBacklog {
    const oldest = this.entries.find((e) => e.json !== '');
    return { pending: this.events, dropped: this.dropped, oldestAt: oldest?.time ?? null };
  }

  /** Waits a moment for the buffer to drain, then rejects what is left (it is lost: logged with its number). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const drained = this.pumping ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
    clearTimeout(timer);
    if (this.events > 0) {
      this.o.logger.error({ lost: this.events }, `bus: closing with ${this.events} events still waiting for Redis; they are not published`);
    }
    const left = this.entries.splice(0);
    this.events = 0;
    this.wake?.();
    for (const e of left) e.reject(new TasaError('database_unreachable', 'The bus closed before Redis was reachable again; the event was not published.'));
  }

  private refuse(symbol: string, channel: Channel, time: number): Promise<never> {
    this.dropped++;
    this.droppedSinceLog++;
    if (this.droppedSinceLog === 1 || this.droppedSinceLog >= DROP_LOG_EVERY) {
      this.o.logger.error(
        { symbol, dropped: this.dropped, limit: this.o.limit },
        `bus: the publish buffer is full (${this.o.limit} events waiting for Redis); refusing events (${this.dropped} so far). Readers will see their seqs as a gap.`,
      );
      this.droppedSinceLog = this.droppedSinceLog >= DROP_LOG_EVERY ? 0 : this.droppedSinceLog;
    }
    const hole = this.openHoles.get(symbol);
    if (hole) hole.count++;
    else {
      const { entry, done } = this.enqueue({ symbol, channel, time, json: '', mark: this.nextMark(symbol), count: 1 });
      done.catch(() => undefined); // nobody awaits a hole; its failure is the close's log line
      this.openHoles.set(symbol, entry);
      this.pump();
    }
    return Promise.reject(
      new TasaError('database_unreachable', `The bus buffer is full (${this.o.limit} events waiting for Redis); this ${channel} event of ${symbol} was not published.`, {
        hint: 'Its seq is announced to readers as a gap; the stored data is unaffected.',
      }),
    );
  }

  private enqueue(e: QueuedEvent): { entry: Entry; done: Promise<number> } {
    let settle: Pick<Entry, 'resolve' | 'reject'> | undefined;
    const done = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
    const entry: Entry = { ...e, resolve: (seq) => settle?.resolve(seq), reject: (err) => settle?.reject(err) };
    this.entries.push(entry);
    return { entry, done };
  }

  private nextMark(symbol: string): number {
    const mark = (this.marks.get(symbol) ?? 0) + 1;
    this.marks.set(symbol, mark);
    return mark;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = this.drain().finally(() => {
      this.pumping = null;
    });
  }

  private async drain(): Promise<void> {
    while (this.entries.length > 0) {
      const batch = this.entries.slice(0, IN_FLIGHT);
      await this.o.prepare([...new Set(batch.map((e) => e.symbol))]);
      if (this.entries[0] !== batch[0]) continue; // given up by close() meanwhile
      const results = await Promise.allSettled(batch.map((e) => this.o.send(e)));
      if (!this.settle(batch, results)) {
        if (this.closed) return;
        this.reportOutage();
        await this.pause();
      } else if (this.outageSince !== null) {
        this.o.logger.info({ waitedMs: Math.round(performance.now() - this.outageSince), pending: this.events }, 'bus: Redis takes events again; publishing the buffered ones in order');
        this.outageSince = null;
      }
    }
  }

  /** Hands out the replies in order; false when Redis is out of reach (the rest stays at the head). */
  private settle(batch: Entry[], results: PromiseSettledResult<number>[]): boolean {
    for (const [i, result] of results.entries()) {
      const entry = batch[i];
      if (!entry || this.entries[0] !== entry) return true; // closed meanwhile
      if (result.status === 'rejected' && isOutage(result.reason)) return false;
      this.entries.shift();
      if (this.openHoles.get(entry.symbol) === entry) this.openHoles.delete(entry.symbol);
      if (entry.json !== '') this.events--;
      if (result.status === 'fulfilled') entry.resolve(result.value);
      else {
        this.o.logger.error({ symbol: entry.symbol, channel: entry.channel, err: String(result.reason) }, 'bus: Redis refused an event; it is not published');
        entry.reject(result.reason instanceof Error ? result.reason : new Error(String(result.reason)));
      }
    }
    return true;
  }

  private reportOutage(): void {
    if (this.outageSince !== null) return;
    this.outageSince = performance.now();
    this.o.logger.warn({ pending: this.events, limit: this.o.limit }, `bus: cannot publish to Redis; events wait in the local buffer (up to ${this.o.limit}) and go out in order when it is back`);
  }

  /** Until Redis says it is back (retryNow) or RETRY_MS pass. */
  private pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake?.(), RETRY_MS);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}

/** A failure that says Redis cannot take the event now (rather than never). */
function isOutage(err: unknown): boolean {
  const cause = err instanceof TasaError && err.cause instanceof Error ? err.cause : err;
  if (!(cause instanceof Error)) return true;
  if (cause.name !== 'ReplyError') return true;
  return TRY_LATER.test(cause.message);
}
