/** The latest-price cache (`latest:<symbol>`): the `ticks` message of the symbol's last tick, with a TTL. */
import type { LatestPrice } from '../contracts/bus-messages.ts';
import type { Bus } from './types.ts';

const latestPriceKey = (symbol: string) => `latest:${symbol}`;

export function cacheLatestPrice(bus: Pick<Bus, 'setLatest'>, price: LatestPrice, ttlMs: number): Promise<void> {
  return bus.setLatest(latestPriceKey(price.symbol), price, ttlMs);
}

/** Null when no tick came within the TTL. */
export function cachedLatestPrice(bus: Pick<Bus, 'getLatest'>, symbol: string): Promise<LatestPrice | null> {
  return bus.getLatest<LatestPrice>(latestPriceKey(symbol));
}
