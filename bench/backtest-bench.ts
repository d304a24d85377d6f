/**
 * Backtest figures: throughput of the L6 engine (bars/s) over synthetic session bars, of running a
 * baseline policy through `decideTargets`, and of the performance metrics.
 */
import { BAR_MS } from '../src/domain/bar.ts';
import { addDays, bogotaWallTime } from '../src/domain/time.ts';
import { decideTargets, runBacktest } from '../src/research/backtest.ts';
import { baselinePolicy } from '../src/research/baselines.ts';
import { computePerformance } from '../src/research/performance.ts';
import type { IndicatorRow, SeriesBar } from '../src/research/types.ts';
import { bestOf, formatMs, formatRate, record } from './harness.ts';

const SESSIONS = 25_000; // 1.5M bars
const POLICY_SESSIONS = 5_000; // 300k bars through a policy

/** A seeded random walk of 60-bar sessions (dates are consecutive days: only their change matters). */
function syntheticSeries(sessions: number): SeriesBar[] {
  let state = 42;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const bars: SeriesBar[] = new Array<SeriesBar>(sessions * 60);
  let price = 4000;
  let session = '2000-01-01';
  for (let s = 0; s < sessions; s++) {
    const open = bogotaWallTime('2000-01-01', 8) + s * 86_400_000;
    for (let k = 0; k < 60; k++) {
      const o = price;
      price = o * (1 + (random() - 0.5) * 0.002);
      bars[s * 60 + k] = { time: open + k * BAR_MS, session, barOfSession: k + 1, open: o, high: Math.max(o, price), low: Math.min(o, price), close: price };
    }
    session = addDays(session, 1);
  }
  return bars;
}

/** Targets that change about every 10 bars, so the ledger is busy (about 6 trades per session). */
function syntheticTargets(n: number): Int8Array {
  const targets = new Int8Array(n);
  let state = 7;
  let current = 0;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    if (state % 10 === 0) current = (state >>> 8) % 3 - 1;
    targets[i] = current;
  }
  return targets;
}

function nanIndicators(bars: readonly SeriesBar[]): IndicatorRow[] {
  return bars.map((b, i) => ({
    time: b.time,
    ema20: NaN,
    ema50: NaN,
    sma10: 4000 + (i % 7),
    sma20: 4003,
    rsi14: NaN,
    macd: NaN,
    macdSignal: NaN,
    macdHistogram: NaN,
    bbUpper: NaN,
    bbMiddle: NaN,
    bbLower: NaN,
    atr14: NaN,
  }));
}

export async function benchBacktest(): Promise<void> {
  const bars = syntheticSeries(SESSIONS);
  const targets = syntheticTargets(bars.length);
  const costs = { spreadBps: 1.5, feeBps: 0.5 };
  const n = bars.length;
  let result = runBacktest(bars, targets, costs);
  const engineMs = await bestOf(3, () => (result = runBacktest(bars, targets, costs)));
  record('backtest', 'engine', formatRate(n, engineMs, 'bars'), `${n.toLocaleString('en-US')} session bars, ${result.trades.length.toLocaleString('en-US')} trades, ${formatMs(engineMs)} (best of 3)`);

  const metricsMs = await bestOf(3, () => computePerformance(result, 14_600));
  record('backtest', 'performance metrics', formatRate(n, metricsMs, 'bars'), `${formatMs(metricsMs)} for ${n.toLocaleString('en-US')} bars`);

  const policyBars = bars.slice(0, POLICY_SESSIONS * 60);
  const indicators = nanIndicators(policyBars);
  const features = new Float32Array(0);
  const policy = baselinePolicy('sma-crossover');
  const policyMs = await bestOf(3, () => decideTargets(policy, policyBars, indicators, () => features));
  record('backtest', 'decideTargets (sma-crossover)', formatRate(policyBars.length, policyMs, 'bars'), `${policyBars.length.toLocaleString('en-US')} bars, ${formatMs(policyMs)} (best of 3)`);
}
