/**
 * TwelveData's intervals and their buckets. Intraday buckets sit on the UTC grid (the exchange zone
 * of forex); 1day is the UTC day, 1week starts on Monday, 1month on the 1st.
 */
import { DAY_MS, MINUTE_MS } from '../../domain/time.ts';

/** The documented list, in the order of the 400 message. */
export const SUPPORTED_INTERVALS = ['1min', '5min', '15min', '30min', '45min', '1h', '2h', '4h', '8h', '1day', '1week', '1month'] as const;
export type Interval = (typeof SUPPORTED_INTERVALS)[number];

const INTRADAY_MINUTES: Partial<Record<Interval, number>> = {
  '1min': 1,
  '5min': 5,
  '15min': 15,
  '30min': 30,
  '45min': 45,
  '1h': 60,
  '2h': 120,
  '4h': 240,
  '8h': 480,
};

export function parseInterval(text: string): Interval | null {
  return (SUPPORTED_INTERVALS as readonly string[]).includes(text) ? (text as Interval) : null;
}

/** 1day, 1week, 1month: datetime is a date and the timezone parameter is ignored. */
export function isDailyOrLonger(interval: Interval): boolean {
  return INTRADAY_MINUTES[interval] === undefined;
}

/** Start of the bucket holding `t`. */
export function bucketStart(interval: Interval, t: number): number {
  const minutes = INTRADAY_MINUTES[interval];
  if (minutes !== undefined) return Math.floor(t / (minutes * MINUTE_MS)) * minutes * MINUTE_MS;
  const day = Math.floor(t / DAY_MS) * DAY_MS;
  if (interval === '1day') return day;
  if (interval === '1week') return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
  const date = new Date(day);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** End (exclusive) of the bucket starting at `start`. */
export function bucketEnd(interval: Interval, start: number): number {
  const minutes = INTRADAY_MINUTES[interval];
  if (minutes !== undefined) return start + minutes * MINUTE_MS;
  if (interval === '1day') return start + DAY_MS;
  if (interval === '1week') return start + 7 * DAY_MS;
  const date = new Date(start);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** Start of the bucket just before the one starting at `start`. */
export function previousBucketStart(interval: Interval, start: number): number {
  return bucketStart(interval, start - 1);
}
