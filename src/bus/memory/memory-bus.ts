/**
 * The in-process bus (no REDIS_URL): a ring buffer of recent events per symbol, a latest-value
 * map with clock-based expiry, and local broadcast. Values go through JSON like on Redis, so a
 * subscriber cannot tell the drivers apart (and cannot mutate the publisher's object).
 */
import { pino } from 'pino';
import type { Clock } from '../../clock.ts';
import { TasaError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { settle } from '../settle.ts';
import { callIsolated, Subscription } from '../subscription.ts';
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
  type SubscribeOptions,
  type Unsubscribe,
} from '../types.ts';
import { checkChannel, checkLimit, checkName, checkSeq, checkSubscription, checkSymbol, checkTtl, isReplayComplete, toJson } from '../validate.ts';
import { DeliveryQueue } from './delivery-queue.ts';
import { EventRing } from './ring-buffer.ts';

export const DEFAULT_REPLAY_WINDOW = 10_000;

export interface MemoryBusOptions {
  clock: Clock;
  /** Events kept per symbol for replay (default 10,000). */
  replayWindow?: number;
  logger?: Logger;
}

export function createMemoryBus(opts: MemoryBusOptions): Bus {
  const window = opts.replayWindow ?? DEFAULT_REPLAY_WINDOW;
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new TasaError('bad_argument', `Replay window must be a whole number >= 1, got ${window}.`, { input: String(window) });
  }
  return new MemoryBus(opts.clock, window, opts.logger ?? pino({ enabled: false }));
}

interface CachedValue {
  json: string;
  expiresAt: number;
}

class MemoryBus implements Bus {
  readonly kind = 'memory';
  private readonly rings = new Map<string, EventRing>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly latest = new Map<string, CachedValue>();
  private readonly topics = new Map<string, Set<BroadcastHandler>>();
  private readonly queue = new DeliveryQueue();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly window: number,
    private readonly logger: Logger,
  ) {}

  publish<C extends Channel>(channel: C, symbol: string, data: BusMessages[C]): Promise<ChannelEvent<C>> {
    return settle(() => {
      this.ensureOpen();
      checkChannel(channel);
      checkSymbol(symbol);
      const ring = this.ringOf(symbol);
      const event: ChannelEvent<C> = { seq: ring.nextSeq(), channel, symbol, time: this.clock.now(), data: JSON.parse(toJson(data, 'data')) as BusMessages[C] };
      // The same event among those of every channel (TypeScript does not relate a generic C to the union).
      const stored = event as BusEvent;
      ring.push(stored);
      for (const sub of this.subscriptions) {
        if (sub.wants(stored)) this.queue.push(() => sub.offerLive(stored));
      }
      return event;
    });
  }

  /** Nothing waits: publish is synchronous. */
  backlog(): PublishBacklog {
    return { pending: 0, dropped: 0, oldestAt: null };
  }

  /** Everything here is synchronous, so the replay and the registration cannot miss an event between them. */
  subscribe(symbol: string, handler: EventHandler, opts?: SubscribeOptions): Promise<Unsubscribe> {
    return settle(() => {
      this.ensureOpen();
      const checked = checkSubscription(symbol, opts);
      // The in-process bus never loses an event it numbered, so it has no gap to report.
      const sub = new Subscription(checked.symbol, handler, checked.channels, this.logger, { replaying: false });
      if (checked.symbol !== ALL_SYMBOLS) this.queueReplay(sub, checked.since);
      this.subscriptions.add(sub);
      return () => {
        sub.cancel();
        this.subscriptions.delete(sub);
        return Promise.resolve();
      };
    });
  }

  replay(symbol: string, since: number, limit?: number): Promise<ReplayResult> {
    return settle(() => {
      this.ensureOpen();
      return this.replayNow(checkSymbol(symbol), checkSeq(since), checkLimit(limit));
    });
  }

  lastSeq(symbol: string): Promise<number> {
    return settle(() => {
      this.ensureOpen();
      return this.rings.get(checkSymbol(symbol))?.lastSeq ?? 0;
    });
  }

  setLatest(key: string, value: unknown, ttlMs: number): Promise<void> {
    return settle(() => {
      this.ensureOpen();
      const json = toJson(value, 'value');
      this.latest.set(checkName(key, 'Cache key'), { json, expiresAt: this.clock.now() + checkTtl(ttlMs) });
    });
  }

  getLatest<T>(key: string): Promise<T | null> {
    return settle(() => {
      this.ensureOpen();
      const cached = this.latest.get(checkName(key, 'Cache key'));
      if (!cached) return null;
      if (this.clock.now() >= cached.expiresAt) {
        this.latest.delete(key);
        return null;
      }
      return JSON.parse(cached.json) as T;
    });
  }

  broadcast(topic: string, data: unknown): Promise<void> {
    return settle(() => {
      this.ensureOpen();
      const json = toJson(data, 'data');
      const handlers = this.topics.get(checkName(topic, 'Topic')) ?? new Set<BroadcastHandler>();
      for (const handler of handlers) {
        this.queue.push(() => {
          if (this.topics.get(topic)?.has(handler)) callIsolated(this.logger, () => handler(JSON.parse(json)), { topic });
        });
      }
    });
  }

  onBroadcast(topic: string, handler: BroadcastHandler): Promise<Unsubscribe> {
    return settle(() => {
      this.ensureOpen();
      const handlers = this.topics.get(checkName(topic, 'Topic')) ?? new Set<BroadcastHandler>();
      this.topics.set(topic, handlers.add(handler));
      return () => {
        handlers.delete(handler);
        return Promise.resolve();
      };
    });
  }

  close(): Promise<void> {
    this.closed = true;
    for (const sub of this.subscriptions) sub.cancel();
    this.subscriptions.clear();
    this.topics.clear();
    return Promise.resolve();
  }

  private queueReplay(sub: Subscription, since: number | undefined): void {
    const from = since ?? this.rings.get(sub.symbol)?.lastSeq ?? 0;
    const { events, complete } = this.replayNow(sub.symbol, from, Number.MAX_SAFE_INTEGER);
    if (!complete) throw new ReplayWindowExceededError(sub.symbol, from);
    sub.startAfter(sub.symbol, from);
    for (const e of events) this.queue.push(() => sub.offerReplayed(e));
  }

  private replayNow(symbol: string, since: number, limit: number): ReplayResult {
    const ring = this.rings.get(symbol);
    const events = ring?.after(since, limit) ?? [];
    return { events, complete: isReplayComplete(since, ring?.lastSeq ?? 0, events[0]?.seq) };
  }

  private ringOf(symbol: string): EventRing {
    let ring = this.rings.get(symbol);
    if (!ring) this.rings.set(symbol, (ring = new EventRing(this.window)));
    return ring;
  }

  private ensureOpen(): void {
    if (this.closed) throw new TasaError('internal', 'The bus is closed.', { hint: 'Create a new bus; close() is final.' });
  }
}
