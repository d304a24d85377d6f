/**
 * The bus: per-symbol event streams with sequence numbers and a replay window, a latest-value
 * cache and broadcast. Redis when a URL is given (shared by every process), in-process otherwise.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { createMemoryBus } from './memory/memory-bus.ts';
import { createRedisBus } from './redis/redis-bus.ts';
import type { Bus, SeqFloorStore } from './types.ts';

export * from './types.ts';
export { cacheLatestPrice, cachedLatestPrice } from './latest-price.ts';
export { createMemoryBus, DEFAULT_REPLAY_WINDOW, type MemoryBusOptions } from './memory/memory-bus.ts';
export { createRedisBus, DEFAULT_KEY_PREFIX, DEFAULT_MAX_LEN, type RedisBusOptions } from './redis/redis-bus.ts';

export interface CreateBusOptions {
  redisUrl?: string;
  clock: Clock;
  logger?: Logger;
  /** Redis only: events kept while Redis is unreachable (see RedisBusOptions). */
  publishBuffer?: number;
  /** Redis only: the seq floors outside Redis (PostgreSQL). */
  seqFloors?: SeqFloorStore;
}

export async function createBus(opts: CreateBusOptions): Promise<Bus> {
  if (opts.redisUrl !== undefined && opts.redisUrl !== '') {
    return createRedisBus({ url: opts.redisUrl, clock: opts.clock, logger: opts.logger, publishBuffer: opts.publishBuffer, seqFloors: opts.seqFloors });
  }
  return createMemoryBus({ clock: opts.clock, logger: opts.logger });
}
