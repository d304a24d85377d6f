/**
 * The one interface every live source offers (TwelveData's WebSocket, the simulator through it):
 * an async iterator of events, tardis-style, so consumers don't care which source it is.
 * Events: ticks, connection states, subscription results and problems.
 */
import type { Tick } from '../domain/tick.ts';

export type FeedState = 'connecting' | 'connected' | 'subscribed' | 'disconnected' | 'reconnecting' | 'stopped';

export type ProblemKind =
  /** Not JSON, not a JSON object, or a binary frame. */
  | 'malformed_frame'
  /** An event name the client does not know, or an object without one. */
  | 'unknown_event'
  /** A price event without a usable symbol or price. */
  | 'bad_price'
  /** A price event without a usable exchange timestamp. */
  | 'bad_timestamp'
  /** The upgrade was refused with 401/403: the key is bad. */
  | 'auth_failed'
  /** The server answered a subscribe with an error. */
  | 'subscribe_error'
  /** Any other `status: "error"` event from the server. */
  | 'server_error'
  /** The consumer fell behind: the oldest queued events were dropped. */
  | 'queue_overflow';

export interface TickEvent {
  type: 'tick';
  tick: Tick;
}

export interface StatusEvent {
  type: 'status';
  state: FeedState;
  detail?: string;
  /** Consecutive failed connection attempts so far (connecting, reconnecting). */
  attempt?: number;
  /** Backoff before the next attempt (reconnecting). */
  delayMs?: number;
  /** Short hash of the key in use (connecting). */
  keyId?: string;
  /**
   * (disconnected) Up to when the connection is known to have delivered every price: its last
   * frame, but no later than its last price's own time. Prices stamped after that may have been
   * printed and lost; the outage counts from here.
   */
  deliveredUntil?: number;
}

/**
 * The socket stayed open but carried nothing, not even heartbeat replies, over [from, to): a
 * stall that ended before the silence timeout closed the socket. Ticks of that span may be lost.
 * `from` is no later than the last price's own time, as `deliveredUntil` is.
 */
export interface SilenceEvent {
  type: 'silence';
  from: number;
  to: number;
}

export interface SubscriptionEvent {
  type: 'subscription';
  success: string[];
  failed: string[];
}

export interface ProblemEvent {
  type: 'problem';
  kind: ProblemKind;
  detail: string;
}

export type FeedEvent = TickEvent | StatusEvent | SilenceEvent | SubscriptionEvent | ProblemEvent;

export function problem(kind: ProblemKind, detail: string): ProblemEvent {
  return { type: 'problem', kind, detail };
}

export interface LiveFeed {
  /** The events until the feed stops; one consumer. */
  events(): AsyncIterable<FeedEvent>;
  /**
   * Adds symbols to the tracked set on the live connection (a market opened), without
   * reconnecting; a later reconnection subscribes to the whole tracked set again.
   */
  subscribe(symbols: readonly string[]): void;
  /** Removes symbols from the tracked set on the live connection (a market closed). */
  unsubscribe(symbols: readonly string[]): void;
  /** Stops the feed and ends the iteration. */
  close(): Promise<void>;
}
