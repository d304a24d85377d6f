/**
 * The candlesticks API's answer (GET /api/candlesticks/{symbol}, src/contracts/api/candles.ts) as
 * chart candles, its indicators (GET /api/candlesticks/{symbol}/indicators) by candle time, and the small time rules the terminal needs on the client: which bucket a
 * 5-minute bar falls in, and how live 5-minute bars fold into a 15-minute, hourly or daily candle.
 */
import type { CandlesResponse } from '../../contracts/api/candles.ts';
import type { CandleIndicatorsResponse } from '../../contracts/api/desk.ts';
import { INDICATOR_KEYS, leastTrusted, sourceKindOf, type Candle, type IndicatorKey, type IndicatorSeries, type IndicatorValues } from '../candle-types.ts';
import { bogotaDateOf } from '../format.ts';

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

export function candlesFrom(r: CandlesResponse): Candle[] {
  return r.candles.map((c) => {
    const time = Date.parse(c.time);
    // Every bar of the bucket is there yet it is not complete: one of them is partial.
    const partial = !c.complete && c.bars >= c.expected;
    return { time, open: c.open, high: c.high, low: c.low, close: c.close, session: bogotaDateOf(time), simulated: c.simulated, source: sourceKindOf(c.sources, partial) };
  });
}

export const INDICATOR_QUERY = INDICATOR_KEYS.join(',');

/** The indicator answer as values by candle time (epoch ms). */
export function indicatorsByTime(r: CandleIndicatorsResponse): Map<number, IndicatorValues> {
  const out = new Map<number, IndicatorValues>();
  r.times.forEach((iso, i) => {
    const values: IndicatorValues = {};
    for (const key of INDICATOR_KEYS) values[key] = r.values[key]?.[i] ?? null;
    out.set(Date.parse(iso), values);
  });
  return out;
}

/** One array per indicator aligned with `candles`; null when none is known for any of them. */
export function indicatorSeries(candles: readonly Candle[], byTime: ReadonlyMap<number, IndicatorValues>): IndicatorSeries | null {
  if (!candles.some((k) => byTime.has(k.time))) return null;
  const out: IndicatorSeries = {};
  for (const key of INDICATOR_KEYS) out[key] = candles.map((k) => byTime.get(k.time)?.[key] ?? null);
  return out;
}

export const INDICATOR_LABELS: Record<IndicatorKey, string> = {
  ema20: 'EMA 20',
  ema50: 'EMA 50',
  bbUpper: 'BB up',
  bbMiddle: 'BB mid',
  bbLower: 'BB low',
  rsi14: 'RSI 14',
  macd: 'MACD',
  macdSignal: 'signal',
  macdHistogram: 'hist',
};

/** Open time of the bucket holding `ms` (the session open for daily candles). */
export function bucketStart(ms: number, interval: Interval): number {
  if (interval === '1day') return Date.parse(`${bogotaDateOf(ms)}T${SESSION_OPEN_UTC_HOUR}:00:00Z`);
  const size = MINUTES[interval] * 60_000;
  return Math.floor(ms / size) * size;
}

/**
 * The candle of one bucket from the stored candle (the bucket's latest, if the history had it) and
 * the live 5-minute bars received for it since. High and low take every bar; the open is the
 * stored one when there is one; the close is the latest live bar's. A stored candle of the other
 * provenance (real vs simulated) is not extended: the live bars make their own candle from their
 * first bar, as the server splits such a bucket.
 */
export function foldBucket(start: number, stored: Candle | undefined, live: readonly Candle[]): Candle | null {
  const bars = [...live].sort((a, b) => a.time - b.time);
  const first = bars[0];
  const last = bars.at(-1);
  if (first === undefined || last === undefined) return stored ?? null;
  const base = stored?.simulated === first.simulated ? stored : undefined;
  return {
    time: base?.time ?? (stored === undefined ? start : first.time),
    open: base?.open ?? first.open,
    high: Math.max(base?.high ?? -Infinity, ...bars.map((b) => b.high)),
    low: Math.min(base?.low ?? Infinity, ...bars.map((b) => b.low)),
    close: last.close,
    session: first.session,
    simulated: first.simulated,
    source: leastTrusted([...(base ? [base.source] : []), ...bars.map((b) => b.source)]),
  };
}
