/**
 * Bars of any interval as they stand at a given instant, all built from the same slots and ticks
 * the live stream sends: 1min bars from the ticks, 5min bars are the slots (which equal the
 * aggregate of their ticks), longer bars aggregate 5min bars. The slot in progress only shows the
 * ticks already printed (time <= now), like the real feed's forming bar; nothing in the future shows.
 */
import { BAR_MS, type Ohlc } from '../../domain/bar.ts';
import { DAY_MS, MINUTE_MS } from '../../domain/time.ts';
import { bucketEnd, bucketStart, previousBucketStart, type Interval } from './intervals.ts';
import type { SimTick, TickPath } from './tick-path.ts';

export interface TimedBar extends Ohlc {
  /** Bucket open, epoch ms UTC. */
  time: number;
}

export interface BarQuery {
  interval: Interval;
  /** Inclusive lower bound on the bar open time. */
  from: number;
  /** Exclusive upper bound on the bar open time. */
  to: number;
  /** At most this many bars, the newest ones. */
  limit: number;
  now: number;
}

export class PriceHistory {
  /** Complete UTC days' OHLC (null: no trading), so daily, weekly and monthly bars stay cheap. */
  private readonly completeDays = new Map<number, Ohlc | null>();

  constructor(readonly ticks: TickPath) {}

  /** Newest first. */
  bars(q: BarQuery): TimedBar[] {
    const out: TimedBar[] = [];
    const source = this.ticks.source;
    const lowest = Math.max(q.from, bucketStart(q.interval, source.earliest));
    const newestOpen = Math.min(q.to - 1, q.now, source.latest - 1);
    for (let start = bucketStart(q.interval, newestOpen); start >= lowest && out.length < q.limit; start = previousBucketStart(q.interval, start)) {
      const bar = this.bucket(q.interval, start, q.now);
      if (bar !== null) out.push({ time: start, ...bar });
    }
    return out;
  }

  /** The latest tick printed at or before `now`, searching back at most `lookbackMs`. */
  lastTick(now: number, lookbackMs = 7 * DAY_MS): SimTick | null {
    const floor = Math.max(now - lookbackMs, this.ticks.source.earliest);
    for (let slot = Math.floor(now / BAR_MS) * BAR_MS; slot >= floor - BAR_MS; slot -= BAR_MS) {
      const ticks = this.ticks.ticksInSlot(slot);
      for (let i = ticks.length - 1; i >= 0; i--) {
        const tick = ticks[i] as SimTick;
        if (tick.time <= now) return tick;
      }
    }
    return null;
  }

  private bucket(interval: Interval, start: number, now: number): Ohlc | null {
    if (interval === '1min') return aggregateTicks(this.ticks.ticksInSlot(Math.floor(start / BAR_MS) * BAR_MS), start, start + MINUTE_MS, now);
    if (interval === '1day' || interval === '1week' || interval === '1month') return this.dailyBucket(start, bucketEnd(interval, start), now);
    return this.slotsBetween(start, bucketEnd(interval, start), now);
  }

  private dailyBucket(start: number, end: number, now: number): Ohlc | null {
    const days: Array<Ohlc | null> = [];
    for (let day = start; day < end && day <= now; day += DAY_MS) days.push(this.day(day, now));
    return merge(days);
  }

  private day(day: number, now: number): Ohlc | null {
    const complete = day + DAY_MS <= now;
    if (complete && this.completeDays.has(day)) return this.completeDays.get(day) ?? null;
    const bar = this.slotsBetween(day, day + DAY_MS, now);
    if (complete) this.completeDays.set(day, bar);
    return bar;
  }

  private slotsBetween(start: number, end: number, now: number): Ohlc | null {
    const slots: Array<Ohlc | null> = [];
    for (let slot = start; slot < end && slot <= now; slot += BAR_MS) slots.push(this.slot(slot, now));
    return merge(slots);
  }

  /** A finished slot is its bar; the slot in progress is the aggregate of the ticks printed so far. */
  private slot(slotOpen: number, now: number): Ohlc | null {
    if (slotOpen + BAR_MS <= now) return this.ticks.source.slotOhlc(slotOpen);
    return aggregateTicks(this.ticks.ticksInSlot(slotOpen), slotOpen, slotOpen + BAR_MS, now);
  }
}

/** OHLC of the ticks with from <= time < to and time <= now, or null when there are none. */
export function aggregateTicks(ticks: readonly SimTick[], from: number, to: number, now: number): Ohlc | null {
  let bar: Ohlc | null = null;
  for (const tick of ticks) {
    if (tick.time < from || tick.time >= to || tick.time > now) continue;
    if (bar === null) bar = { open: tick.price, high: tick.price, low: tick.price, close: tick.price };
    else {
      bar.high = Math.max(bar.high, tick.price);
      bar.low = Math.min(bar.low, tick.price);
      bar.close = tick.price;
    }
  }
  return bar;
}

/** Consecutive bars (nulls skipped) into one. */
function merge(parts: ReadonlyArray<Ohlc | null>): Ohlc | null {
  let bar: Ohlc | null = null;
  for (const part of parts) {
    if (part === null) continue;
    if (bar === null) bar = { ...part };
    else {
      bar.high = Math.max(bar.high, part.high);
      bar.low = Math.min(bar.low, part.low);
      bar.close = part.close;
    }
  }
  return bar;
}
