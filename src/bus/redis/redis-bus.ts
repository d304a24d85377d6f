/**
 * The Redis bus (REDIS_URL set): shared by every process on the same Redis, so that any number of
 * gateways serve the same streams with the same seqs. Key layout: keys.ts; seq allocation:
 * publish-script.ts; the local buffer that publishes survive an outage in: publish-queue.ts; seqs
 * after a Redis that restarted empty: seq-floor.ts; delivery and gaps: stream-reader.ts;
 * connections and failures: connection.ts.
 */
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { Clock } from '../../clock.ts';
import { TasaError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { Subscription } from '../subscription.ts';
import {
  ALL_SYMBOLS,
  ReplayWindowExceededError,
  type BroadcastHandler,
  type Bus,
  type BusEvent,
  type BusMessages,
  type Channel,
  type ChannelEvent,
  type EventHandler,
  type PublishBacklog,
  type ReplayResult,
  type SeqFloorStore,
  type SubscribeOptions,
  type Unsubscribe,
} from '../types.ts';
import { checkChannel, checkLimit, checkName, checkSeq, checkSubscription, checkSymbol, checkTtl, isReplayComplete, toJson } from '../validate.ts';
import { Broadcaster } from './broadcaster.ts';
import { decodeEntry, parseEntries } from './codec.ts';
import { commandFailure, connectOnce, OutageLog, openConnection, redactUrl, watchConnection } from './connection.ts';
import { RedisKeys } from './keys.ts';
import { PublishQueue, type QueuedEvent } from './publish-queue.ts';
import { loadPublishScript, runPublishScript } from './publish-script.ts';
import { SeqFloor } from './seq-floor.ts';
import { StreamReader } from './stream-reader.ts';

export const DEFAULT_KEY_PREFIX = 'tasa:';
export const DEFAULT_MAX_LEN = 100_000;
/** Events a process keeps waiting for Redis during an outage (about an hour of a busy feed). */
const DEFAULT_PUBLISH_BUFFER = 100_000;
/** Events per XRANGE while a subscription catches up. */
const REPLAY_PAGE = 1_000;

export interface RedisBusOptions {
  url: string;
  clock: Clock;
  /** Default `tasa:`; tests use a random prefix. */
  keyPrefix?: string;
  /** Events kept per symbol stream (approximately: Redis trims whole nodes, so a little more stays). Default 100,000. */
  maxLen?: number;
  /** Events kept in the local buffer while Redis is unreachable (default 100,000); beyond it publishes are refused and announced as gaps. */
  publishBuffer?: number;
  /** Where the seq floors are kept outside Redis (PostgreSQL), so that seqs survive a Redis that restarts empty; without it only this process's memory does. */
  seqFloors?: SeqFloorStore;
  /**
   * Check every entry read against its channel's contract (contracts/bus-messages.ts); one that
   * fails is skipped and logged like a corrupt entry. Default true; only the transport's own tests
   * turn it off, to publish counters and markers on any channel.
   */
  checkMessages?: boolean;
  logger?: Logger;
}

/** Connects (once, failing fast with a clear error) and returns the bus. */
export async function createRedisBus(opts: RedisBusOptions): Promise<Bus> {
  const maxLen = wholeAtLeastOne(opts.maxLen ?? DEFAULT_MAX_LEN, 'Stream length bound');
  const publishBuffer = wholeAtLeastOne(opts.publishBuffer ?? DEFAULT_PUBLISH_BUFFER, 'Publish buffer bound');
  const target = redactUrl(opts.url);
  const main = openConnection(opts.url, 'main');
  // Runs first on every (re)connection, before any publish can be sent on it.
  main.on('ready', () => void loadPublishScript(main).catch(() => undefined));
  await connectOnce(main, target);
  return new RedisBus({ ...opts, maxLen, publishBuffer, target, main, logger: opts.logger ?? pino({ enabled: false }) });
}

function wholeAtLeastOne(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new TasaError('bad_argument', `${what} must be a whole number >= 1, got ${n}.`, { input: String(n) });
  return n;
}

interface RedisBusParts {
  url: string;
  target: string;
  clock: Clock;
  keyPrefix?: string;
  maxLen: number;
  publishBuffer: number;
  seqFloors?: SeqFloorStore;
  checkMessages?: boolean;
  main: Redis;
  logger: Logger;
}

class RedisBus implements Bus {
  readonly kind = 'redis';
  private readonly keys: RedisKeys;
  private readonly floor: SeqFloor;
  private readonly queue: PublishQueue;
  /** Names this instance in the publish script's marks. */
  private readonly publisher = randomBytes(8).toString('hex');
  private readonly outages: OutageLog;
  private readonly reader: StreamReader;
  private readonly connections: Redis[];
  private broadcaster: Broadcaster | null = null;
  private closing = false;
  private readonly checkMessages: boolean;

  constructor(private readonly p: RedisBusParts) {
    this.keys = new RedisKeys(p.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.checkMessages = p.checkMessages ?? true;
    this.floor = new SeqFloor(p.seqFloors ?? null, p.logger);
    this.queue = new PublishQueue({
      limit: p.publishBuffer,
      prepare: (symbols) => Promise.all(symbols.map((s) => this.floor.prepare(s))).then(() => undefined),
      send: (e) => this.send(e),
      logger: p.logger,
    });
    // After the script load (registered first, in createRedisBus): Redis may have restarted empty.
    p.main.on('ready', () => {
      this.floor.invalidate();
      this.queue.retryNow();
    });
    this.outages = new OutageLog(p.logger, p.clock, p.target);
    const readerConnection = this.open('reader');
    this.connections = [p.main, readerConnection];
    watchConnection(p.main, 'main', this.outages, () => this.closing);
    this.reader = new StreamReader({
      reader: readerConnection,
      control: p.main,
      keys: this.keys,
      floor: this.floor,
      lastSeq: (symbol) => this.lastSeq(symbol),
      logger: p.logger,
      checkMessages: this.checkMessages,
    });
  }

  async publish<C extends Channel>(channel: C, symbol: string, data: BusMessages[C]): Promise<ChannelEvent<C>> {
    this.ensureOpen();
    checkChannel(channel);
    checkSymbol(symbol);
    const json = toJson(data, 'data');
    const time = this.p.clock.now();
    const seq = await this.queue.push(symbol, channel, time, json);
    return { seq, channel, symbol, time, data: JSON.parse(json) as BusMessages[C] };
  }

  backlog(): PublishBacklog {
    return this.queue.backlog();
  }

  /**
   * Single symbol: register with the reader first (live events from `head` on are held), then
   * replay from `since` in pages, then release the held events. The two ranges overlap rather
   * than leave a hole, and the subscription drops what it has already delivered.
   */
  async subscribe(symbol: string, handler: EventHandler, opts?: SubscribeOptions): Promise<Unsubscribe> {
    this.ensureOpen();
    const checked = checkSubscription(symbol, opts);
    const wildcard = checked.symbol === ALL_SYMBOLS;
    const sub = new Subscription(checked.symbol, handler, checked.channels, this.p.logger, { replaying: !wildcard, onGap: checked.onGap });
    const unsubscribe = () => {
      this.reader.remove(sub);
      return Promise.resolve();
    };
    if (wildcard) {
      await this.command('subscribe', () => this.reader.addWildcard(sub));
      return unsubscribe;
    }
    const head = await this.lastSeq(symbol);
    const since = checked.since ?? head;
    sub.startAfter(symbol, since);
    this.reader.add(sub, head);
    try {
      await this.replayInto(sub, since);
    } catch (err) {
      this.reader.remove(sub);
      throw err;
    }
    sub.goLive();
    return unsubscribe;
  }

  async replay(symbol: string, since: number, limit?: number): Promise<ReplayResult> {
    this.ensureOpen();
    checkSymbol(symbol);
    checkSeq(since);
    const count = checkLimit(limit);
    // One transaction, so that the range and the counter describe the same moment.
    const replies = await this.command('replay', () =>
      this.p.main.multi().xrange(this.keys.stream(symbol), `(${since}-0`, '+', 'COUNT', count).get(this.keys.counter(symbol)).exec(),
    );
    const [range, counter] = (replies ?? []).map(([err, value]) => {
      if (err) throw commandFailure(this.p.target, 'replay', err, this.p.main.status);
      return value;
    });
    const events = this.decodeAll(symbol, parseEntries(range));
    const last = Math.max(Number(counter ?? 0), this.floor.of(symbol));
    return { events, complete: isReplayComplete(since, last, events[0]?.seq) };
  }

  async lastSeq(symbol: string): Promise<number> {
    this.ensureOpen();
    checkSymbol(symbol);
    const counter = await this.command('lastSeq', () => this.p.main.get(this.keys.counter(symbol)));
    return Math.max(Number(counter ?? 0), this.floor.of(symbol));
  }

  /** The TTL runs on Redis's own clock (real time), not the bus clock. */
  async setLatest(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.ensureOpen();
    const json = toJson(value, 'value');
    const ttl = checkTtl(ttlMs);
    await this.command('setLatest', () => this.p.main.set(this.keys.latest(checkName(key, 'Cache key')), json, 'PX', ttl));
  }

  async getLatest<T>(key: string): Promise<T | null> {
    this.ensureOpen();
    const json = await this.command('getLatest', () => this.p.main.get(this.keys.latest(checkName(key, 'Cache key'))));
    return json === null ? null : (JSON.parse(json) as T);
  }

  async broadcast(topic: string, data: unknown): Promise<void> {
    this.ensureOpen();
    const json = toJson(data, 'data');
    await this.command('broadcast', () => this.p.main.publish(this.keys.topic(checkName(topic, 'Topic')), json));
  }

  async onBroadcast(topic: string, handler: BroadcastHandler): Promise<Unsubscribe> {
    this.ensureOpen();
    const channel = this.keys.topic(checkName(topic, 'Topic'));
    return this.command('onBroadcast', () => this.broadcasterOf().add(channel, handler));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.queue.close();
    await this.floor.close();
    await this.reader.close();
    for (const connection of this.connections) connection.disconnect();
  }

  /** One event (or hole) of the publish queue, with the floors as they are now; the command is written before the first await. */
  private async send(e: QueuedEvent): Promise<number> {
    const seq = await runPublishScript(this.p.main, {
      stream: this.keys.stream(e.symbol),
      counter: this.keys.counter(e.symbol),
      directory: this.keys.directory,
      marks: this.keys.marks(e.symbol, this.publisher),
      maxLen: this.p.maxLen,
      floor: this.floor.of(e.symbol),
      coldFloor: this.floor.cold(e.symbol),
      channel: e.channel,
      time: e.time,
      json: e.json,
      symbol: e.symbol,
      mark: e.mark,
      count: e.count,
    });
    this.floor.observe(e.symbol, seq);
    return seq;
  }

  /** Replays in pages; a jump inside the replayed range (seqs lost with Redis, or refused by a full buffer) reaches the subscriber as a gap. */
  private async replayInto(sub: Subscription, since: number): Promise<void> {
    let previous: { seq: number; time: number | null } = { seq: since, time: null };
    for (let after = since; ; ) {
      const { events, complete } = await this.replay(sub.symbol, after, REPLAY_PAGE);
      if (!complete) throw new ReplayWindowExceededError(sub.symbol, since);
      for (const e of events) {
        if (e.seq > previous.seq + 1) sub.offerReplayedGap({ symbol: e.symbol, from: previous.seq + 1, to: e.seq - 1, afterTime: previous.time, beforeTime: e.time });
        sub.offerReplayed(e);
        previous = e;
      }
      const lastEvent = events.at(-1);
      if (!lastEvent || events.length < REPLAY_PAGE) return;
      after = lastEvent.seq;
    }
  }

  private decodeAll(symbol: string, entries: ReturnType<typeof parseEntries>): BusEvent[] {
    const events: BusEvent[] = [];
    for (const entry of entries) {
      const event = decodeEntry(symbol, entry, this.checkMessages);
      if (event instanceof Error) this.p.logger.error({ symbol, err: event }, 'bus: skipping an unreadable stream entry');
      else events.push(event);
    }
    return events;
  }

  private broadcasterOf(): Broadcaster {
    if (!this.broadcaster) {
      const subscriber = this.open('subscriber');
      this.connections.push(subscriber);
      this.broadcaster = new Broadcaster(subscriber, this.p.logger);
    }
    return this.broadcaster;
  }

  private open(role: 'reader' | 'subscriber'): Redis {
    const connection = openConnection(this.p.url, role);
    watchConnection(connection, role, this.outages, () => this.closing);
    return connection;
  }

  private async command<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw commandFailure(this.p.target, what, err, this.p.main.status);
    }
  }

  private ensureOpen(): void {
    if (this.closing) throw new TasaError('internal', 'The bus is closed.', { hint: 'Create a new bus; close() is final.' });
  }
}
