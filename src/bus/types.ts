/**
 * The bus contract shared by both drivers (Redis and in-process). Every event on a symbol's
 * stream carries a per-symbol sequence number (1, 2, 3, ...) across all its channels, so a
 * WebSocket client can resume with `since` and detect a gap by the number alone.
 */
import type { BusMessages, Channel } from '../contracts/bus-messages.ts';
import { TasaError } from '../errors.ts';

export { CHANNELS, type BusMessages, type Channel } from '../contracts/bus-messages.ts';

/** Subscribes to every symbol, including symbols first published after the subscription. */
export const ALL_SYMBOLS = '*';

/** Events a replay returns at most when the caller gives no limit. */
export const DEFAULT_REPLAY_LIMIT = 10_000;

/** One event of a channel; its data is that channel's contract (contracts/bus-messages.ts). */
export interface ChannelEvent<C extends Channel> {
  seq: number;
  channel: C;
  symbol: string;
  /** Publish time, epoch ms, from the publisher's clock. */
  time: number;
  data: BusMessages[C];
}

/** An event of any channel: `switch (e.channel)` narrows `e.data`. */
export type BusEvent = { [C in Channel]: ChannelEvent<C> }[Channel];

export interface ReplayResult {
  /** Events after `since`, in seq order, at most `limit`; call again from the last seq for more. */
  events: BusEvent[];
  /** False when `since` is older than the replay window (or ahead of the stream): refetch over REST. */
  complete: boolean;
}

/** Called in seq order; the result is ignored. An async handler is not awaited (the next event does not wait for it); its rejection is logged like a throw. */
export type EventHandler = (e: BusEvent) => unknown;

export type BroadcastHandler = (data: unknown) => unknown;

export interface SubscribeOptions {
  /** Deliver events after this seq first (replay), then live ones. Single symbols only. */
  since?: number;
  /** Only these channels (default: all). */
  channels?: Channel[];
  /** Told when live delivery jumps over seqs that cannot be delivered (trimmed before they were read, or lost with Redis). */
  onGap?: GapHandler;
}

/**
 * Seqs `from..to` of `symbol` exist (or may have existed) but cannot be delivered: a subscriber
 * must refetch that stretch over REST. `afterTime` / `beforeTime` (epoch ms) are the publish times
 * of the events either side of the hole, when known, so that the refetch covers the right period.
 */
export interface SeqGap {
  symbol: string;
  from: number;
  to: number;
  afterTime: number | null;
  beforeTime: number | null;
}

export type GapHandler = (gap: SeqGap) => unknown;

/**
 * Where a bus keeps each symbol's seq floor outside Redis (PostgreSQL: store/bus-seq-repo.ts), so
 * that seqs continue after a Redis that restarted empty even when every process restarted too.
 * `save` never lowers a stored floor.
 */
export interface SeqFloorStore {
  load(symbol: string): Promise<number>;
  save(symbol: string, seq: number): Promise<void>;
}

/** The local publish buffer of a bus (events waiting for Redis), for health and metrics. */
export interface PublishBacklog {
  /** Events waiting to be published, in order. */
  pending: number;
  /** Events refused because the buffer was full, since the bus started. */
  dropped: number;
  /** Publish time (epoch ms) of the oldest waiting event, null when none waits. */
  oldestAt: number | null;
}

export type Unsubscribe = () => Promise<void>;

export interface Bus {
  readonly kind: 'redis' | 'memory';
  /**
   * Appends to the symbol's stream with the next per-symbol sequence number (shared by every
   * process through Redis). While Redis is unreachable the event waits, in order, in a bounded
   * local buffer, and the promise resolves once it is published with its seq; it rejects only
   * for a bad argument, a closed bus, or a full buffer (then the event has no seq and the
   * readers are told of the hole: see SeqGap).
   */
  publish<C extends Channel>(channel: C, symbol: string, data: BusMessages[C]): Promise<ChannelEvent<C>>;
  /** Events waiting in the local publish buffer (always empty on the in-process bus). */
  backlog(): PublishBacklog;
  /**
   * Live events of a symbol (or '*' for all symbols), in seq order, optionally starting after
   * `since` (replayed first, then live, without gap or duplicate). Rejects with
   * ReplayWindowExceededError when `since` is no longer in the replay window.
   */
  subscribe(symbol: string, handler: EventHandler, opts?: SubscribeOptions): Promise<Unsubscribe>;
  replay(symbol: string, since: number, limit?: number): Promise<ReplayResult>;
  /** The seq of the symbol's latest event, 0 when it has none. */
  lastSeq(symbol: string): Promise<number>;
  /** Latest-value cache (latest price, session stats): JSON values with a TTL. */
  setLatest(key: string, value: unknown, ttlMs: number): Promise<void>;
  getLatest<T>(key: string): Promise<T | null>;
  /** Fire-and-forget broadcast without sequence or replay (process status, lifecycle). */
  broadcast(topic: string, data: unknown): Promise<void>;
  onBroadcast(topic: string, handler: BroadcastHandler): Promise<Unsubscribe>;
  close(): Promise<void>;
}

/** `since` is older than what the bus keeps (or ahead of the stream): the caller must refetch over REST. */
export class ReplayWindowExceededError extends TasaError {
  constructor(
    readonly symbol: string,
    readonly since: number,
  ) {
    super('not_found', `Events of ${symbol} after seq ${since} are outside the replay window (it keeps the latest events only; a seq ahead of the stream is outside too).`, {
      input: `since=${since}`,
      hint: 'Refetch the history over REST, then subscribe from its latest seq.',
    });
    this.name = 'ReplayWindowExceededError';
  }
}
