/**
 * Candles for the chart API. Two ways to choose the range:
 * - with `from`: the first `limit` candles whose bucket opens in [from, to);
 * - without: the latest `limit` candles whose bucket opens before `to` (default now).
 * Every interval but `1min`: stored 5-minute bars streamed in time order through the session-
 * aligned resampler, so that memory holds candles, not bars. `1min`: stored ticks through the
 * minute builder (domain/minute-candles.ts), read in windows of the minutes still needed (forward
 * from `from`, or backwards from `to`), each found by an index probe for the next tick, so a
 * request never scans more ticks than its candles hold, whatever the range.
 */
import type { CandlestickInterval } from '../contracts/candle-intervals.ts';
import { barOpenTime } from '../domain/bar.ts';
import { FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR, type MarketCalendar, type Session } from '../domain/calendar.ts';
import { coversWholeSlot, minuteCandles, minuteOpenTime } from '../domain/minute-candles.ts';
import { CandleResampler, barsPerBucket, bucketAt, type Candle, type CandleInterval } from '../domain/resample.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { MINUTE_MS } from '../domain/time.ts';
import { barsBetween, nthBarTimeBefore, streamBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { firstTickTime, lastTickTimeBefore, ticksBetween } from '../store/ticks-repo.ts';

export interface CandleQuery {
  symbol: SymbolCode;
  interval: CandlestickInterval;
  from: number | null;
  /** Exclusive bound on bucket open times. */
  to: number;
  limit: number;
  /** The clock, for `complete` at 1min only (a minute not ended by now is not complete). */
  now: number;
}

export interface CandleResult {
  candles: Candle[];
  /** More candles exist in the range than `limit` let through. */
  truncated: boolean;
}

interface BarCandleQuery extends CandleQuery {
  interval: CandleInterval;
}

export async function loadCandles(db: Db, calendar: MarketCalendar, q: CandleQuery): Promise<CandleResult> {
  const { interval } = q;
  if (interval === '1min') return q.from === null ? latestMinuteCandles(db, calendar, q) : minuteCandlesFrom(db, calendar, q, q.from);
  const bq: BarCandleQuery = { ...q, interval };
  const barEnd = endOfBucketBefore(calendar, interval, q.to);
  return q.from === null ? latestCandles(db, calendar, bq, barEnd) : candlesFrom(db, calendar, bq, q.from, barEnd);
}

/** Bars are read up to the end of the bucket holding the last instant before `to`, so that bucket is whole. */
function endOfBucketBefore(calendar: MarketCalendar, interval: CandleInterval, to: number): number {
  return bucketAt(calendar, interval, to - 1)?.end ?? to;
}

async function candlesFrom(db: Db, calendar: MarketCalendar, q: BarCandleQuery, from: number, barEnd: number): Promise<CandleResult> {
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

async function latestCandles(db: Db, calendar: MarketCalendar, q: BarCandleQuery, barEnd: number): Promise<CandleResult> {
  // A candle holds at most `perBucket` bars, so the latest limit × perBucket bars span at least `limit` candles.
  const perBucket = barsPerBucket(q.interval, calendar.nominalBarCount());
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

/**
 * 1min reads ticks inside the calendar's years only, a month in from each end, so that stepping to
 * the previous or next session never leaves the calendar (a tick stamped outside it has no candle).
 */
const TICKS_START = Date.UTC(FIRST_CALENDAR_YEAR, 1, 1);
const TICKS_END = Date.UTC(LAST_CALENDAR_YEAR, 11, 1);

/** 1min: the ticks are read up to the end of the minute holding the last instant before `to`, so that minute is whole. */
function tickEndBefore(to: number): number {
  return minuteOpenTime(to - 1) + MINUTE_MS;
}

/** The 1-minute candles of the ticks in [start, end) (minute-aligned, inside `session`), with the slots' stored bars for `complete`. */
async function minuteCandlesIn(db: Db, calendar: MarketCalendar, q: CandleQuery, session: Session, start: number, end: number): Promise<Candle[]> {
  const lo = Math.max(start, session.open);
  const hi = Math.min(end, session.close);
  if (lo >= hi) return [];
  const [ticks, bars] = await Promise.all([ticksBetween(db, q.symbol, lo, hi), barsBetween(db, q.symbol, barOpenTime(lo), hi)]);
  return minuteCandles(calendar, ticks, { now: q.now, wholeSlots: new Set(bars.filter(coversWholeSlot).map((b) => b.time)) });
}

/** 1min with `from`: forward from the first tick at or after `from`, a window of the minutes still needed at a time, jumping over gaps and nights. */
async function minuteCandlesFrom(db: Db, calendar: MarketCalendar, q: CandleQuery, from: number): Promise<CandleResult> {
  const end = Math.min(tickEndBefore(q.to), TICKS_END);
  const candles: Candle[] = [];
  let cursor = Math.max(minuteOpenTime(from), TICKS_START);
  while (candles.length <= q.limit && cursor < end) {
    const next = await firstTickTime(db, q.symbol, cursor, end);
    if (next === null) break;
    const session = calendar.sessionAt(next);
    if (session === null) {
      cursor = calendar.nextSession(next).open; // after `next`: a tick outside every session makes no candle
      continue;
    }
    const start = minuteOpenTime(next);
    const stop = Math.min(end, session.close, start + (q.limit + 1 - candles.length) * MINUTE_MS);
    for (const c of await minuteCandlesIn(db, calendar, q, session, start, stop)) if (c.time >= from && c.time < q.to) candles.push(c);
    cursor = stop;
  }
  return { candles: candles.slice(0, q.limit), truncated: candles.length > q.limit };
}

/**
 * 1min without `from`: backwards from `to`, a window of the minutes still needed at a time (from
 * the latest tick before the window, so gaps and nights cost one index probe each), until `limit`
 * candles or no earlier tick; `truncated` when a tick inside a session is left before them.
 */
async function latestMinuteCandles(db: Db, calendar: MarketCalendar, q: CandleQuery): Promise<CandleResult> {
  const windows: Candle[][] = [];
  let count = 0;
  let cursor = Math.min(tickEndBefore(q.to), TICKS_END);
  let earlier = false;
  for (;;) {
    const last = await lastTickTimeBefore(db, q.symbol, cursor, TICKS_START);
    if (last === null) break;
    const session = calendar.sessionAt(last);
    if (session === null) {
      cursor = calendar.previousSession(last).close; // at or before `last`: a tick outside every session makes no candle
      continue;
    }
    if (count >= q.limit) {
      earlier = true;
      break;
    }
    const stop = minuteOpenTime(last) + MINUTE_MS;
    const start = Math.max(session.open, stop - (q.limit - count) * MINUTE_MS);
    const got = (await minuteCandlesIn(db, calendar, q, session, start, stop)).filter((c) => c.time < q.to);
    windows.unshift(got);
    count += got.length;
    cursor = start;
  }
  const candles = windows.flat();
  return { candles: candles.slice(-q.limit), truncated: candles.length > q.limit || earlier };
}
