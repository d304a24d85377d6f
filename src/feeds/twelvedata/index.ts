/** TwelveData clients: the WebSocket price stream, the REST client and the API key pool. */
export { TwelveDataStream, DEFAULT_WS_URL, type TwelveDataStreamOptions } from './ws-client.ts';
export type { FeedEvent, TickEvent, StatusEvent, SubscriptionEvent, ProblemEvent, ProblemKind, FeedState } from '../feed-events.ts';
export type { StreamStats } from './stream-stats.ts';
export { parsePriceFrame, parseFrame, isProblem, type ParsedFrame, type ServerMessage } from './price-frame.ts';
export { TwelveDataRest, DEFAULT_REST_URL, type TwelveDataRestOptions, type TimeSeriesQuery, type Quote, type PriceQuote } from './rest-client.ts';
export { MAX_OUTPUTSIZE, type RestBar, type TimeSeriesPage, type TimeSeriesResult, type RejectedRow, type IntradayInterval } from './time-series.ts';
export { TwelveDataError, type TwelveDataErrorKind } from './td-errors.ts';
export { KeyPool, KeyLease, DEFAULT_PLAN, MAX_NUMBERED_KEYS, type CreditPlan, type KeyStatus, type KeyHealth, type KeyPoolOptions } from './key-pool.ts';
export { DbKeyStore, MemoryKeyStore, type KeyStore } from './key-store.ts';
export { apiKeyId } from './key-id.ts';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
