/**
 * The TwelveData price stream as one async iterable of FeedEvents (ticks, connection states,
 * subscription results, problems), the interface live and replayed feeds share.
 *
 * - Connects to `url?apikey=KEY`, subscribes to `symbols`, heartbeats every 10 s and treats a
 *   socket silent for `silenceTimeoutMs` as dead (ws-session.ts).
 * - A lost connection is retried with exponential backoff and jitter, capped, for as long as
 *   `shouldReconnect()` says so (the ingest passes "the market is open"); when it says no, the
 *   stream stops. The backoff restarts from its first step after a connection that worked
 *   (confirmed a symbol or delivered a price).
 * - The stream tracks a set of symbols, `symbols` at first; `subscribe()` / `unsubscribe()` change
 *   it on the live connection (a market opening or closing) without reconnecting, and every new
 *   connection subscribes to the whole tracked set in one message.
 * - A 401/403 at the upgrade is fatal for that key: an `auth_failed` problem, the pool marks the
 *   key bad, and the next usable key is tried at once; with none left the stream stops.
 * - Ticks carry the exchange timestamp; `receivedAt` is the clock's time at receipt.
 * - Between the socket and the consumer sits a bounded queue: the socket never waits; when full,
 *   the oldest events are dropped and reported (`queue_overflow`).
 *
 * Malformed frames, unknown events and server errors are counted, logged once per kind and
 * yielded as `problem` events; nothing a server sends can throw out of the stream.
 */
import type { Clock } from '../../clock.ts';
import type { TickSource } from '../../domain/tick.ts';
import { TasaError, errorMessage } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { BoundedEventQueue } from './event-queue.ts';
import { problem, type FeedEvent, type StatusEvent } from '../feed-events.ts';
import { apiKeyId, redactKeys } from './key-id.ts';
import type { KeyPool } from './key-pool.ts';
import { emptyCounters, ProblemLog, type StreamCounters, type StreamStats } from './stream-stats.ts';
import { StreamSession, type SessionEnd } from './ws-session.ts';

export const DEFAULT_WS_URL = 'wss://ws.twelvedata.com/v1/quotes/price';

export interface TwelveDataStreamOptions {
  /** Default wss://ws.twelvedata.com/v1/quotes/price; `apikey` is added to it. */
  url?: string;
  /** One key; or `keys`, a pool from which the stream takes the first usable key. */
  apiKey?: string;
  keys?: KeyPool;
  symbols: readonly string[];
  clock: Clock;
  /** Default 10 s, as TwelveData recommends. */
  heartbeatIntervalMs?: number;
  /** No frame at all for this long means a dead socket; default 30 s. */
  silenceTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Asked before every reconnection; default always. */
  shouldReconnect?: () => boolean;
  logger?: Logger;
  /** Default 50,000 events. */
  queueCapacity?: number;
  /** Default `twelvedata_ws`; `simulator` when pointed at the simulator on purpose. */
  source?: TickSource;
  /** Jitter source, for reproducible tests; default Math.random. */
  random?: () => number;
}

interface StreamKey {
  id: string;
  key: string;
}

const DEFAULT_HEARTBEAT_MS = 10_000;
const DEFAULT_SILENCE_MS = 30_000;
const DEFAULT_QUEUE_CAPACITY = 50_000;

export class TwelveDataStream {
  private readonly url: URL;
  private readonly backoff: BackoffOptions;
  private readonly queue: BoundedEventQueue<FeedEvent>;
  private readonly counters: StreamCounters = emptyCounters();
  private readonly problems: ProblemLog;
  private readonly refusedKeys = new Set<string>();
  /** The symbols every connection subscribes to; in the order they were added. */
  private readonly tracked: Set<string>;
  private session: StreamSession | null = null;
  private cancelPause: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private iterated = false;
  private closed = false;

  constructor(private readonly o: TwelveDataStreamOptions) {
    this.url = parseBaseUrl(o.url ?? DEFAULT_WS_URL);
    if (o.apiKey === undefined && o.keys === undefined) throw new TasaError('bad_argument', 'TwelveDataStream needs an apiKey or a key pool.');
    if (o.symbols.length === 0) throw new TasaError('bad_argument', 'TwelveDataStream needs at least one symbol.');
    this.tracked = new Set(o.symbols);
    this.backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
    this.queue = new BoundedEventQueue<FeedEvent>(o.queueCapacity ?? DEFAULT_QUEUE_CAPACITY, (n) => this.overflow(n), () => void this.close());
    this.problems = new ProblemLog(o.logger, (event) => this.queue.push(event));
  }

  /** The events, from the first connection attempt until the stream stops. One consumer only. */
  events(): AsyncIterable<FeedEvent> {
    if (this.iterated) throw new TasaError('bad_argument', 'TwelveDataStream.events() can be iterated once.');
    this.iterated = true;
    if (this.closed) this.queue.end();
    else this.running = this.run();
    return this.queue;
  }

  /** The symbols tracked now: what the connection is (or will be) subscribed to. */
  symbols(): string[] {
    return [...this.tracked];
  }

  /** Adds symbols on the live connection; already tracked ones are not sent again. */
  subscribe(symbols: readonly string[]): void {
    const added = symbols.filter((symbol) => !this.tracked.has(symbol));
    for (const symbol of added) this.tracked.add(symbol);
    if (added.length > 0) this.session?.subscribe(added);
  }

  /** Removes symbols on the live connection; untracked ones are not sent. */
  unsubscribe(symbols: readonly string[]): void {
    const removed = symbols.filter((symbol) => this.tracked.delete(symbol));
    if (removed.length > 0) this.session?.unsubscribe(removed);
  }

