/**
 * The one interface every live source offers (TwelveData's WebSocket, the simulator through it,
 * a replay): an async iterator of events, tardis-style, so consumers don't care which it is.
 */
import type { Tick } from '../domain/tick.ts';

export type FeedState = 'connecting' | 'connected' | 'subscribed' | 'disconnected' | 'reconnecting' | 'stopped';

export type FeedEvent =
  | { type: 'tick'; tick: Tick }
  | { type: 'status'; state: FeedState; detail?: string; attempt?: number }
  | { type: 'subscription'; success: string[]; failed: string[] }
  | { type: 'problem'; kind: string; detail: string };

export interface LiveFeed {
  events(): AsyncIterable<FeedEvent>;
  close(): Promise<void>;
}
