/**
 * Candles for the chart API: stored 5-minute bars streamed in time order through the session-
 * aligned resampler, so that memory holds candles, not bars. Two ways to choose the range:
 * - with `from`: the first `limit` candles whose bucket opens in [from, to);
 * - without: the latest `limit` candles whose bucket opens before `to` (default now).
 */
import type { Bar } from '../domain/bar.ts';
import { BARS_PER_SESSION, type MarketCalendar } from '../domain/calendar.ts';
import { CandleResampler, barsPerBucket, bucketAt, type Candle, type CandleInterval } from '../domain/resample.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { barsBetween, nthBarTimeBefore, streamBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';

export interface CandleQuery {
  symbol: SymbolCode;
  interval: CandleInterval;
  from: number | null;
  /** Exclusive bound on bucket open times. */
  to: number;
  limit: number;
}

export interface CandleResult {
  candles: Candle[];
  /** More candles exist in the range than `limit` let through. */
  truncated: boolean;
}

export async function loadCandles(db: Db, calendar: MarketCalendar, q: CandleQuery): Promise<CandleResult> {
  const barEnd = endOfBucketBefore(calendar, q.interval, q.to);
  return q.from === null ? latestCandles(db, calendar, q, barEnd) : candlesFrom(db, calendar, q, q.from, barEnd);
}

/** Bars are read up to the end of the bucket holding the last instant before `to`, so that bucket is whole. */
function endOfBucketBefore(calendar: MarketCalendar, interval: CandleInterval, to: number): number {
  return bucketAt(calendar, interval, to - 1)?.end ?? to;
}

async function candlesFrom(db: Db, calendar: MarketCalendar, q: CandleQuery, from: number, barEnd: number): Promise<CandleResult> {
  const candles: Candle[] = [];
  const keep = (c: Candle | null): boolean => {
    if (c !== null && c.time >= from && c.time < q.to) candles.push(c);
    return candles.length > q.limit;
  };
  const resampler = new CandleResampler(calendar, q.interval);
  let full = false;
  outer: for await (const page of streamBars(db, q.symbol, from, barEnd)) {
    for (const bar of page) {
      if ((full = keep(resampler.add(bar)))) break outer;
    }
  }
  if (!full) keep(resampler.flush());
  return { candles: candles.slice(0, q.limit), truncated: candles.length > q.limit };
}

async function latestCandles(db: Db, calendar: MarketCalendar, q: CandleQuery, barEnd: number): Promise<CandleResult> {
  // A candle holds at most `perBucket` bars, so the latest limit × perBucket bars span at least `limit` candles.
  const perBucket = barsPerBucket(q.interval, BARS_PER_SESSION);
  const earliest = await nthBarTimeBefore(db, q.symbol, barEnd, q.limit * perBucket);
  const start = earliest === null ? 0 : (bucketAt(calendar, q.interval, earliest)?.open ?? earliest);
  const candles: Candle[] = [];
  const resampler = new CandleResampler(calendar, q.interval);
  const keep = (c: Candle | null): void => {
    if (c !== null && c.time < q.to) candles.push(c);
  };
  for await (const page of streamBars(db, q.symbol, start, barEnd)) for (const bar of page) keep(resampler.add(bar));
  keep(resampler.flush());
  const earlier = earliest !== null && (await nthBarTimeBefore(db, q.symbol, start, 1)) !== null;
  return { candles: candles.slice(-q.limit), truncated: candles.length > q.limit || earlier };
}

/** The `count` stored bars before `before` (fewer when fewer exist), in time order: indicator warm-up. */
export async function barsBefore(db: Db, symbol: SymbolCode, before: number, count: number): Promise<Bar[]> {
  if (count <= 0) return [];
  const first = await nthBarTimeBefore(db, symbol, before, count);
  return barsBetween(db, symbol, first ?? 0, before);
}