  /** Closes the socket, stops reconnecting and ends the iteration (after a `stopped` status). */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.session?.stop();
      this.cancelPause?.();
    }
    await this.running;
  }

  stats(): StreamStats {
    return { ...this.counters, dropped: this.queue.dropped, queued: this.queue.size, problems: { ...this.problems.counts } };
  }

  private async run(): Promise<void> {
    let detail: string;
    try {
      detail = await this.connectLoop();
    } catch (err) {
      detail = `stream failed: ${this.redact(errorMessage(err))}`;
      this.o.logger?.error({ err: detail }, 'twelvedata stream: stopped by an unexpected error');
    }
    this.status({ type: 'status', state: 'stopped', detail });
    this.queue.end();
  }

  /** Connects, and reconnects while allowed; returns why it stopped. */
  private async connectLoop(): Promise<string> {
    let key = await this.nextKey();
    let failures = 0;
    while (!this.closed) {
      if (key === null) return 'no usable API key';
      this.status({ type: 'status', state: 'connecting', attempt: failures, keyId: key.id });
      const end = await this.connectOnce(key);
      if (this.closed || end.kind === 'stopped') break;
      if (end.kind === 'auth_failed') {
        key = await this.refuseKey(key, end);
        continue;
      }
      failures = this.session?.healthy === true ? 1 : failures + 1;
      this.status({ type: 'status', state: 'disconnected', detail: end.detail, ...(this.session ? { deliveredUntil: this.session.deliveredUntil } : {}) });
      if (!this.reconnectAllowed()) return 'not reconnecting: shouldReconnect() returned false';
      const delayMs = backoffDelay(failures, this.backoff, this.o.random);
      this.status({ type: 'status', state: 'reconnecting', attempt: failures, delayMs, detail: end.detail });
      await this.pause(delayMs);
      this.counters.reconnects++;
    }
    return 'closed';
  }

  private connectOnce(key: StreamKey): Promise<SessionEnd> {
    const url = new URL(this.url);
    url.searchParams.set('apikey', key.key);
    this.session = new StreamSession({
      url: url.toString(),
      keyId: key.id,
      symbols: () => [...this.tracked],
      clock: this.o.clock,
      heartbeatIntervalMs: this.o.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS,
      silenceTimeoutMs: this.o.silenceTimeoutMs ?? DEFAULT_SILENCE_MS,
      source: this.o.source ?? 'twelvedata_ws',
      emit: (event) => this.emit(event),
      problems: this.problems,
      counters: this.counters,
      logger: this.o.logger,
      redact: (text) => this.redact(text),
    });
    return this.session.run();
  }

  /** Reports the refused key, has the pool mark it bad, and picks the next usable one. */
  private async refuseKey(key: StreamKey, end: { status: number; message: string }): Promise<StreamKey | null> {
    const reason = `WebSocket upgrade refused with ${end.status}: ${end.message}`;
    this.problems.report('auth_failed', `key ${key.id}: ${reason}`, { keyId: key.id, status: end.status });
    this.refusedKeys.add(key.id);
    try {
      await this.o.keys?.markBad(key.id, reason);
    } catch (err) {
      this.o.logger?.error({ keyId: key.id, err: this.redact(errorMessage(err)) }, 'twelvedata stream: could not mark the key bad');
    }
    return this.nextKey();
  }

  private async nextKey(): Promise<StreamKey | null> {
    if (this.o.keys) {
      const lease = await this.o.keys.streamKey(this.refusedKeys);
      return lease ? { id: lease.id, key: lease.apiKey } : null;
    }
    const key = this.o.apiKey ?? '';
    const id = apiKeyId(key);
    return key !== '' && !this.refusedKeys.has(id) ? { id, key } : null;
  }

  private reconnectAllowed(): boolean {
    try {
      return this.o.shouldReconnect?.() ?? true;
    } catch (err) {
      this.o.logger?.error({ err: errorMessage(err) }, 'twelvedata stream: shouldReconnect() threw; not reconnecting');
      return false;
    }
  }

  /** A backoff pause on the clock that close() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.o.clock.setTimer(ms, () => {
        this.cancelPause = null;
        resolve();
      });
      this.cancelPause = () => {
        cancel();
        resolve();
      };
    });
  }

  private emit(event: FeedEvent): void {
    if (event.type === 'status') this.status(event);
    else this.queue.push(event);
  }

  private status(event: StatusEvent): void {
    const fields = { state: event.state, detail: event.detail, attempt: event.attempt, delayMs: event.delayMs, keyId: event.keyId, url: this.url.host };
    if (event.state === 'disconnected' || event.state === 'stopped') this.o.logger?.warn(fields, `twelvedata stream: ${event.state}`);
    else this.o.logger?.info(fields, `twelvedata stream: ${event.state}`);
    this.queue.push(event);
  }

  private overflow(dropped: number): FeedEvent {
    const detail = `the consumer fell behind: dropped the ${dropped} oldest events (queue capacity ${this.queue.capacity})`;
    this.problems.note('queue_overflow', detail);
    return problem('queue_overflow', detail);
  }

  private redact(text: string): string {
    const keys = this.o.apiKey === undefined ? [] : [this.o.apiKey];
    return redactKeys(text, keys).replace(/apikey=[^&\s"']+/gi, 'apikey=<redacted>');
  }
}

function parseBaseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new TasaError('bad_argument', `Invalid TwelveData WebSocket URL "${text}".`, { input: 'url' });
  }
}
