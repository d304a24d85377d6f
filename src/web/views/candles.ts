/**
 * The candlesticks API's answer (GET /api/candlesticks/{symbol}, src/contracts/api/candles.ts) as
 * chart candles, its indicators (GET /api/candlesticks/{symbol}/indicators) by candle time, and the small time rules the terminal needs on the client: which bucket a
 * 5-minute bar falls in, how live 5-minute bars fold into a 15-minute, hourly or daily candle, and
 * how live ticks move the forming 1-minute candle. Session hours and dates are the instrument's
 * (`SessionRules` from GET /api/instruments), in its market's zone.
 */
import type { CandlesResponse } from '../../contracts/api/candles.ts';
import type { CandleIndicatorsResponse } from '../../contracts/api/desk.ts';
import { INDICATOR_KEYS, leastTrusted, sourceKindOf, type Candle, type IndicatorKey, type IndicatorSeries, type IndicatorValues } from '../candle-types.ts';
import { zonedMinute } from '../format.ts';
import { addDays, isoWeekday, sessionDateOf, sessionOpenOn, type SessionRules } from '../market-time.ts';
import type { CandlestickInterval } from '../../contracts/candle-intervals.ts';

/** The API's intervals the terminal offers (all but 30min). */
export type Interval = Exclude<CandlestickInterval, '30min'>;

export const INTERVALS: ReadonlyArray<{ value: Interval; label: string }> = [
  { value: '1min', label: '1m' },
  { value: '5min', label: '5m' },
  { value: '15min', label: '15m' },
  { value: '1h', label: '1h' },
  { value: '4h', label: '4h' },
  { value: '1day', label: '1d' },
  { value: '1w', label: '1w' },
];

/** Intervals of whole sessions or weeks: one candle per trading day or market week. */
export function isDailyOrLonger(interval: Interval): boolean {
  return interval === '1day' || interval === '1w';
}

const MINUTES: Record<Exclude<Interval, '1day' | '1w'>, number> = { '1min': 1, '5min': 5, '15min': 15, '1h': 60, '4h': 240 };
export function candlesFrom(r: CandlesResponse, rules: SessionRules): Candle[] {
  return r.candles.map((c) => {
    const time = Date.parse(c.time);
    // Every bar of the bucket is there yet it is not complete: one of them is partial.
    const partial = !c.complete && c.bars >= c.expected;
    return { time, open: c.open, high: c.high, low: c.low, close: c.close, session: sessionDateOf(rules, time), simulated: c.simulated, source: sourceKindOf(c.sources, partial) };
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

/**
 * Open time of the bucket holding `ms`: intraday buckets count from the session open (USD/COP 4h:
 * 08:00-12:00, 12:00-13:00 Bogota); the session open for daily candles; for weekly ones the Monday
 * session open of its week (the server's candle opens at the week's first session: later when
 * Monday is a holiday, so weekly candles are matched by this key, not by equal times).
 */
export function bucketStart(ms: number, interval: Interval, rules: SessionRules): number {
  const date = sessionDateOf(rules, ms);
  if (interval === '1w') return sessionOpenOn(rules, addDays(date, 1 - isoWeekday(date)));
  const sessionOpen = sessionOpenOn(rules, date);
  if (interval === '1day') return sessionOpen;
  const size = MINUTES[interval] * 60_000;
  return sessionOpen + Math.floor((ms - sessionOpen) / size) * size;
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

/**
 * The 1-minute candle after a live tick (price at exchange time `at`): the tick's minute candle so
 * far (`current`: the live one, else the stored one) with the tick's price folded in, or a new
 * candle opening at it. As the server does: a candle of the other provenance (real vs simulated)
 * is not extended, the tick opens its own (a split minute's part opens at its first tick).
 */
export function foldTick(current: Candle | undefined, price: number, at: number, simulated: boolean, rules: SessionRules): Candle {
  const minute = bucketStart(at, '1min', rules);
  const same = current !== undefined && bucketStart(current.time, '1min', rules) === minute;
  if (same && current.simulated === simulated) return { ...current, high: Math.max(current.high, price), low: Math.min(current.low, price), close: price };
  const time = same ? Math.max(at, current.time + 1) : minute;
  return { time, open: price, high: price, low: price, close: price, session: sessionDateOf(rules, at), simulated, source: simulated ? 'simulated' : 'vendor' };
}

/** The answer's `ticksFrom` (1min only) as epoch ms: null when no tick is stored, undefined when not said. */
export function ticksFromOf(r: Pick<CandlesResponse, 'ticksFrom'>): number | null | undefined {
  if (r.ticksFrom === undefined || r.ticksFrom === null) return r.ticksFrom;
  const ms = Date.parse(r.ticksFrom);
  return Number.isNaN(ms) ? undefined : ms;
}

/** What the 1-minute chart says about where its candles can exist: only where ticks are stored (`ticksFrom`: the oldest, epoch ms). */
export function minuteCoverageText(ticksFrom: number | null | undefined, zone: string): string {
  if (ticksFrom === undefined) return '1-minute candles are built from stored ticks and exist only where ticks are stored';
  if (ticksFrom === null) return 'No ticks are stored: 1-minute candles exist only where ticks are stored (imported history has bars only)';
  return `1-minute candles exist only where ticks are stored: since ${zonedMinute(zone, ticksFrom)}`;
}
