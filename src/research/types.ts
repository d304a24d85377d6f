/**
 * The contracts between the research layers (L2 indicators -> L3 features -> L4 RL dataset ->
 * L5 policies -> L6 backtest). Pure data: no I/O here or in any module that only uses these.
 *
 * Conventions every layer keeps:
 * - A bar is labelled by its open time (epoch ms UTC) and its values are known at its close
 *   (open + 5 min). A value "at bar t" uses bars up to and including t only.
 * - Series are the session bars in time order, across sessions. The overnight gap is NOT
 *   bridged by synthetic bars: indicators run straight through from one session's last bar to
 *   the next session's first (a session boundary is one step, like any other), and features
 *   that must not cross a boundary (e.g. bar-of-session, return vs previous session close) say so.
 * - A missing value is `NaN` inside typed arrays and `null` at every boundary (Parquet, JSON, API);
 *   never 0.
 */
import type { IsoDate } from '../domain/time.ts';

/** One stored 5-minute bar inside a session, as the research layers see it. */
export interface SeriesBar {
  /** Open time, epoch ms UTC. */
  time: number;
  /** The trade date of its session in the market's calendar (Bogota's date for USD/COP). */
  session: IsoDate;
  /** 1..60: position of the bar's slot in its session (by time, not by count: gaps keep numbers). */
  barOfSession: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** L2: one row per bar; NaN before warm-up. */
export interface IndicatorRow {
  time: number;
  ema20: number;
  ema50: number;
  sma10: number;
  sma20: number;
  rsi14: number;
  macd: number;
  macdSignal: number;
  macdHistogram: number;
  bbUpper: number;
  bbMiddle: number;
  bbLower: number;
  atr14: number;
}

export const INDICATOR_NAMES = ['ema20', 'ema50', 'sma10', 'sma20', 'rsi14', 'macd', 'macdSignal', 'macdHistogram', 'bbUpper', 'bbMiddle', 'bbLower', 'atr14'] as const;
export type IndicatorName = (typeof INDICATOR_NAMES)[number];

/** L3: a column-oriented feature table aligned with the bars it was computed from. */
export interface FeatureTable {
  names: string[];
  /** Bar open times, one per row. */
  times: Float64Array;
  sessions: IsoDate[];
  /** One column per name, NaN where the feature is not defined yet (warm-up). */
  columns: Float64Array[];
}

export type Split = 'train' | 'validation' | 'test';

/** Costs charged on each change of position, in basis points of the traded notional per unit of position change. */
export interface TradingCosts {
  /** Half the bid/ask spread paid on each unit of position change. */
  spreadBps: number;
  feeBps: number;
  /** The price moving against the fill (market impact), per unit of position change; absent is 0. */
  slippageBps?: number;
  /**
   * The half-spread per hour of day in the market's zone (24 figures, hour 0 first), when estimated from stored
   * quotes: a fill pays its hour's instead of `spreadBps` (execution-model.ts). Absent: `spreadBps` always.
   */
  spreadBpsByHour?: number[];
}

/**
 * L4: one episode per session. A decision is taken at the close of each bar i (0..n-2) and fills
 * at open[i+1]; the position is closed at close[n-1] (no overnight position). Its reward is what
 * the backtest books (execution-model.ts, ppo/trading-env.ts).
 */
export interface Episode {
  session: IsoDate;
  split: Split;
  /** Bar open times of the episode's n bars. */
  times: Float64Array;
  /** Bar opens: a decision at bar i fills at opens[i + 1]. */
  opens: Float64Array;
  /** Bar closes: equity is marked at each, and the session's position is closed at the last. */
  closes: Float64Array;
  /** n x featureCount, row-major, normalized with the training window's statistics; NaN replaced by 0 only after normalization and flagged in `mask`. */
  features: Float32Array;
  /** n x featureCount: 1 where the raw feature existed, 0 where it was missing (warm-up). */
  mask: Uint8Array;
}

export interface RlDataset {
  symbol: string;
  featureNames: string[];
  /** Bars of history in one observation (the current bar and window - 1 before it, inside the episode). */
  window: number;
  costs: TradingCosts;
  /**
   * Means/stds of each feature over the training split only; a normalized value is
   * (x - mean) / std, then limited to ±clip when `clip` is set.
   */
  normalization: { means: number[]; stds: number[]; clip?: number };
  splits: Record<Split, { from: IsoDate; to: IsoDate; sessions: number }>;
  /** Sessions left out between splits so that no window or label leaks across them. */
  purgeSessions: number;
  episodes: Episode[];
  /** sha256 of everything above, in a canonical order: equal inputs and config give equal hashes. */
  hash: string;
  /** Sessions left out for having too few bars to make an episode (not in any split). */
  skippedSessions?: Array<{ session: IsoDate; bars: number }>;
}

/** Positions: short, flat, long. Action index 0, 1, 2 maps to position -1, 0, +1. */
export type Position = -1 | 0 | 1;
export const POSITIONS: readonly Position[] = [-1, 0, 1];

/** What a policy sees at the close of a bar. */
export interface Observation {
  bar: SeriesBar;
  /** The indicators the policy declares (`Policy.indicators`); NaN for the others. */
  indicators: IndicatorRow;
  /** window x featureCount normalized features (oldest first), zero-padded before the episode's start. */
  features: Float32Array;
  position: Position;
}

export interface Decision {
  position: Position;
  /** Probabilities of short, flat, long (a deterministic policy gives 1 to its choice). */
  probabilities: [number, number, number];
}

/** Every policy, baseline or trained, behind one interface. */
export interface Policy {
  readonly id: string;
  readonly kind: 'baseline' | 'ppo';
  /** Carries its position over nights (buy-and-hold): its backtest does not close it at session ends (execution-model.ts). */
  readonly holdsOvernight?: boolean;
  /** The indicators its decisions read: only these are computed for it. Absent: all of them. */
  readonly indicators?: readonly IndicatorName[];
  decide(obs: Observation): Decision;
}
