/** The candlesticks API's shapes and the small time rules the terminal needs on the client. */
import type { Candle, IndicatorSeries } from '../components/candle-chart.tsx';

export type Interval = '5min' | '15min' | '1h' | '1day';

export const INTERVALS: ReadonlyArray<{ value: Interval; label: string }> = [
  { value: '5min', label: '5m' },
  { value: '15min', label: '15m' },
  { value: '1h', label: '1h' },
  { value: '1day', label: '1d' },
];

const MINUTES: Record<Exclude<Interval, '1day'>, number> = { '5min': 5, '15min': 15, '1h': 60 };
/** Sessions open at 08:00 Bogota = 13:00Z; every intraday bucket divides the hour, so the UTC grid aligns with the open. */
const SESSION_OPEN_UTC_HOUR = 13;

export interface CandlesResponse {
  candles: Array<{ time: string; open: number; high: number; low: number; close: number }>;
  indicators?: Record<string, Array<number | null>>;
}

export function candlesFrom(r: CandlesResponse): Candle[] {
  return r.candles.map((c) => {
    const time = Date.parse(c.time);
    return { time, open: c.open, high: c.high, low: c.low, close: c.close, session: new Date(time - 5 * 3_600_000).toISOString().slice(0, 10) };
  });
}

export function indicatorsFrom(r: CandlesResponse): IndicatorSeries | null {
  return r.indicators ?? null;
}

export function bucketStart(ms: number, interval: Interval): number {
  if (interval === '1day') {
    const day = new Date(ms - 5 * 3_600_000).toISOString().slice(0, 10);
    return Date.parse(`${day}T${SESSION_OPEN_UTC_HOUR}:00:00Z`);
  }
  const size = MINUTES[interval] * 60_000;
  return Math.floor(ms / size) * size;
}
