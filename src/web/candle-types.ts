/** The chart's data: candles and indicator series (no DOM, no chart library: shared by views and tests). */

/**
 * Where a candle's prices come from, as the chart marks it: the built-in simulator; a partial bar
 * (built while the live feed covered only part of its slot); a bar backfilled from the vendor's REST
 * history; an imported file; or the vendor's live feed.
 */
export const SOURCE_KINDS = ['vendor', 'backfilled', 'imported', 'simulated', 'partial'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface Candle {
  /** Bucket open, epoch ms UTC. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Trading date of the candle's session in its market's zone (session boundaries). */
  session: string;
  /** The built-in simulator's prices, not market data: drawn apart from real history. */
  simulated: boolean;
  source: SourceKind;
}

/**
 * The source kind of a candle or bar from its stored sources (import, twelvedata_ws,
 * twelvedata_rest, simulator) and whether a partial bar is in it. The least trustworthy wins: a
 * candle with one backfilled bar among imported ones is marked backfilled.
 */
export function sourceKindOf(sources: readonly string[], partial: boolean): SourceKind {
  if (sources.includes('simulator')) return 'simulated';
  if (partial) return 'partial';
  if (sources.includes('twelvedata_rest')) return 'backfilled';
  if (sources.includes('import')) return 'imported';
  return 'vendor';
}

/** Least trustworthy first. */
const TRUST_ORDER: readonly SourceKind[] = ['simulated', 'partial', 'backfilled', 'imported', 'vendor'];

/** The least trustworthy of `kinds` (a candle folded from bars of several kinds). */
export function leastTrusted(kinds: readonly SourceKind[]): SourceKind {
  return TRUST_ORDER.find((k) => kinds.includes(k)) ?? 'vendor';
}

export const INDICATOR_KEYS = ['ema20', 'ema50', 'bbUpper', 'bbMiddle', 'bbLower', 'rsi14', 'macd', 'macdSignal', 'macdHistogram'] as const;
export type IndicatorKey = (typeof INDICATOR_KEYS)[number];
/** One array per indicator, aligned with the candles (null before warm-up). */
export type IndicatorSeries = Partial<Record<IndicatorKey, Array<number | null>>>;
/** The indicator values of one candle. */
export type IndicatorValues = Partial<Record<IndicatorKey, number | null>>;
