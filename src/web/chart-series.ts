/**
 * The chart's series data, pure (no DOM; the chart library's types only): candles with an empty
 * slot for every missing bucket, a break wherever the provenance changes and wherever whole
 * sessions are missing (a data hole: labelled with the sessions it lacks), and the source strip
 * under the candles (a colour per source kind). Simulated prices
 * (the built-in simulator's) are never drawn as one series with real history: an empty slot
 * separates the two, the simulated candles get their own colours, and a marker names each part.
 */
import type { CandlestickData, HistogramData, LineData, SeriesMarker, Time, UTCTimestamp, WhitespaceData } from 'lightweight-charts';
import { SOURCE_KINDS, type Candle, type SourceKind } from './candle-types.ts';

export type CandlePoint = CandlestickData<Time> | WhitespaceData<Time>;

/** Muted colours for simulated candles, unlike the real ones' green and red. */
export const SIMULATED_COLORS = { up: '#7d8fb3', down: '#b38d7d' } as const;

/** The source strip's colours (the legend under the chart uses them too). */
export const SOURCE_COLORS: Record<SourceKind, string> = { vendor: '#26a69a', backfilled: '#58a6ff', imported: '#8b949e', simulated: '#d29922', partial: '#f85149' };

export const seconds = (ms: number): UTCTimestamp => Math.floor(ms / 1000) as UTCTimestamp;

/** One candle as the library draws it: simulated ones in their own colours. */
export function candlePoint(k: Candle): CandlestickData<Time> {
  const point: CandlestickData<Time> = { time: seconds(k.time), open: k.open, high: k.high, low: k.low, close: k.close };
  if (!k.simulated) return point;
  const color = k.close >= k.open ? SIMULATED_COLORS.up : SIMULATED_COLORS.down;
  return { ...point, color, wickColor: color, borderColor: color };
}

/** A change of provenance between two adjacent candles. */
export function isBreak(previous: Candle | undefined, k: Candle): boolean {
  return previous !== undefined && previous.simulated !== k.simulated;
}

/** A whitespace time strictly between two points (candles sit on a 5-minute grid, so there is room). */
function between(fromMs: number, toMs: number): UTCTimestamp {
  return seconds(fromMs + (toMs - fromMs) / 2);
}

export interface SeriesPoints {
  points: CandlePoint[];
  /** Empty slots inserted where the provenance changes. */
  breaks: number;
  /** Data holes: an empty slot where whole sessions are missing, at the candle after it. */
  holes: Array<{ time: number; sessions: number }>;
}

/** Trading sessions (dates in the market's zone, sorted) strictly between two session dates. */
export function sessionsBetween(tradingDays: readonly string[], after: string, before: string): number {
  const firstAfter = lowerBound(tradingDays, after, true);
  const firstAtOrAfterBefore = lowerBound(tradingDays, before, false);
  return Math.max(0, firstAtOrAfterBefore - firstAfter);
}

/** Index of the first element > value (strict) or >= value. */
function lowerBound(sorted: readonly string[], value: string, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = sorted[mid]!;
    if (strict ? x <= value : x < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The candles with an empty slot for every missing bucket inside a session, one at every change of
 * provenance, and one where whole sessions of the calendar (`tradingDays`) have no candle.
 */
export function candlePoints(candles: readonly Candle[], stepMs: number | null, tradingDays: readonly string[] = []): SeriesPoints {
  const points: CandlePoint[] = [];
  const holes: SeriesPoints['holes'] = [];
  let breaks = 0;
  let previous: Candle | undefined;
  let lastMs = -Infinity;
  for (const k of candles) {
    if (stepMs !== null && previous !== undefined && previous.session === k.session) {
      for (let t = previous.time + stepMs; t < k.time; t += stepMs) {
        points.push({ time: seconds(t) });
        lastMs = t;
      }
    }
    const missing = previous === undefined || previous.session === k.session ? 0 : sessionsBetween(tradingDays, previous.session, k.session);
    if (missing > 0) holes.push({ time: k.time, sessions: missing });
    if (isBreak(previous, k) || missing > 0) {
      points.push({ time: between(lastMs, k.time) });
      if (isBreak(previous, k)) breaks++;
    }
    points.push(candlePoint(k));
    previous = k;
    lastMs = k.time;
  }
  return { points, breaks, holes };
}

/** A label at the first candle after each data hole. */
export function holeMarkers(holes: SeriesPoints['holes']): Array<SeriesMarker<UTCTimestamp>> {
  return holes.map((h) => ({ time: seconds(h.time), position: 'aboveBar' as const, shape: 'circle' as const, color: '#f85149', text: `no data: ${h.sessions} session${h.sessions === 1 ? '' : 's'}` }));
}

/** The source strip: one bar per candle in its source kind's colour. */
export function sourcePoints(candles: readonly Candle[]): Array<HistogramData<Time>> {
  return candles.map((k) => ({ time: seconds(k.time), value: 1, color: SOURCE_COLORS[k.source] }));
}

/** Candles per source kind, as `imported:300,simulated:20` (kinds in SOURCE_KINDS order, absent ones left out). */
export function sourceSummary(candles: readonly Candle[]): string {
  const counts = new Map<SourceKind, number>();
  for (const k of candles) counts.set(k.source, (counts.get(k.source) ?? 0) + 1);
  return SOURCE_KINDS.filter((kind) => counts.has(kind))
    .map((kind) => `${kind}:${counts.get(kind)}`)
    .join(',');
}

/**
 * An indicator's line: its values, broken where the provenance changes (the server restarts
 * indicators there too) and across whole missing sessions, at the same empty slot as the candles
 * (`candlePoints`).
 */
export function linePoints(candles: readonly Candle[], values: ReadonlyArray<number | null> | undefined, tradingDays: readonly string[] = []): Array<LineData<Time> | WhitespaceData<Time>> {
  const out: Array<LineData<Time> | WhitespaceData<Time>> = [];
  (values ?? []).forEach((v, i) => {
    const k = candles[i];
    if (k === undefined) return;
    const previous = candles[i - 1];
    const hole = previous !== undefined && previous.session !== k.session && sessionsBetween(tradingDays, previous.session, k.session) > 0;
    if (previous !== undefined && (isBreak(previous, k) || hole)) out.push({ time: between(previous.time, k.time) });
    if (v !== null) out.push({ time: seconds(k.time), value: v });
  });
  return out;
}

/** Runs of consecutive candles of one provenance, as `real:80,simulated:100` (what the chart says it draws). */
export function segmentSummary(candles: readonly Candle[]): string {
  const runs: Array<[boolean, number]> = [];
  for (const k of candles) {
    const last = runs.at(-1);
    if (last !== undefined && last[0] === k.simulated) last[1]++;
    else runs.push([k.simulated, 1]);
  }
  return runs.map(([simulated, n]) => `${simulated ? 'simulated' : 'real'}:${n}`).join(',');
}

/** A label at the first candle of each part: "simulated" (and "real" where real data resumes). */
export function provenanceMarkers(candles: readonly Candle[]): Array<SeriesMarker<UTCTimestamp>> {
  return candles
    .filter((k, i) => (i === 0 ? k.simulated : isBreak(candles[i - 1], k)))
    .map((k) => ({
      time: seconds(k.time),
      position: 'belowBar' as const,
      shape: 'square' as const,
      color: k.simulated ? '#d29922' : '#93a1b0',
      text: k.simulated ? 'simulated' : 'real',
    }));
}
