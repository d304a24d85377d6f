/**
 * Baseline policies: the simple rules a trained policy has to beat. Deterministic and stateless:
 * whatever they remember comes from the observation (its indicators and the position held).
 * They ignore the feature window.
 */
import { TasaError } from '../errors.ts';
import type { Decision, IndicatorName, Observation, Policy, Position } from './types.ts';

export const BASELINE_IDS = ['flat', 'buy-and-hold', 'always-long', 'sma-crossover', 'rsi-mean-reversion'] as const;
export type BaselineId = (typeof BASELINE_IDS)[number];

const RSI_OVERSOLD = 30;
const RSI_OVERBOUGHT = 70;
const RSI_MIDLINE = 50;

/** The deterministic decisions: probability 1 on the chosen position (order: short, flat, long); shared and frozen, as one is returned per bar. */
const CERTAIN: Readonly<Record<Position, Decision>> = {
  [-1]: frozenDecision(-1, [1, 0, 0]),
  0: frozenDecision(0, [0, 1, 0]),
  1: frozenDecision(1, [0, 0, 1]),
};

function frozenDecision(position: Position, probabilities: [number, number, number]): Decision {
  return Object.freeze({ position, probabilities: Object.freeze(probabilities) as [number, number, number] });
}

function certain(position: Position): Decision {
  return CERTAIN[position];
}

/**
 * Buy-and-hold is always long and holds overnight: long from its first fill (the open after the
 * span's first bar, the next-bar rule) to the span's last close, one entry and one exit, costs
 * once. always-long is the same rule closed at every session end.
 */
const HOLDS_OVERNIGHT: ReadonlySet<BaselineId> = new Set(['buy-and-hold']);

function baseline(id: BaselineId, rule: (obs: Observation) => Position): Policy {
  return Object.freeze({ id, kind: 'baseline' as const, holdsOvernight: HOLDS_OVERNIGHT.has(id), indicators: READS[id], decide: (obs: Observation) => certain(rule(obs)) });
}

/** Long when the 10-bar SMA is above the 20-bar SMA, short when below, flat when equal or undefined. */
function smaCrossover(obs: Observation): Position {
  const { sma10, sma20 } = obs.indicators;
  if (Number.isNaN(sma10) || Number.isNaN(sma20)) return 0;
  return sma10 > sma20 ? 1 : sma10 < sma20 ? -1 : 0;
}

/**
 * Long when RSI(14) < 30, short when > 70. A long is closed once RSI is back up to 50 or more, a
 * short once it is back down to 50 or less; otherwise the position held is kept. Flat while RSI is undefined.
 */
function rsiMeanReversion(obs: Observation): Position {
  const rsi = obs.indicators.rsi14;
  if (Number.isNaN(rsi)) return 0;
  if (rsi < RSI_OVERSOLD) return 1;
  if (rsi > RSI_OVERBOUGHT) return -1;
  if (obs.position === 1 && rsi >= RSI_MIDLINE) return 0;
  if (obs.position === -1 && rsi <= RSI_MIDLINE) return 0;
  return obs.position;
}

/** The indicators each rule reads (and nothing else is computed for it). */
const READS: Record<BaselineId, readonly IndicatorName[]> = {
  flat: [],
  'buy-and-hold': [],
  'always-long': [],
  'sma-crossover': ['sma10', 'sma20'],
  'rsi-mean-reversion': ['rsi14'],
};

const RULES: Record<BaselineId, (obs: Observation) => Position> = {
  flat: () => 0,
  'buy-and-hold': () => 1,
  'always-long': () => 1,
  'sma-crossover': smaCrossover,
  'rsi-mean-reversion': rsiMeanReversion,
};

export function isBaselineId(id: string): id is BaselineId {
  return (BASELINE_IDS as readonly string[]).includes(id);
}

/** The baseline policy named `id`. */
export function baselinePolicy(id: string): Policy {
  if (!isBaselineId(id)) {
    throw new TasaError('bad_argument', `Unknown baseline policy "${id}"; valid ids are ${BASELINE_IDS.join(', ')}.`, { input: id });
  }
  return baseline(id, RULES[id]);
}
