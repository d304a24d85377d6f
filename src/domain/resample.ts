/**
 * 5-minute bars -> candles of a coarser interval, inside sessions only. Buckets are aligned to
 * the session open (08:00 Bogota), so an hour candle is 08:00-09:00, 09:00-10:00, ... and never
 * spans two sessions; `1day` is the whole session. Missing bars are not filled: a candle holds
 * the bars present, says how many, and is `complete` only when every bar of its bucket is there.
 * Pure: bars in, candles out.
 */
import { BAR_MS, type Bar, type Ohlc } from './bar.ts';
import type { MarketCalendar, Session } from './calendar.ts';

export const CANDLE_INTERVALS = ['5min', '15min', '30min', '1h', '1day'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];

/** 5-minute bars per bucket; `null` = the whole session. */
const BARS_PER_BUCKET: Record<CandleInterval, number | null> = { '5min': 1, '15min': 3, '30min': 6, '1h': 12, '1day': null };

export interface Candle extends Ohlc {
  /** Bucket open, epoch ms UTC. */
  time: number;
  /** The Bogota date of its session. */
  session: string;
  /** 5-minute bars present in the bucket. */
  bars: number;
  /** 5-minute bars the bucket holds when nothing is missing. */
  expected: number;
  complete: boolean;
}

export interface Bucket {
  open: number;
  /** Exclusive end. */
  end: number;
  session: Session;
}

/** The bucket holding `t`, or null outside every session. */
export function bucketAt(calendar: MarketCalendar, interval: CandleInterval, t: number): Bucket | null {
  const session = calendar.sessionAt(t);
  if (session === null) return null;
  const span = (BARS_PER_BUCKET[interval] ?? session.barCount) * BAR_MS;
  const open = session.open + Math.floor((t - session.open) / span) * span;
  return { open, end: Math.min(open + span, session.close), session };
}

/** 5-minute bars in a full bucket of this interval (a session's bar count for `1day`). */
export function barsPerBucket(interval: CandleInterval, barsPerSession: number): number {
  return BARS_PER_BUCKET[interval] ?? barsPerSession;
}

/**
 * Builds candles from bars fed in time order, one bucket at a time, so that a long range never
 * needs all its bars in memory. Bars outside every session are ignored (stored bars never are).
 */
export class CandleResampler {
  private bucket: Bucket | null = null;
  private candle: Candle | null = null;

  constructor(
    private readonly calendar: MarketCalendar,
    private readonly interval: CandleInterval,
  ) {}

  /** Adds a bar; returns the candle it closed (the previous bucket's), if any. */
  add(bar: Bar): Candle | null {
    if (this.bucket !== null && bar.time >= this.bucket.open && bar.time < this.bucket.end) {
      this.extend(bar);
      return null;
    }
    if (this.candle !== null && bar.time < this.candle.time) throw new RangeError(`Bars must come in time order: ${new Date(bar.time).toISOString()} after a later one.`);
    const bucket = bucketAt(this.calendar, this.interval, bar.time);
    if (bucket === null) return null;
    const closed = this.flush();
    this.bucket = bucket;
    const expected = (bucket.end - bucket.open) / BAR_MS;
    this.candle = { time: bucket.open, session: bucket.session.date, open: bar.open, high: bar.high, low: bar.low, close: bar.close, bars: 1, expected, complete: expected === 1 };
    return closed;
  }

  /** The candle being built (its bucket may still get bars), which is then forgotten. */
  flush(): Candle | null {
    const candle = this.candle;
    this.candle = null;
    this.bucket = null;
    return candle;
  }

  private extend(bar: Bar): void {
    const c = this.candle;
    if (c === null) return;
    c.high = Math.max(c.high, bar.high);
    c.low = Math.min(c.low, bar.low);
    c.close = bar.close;
    c.bars++;
    c.complete = c.bars >= c.expected;
  }
}

/** Candles of `bars` (in time order). */
export function resampleBars(calendar: MarketCalendar, interval: CandleInterval, bars: Iterable<Bar>): Candle[] {
  const resampler = new CandleResampler(calendar, interval);
  const candles: Candle[] = [];
  for (const bar of bars) {
    const closed = resampler.add(bar);
    if (closed) candles.push(closed);
  }
  const last = resampler.flush();
  if (last) candles.push(last);
  return candles;
}
