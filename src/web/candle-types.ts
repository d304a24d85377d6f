/** The chart's data: candles and indicator series (no DOM, no chart library: shared by views and tests). */
export interface Candle {
  /** Bucket open, epoch ms UTC. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Bogota trading date of the candle's session (session boundaries). */
  session: string;
  /** The built-in simulator's prices, not market data: drawn apart from real history. */
  simulated: boolean;
}

export const INDICATOR_KEYS = ['ema20', 'ema50', 'bbUpper', 'bbMiddle', 'bbLower', 'rsi14', 'macd', 'macdSignal', 'macdHistogram'] as const;
export type IndicatorKey = (typeof INDICATOR_KEYS)[number];
/** One array per indicator, aligned with the candles (null before warm-up). */
export type IndicatorSeries = Partial<Record<IndicatorKey, Array<number | null>>>;
