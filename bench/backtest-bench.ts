/**
 * Backtest figures: throughput of the L6 engine (bars/s) and of the performance metrics over
 * synthetic session bars, and each baseline end to end on the real history (indicators it declares,
 * decisions, engine, metrics) with the engine alone on the same targets as its same-run reference.
 */
import { BAR_MS } from '../src/domain/bar.ts';
import { addDays, bogotaWallTime } from '../src/domain/time.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { declaredIndicators, runBacktest } from '../src/research/backtest.ts';
import { BASELINE_IDS, baselinePolicy } from '../src/research/baselines.ts';
import { computeIndicatorColumns } from '../src/research/indicators.ts';
import { computePerformance, sessionBarsPerYear } from '../src/research/performance.ts';
import { backtestPolicy, type PolicyBacktest } from '../src/research/policy-evaluation.ts';
import { toSeries } from '../src/research/series.ts';
import type { SeriesBar, TradingCosts } from '../src/research/types.ts';
import { realBars, REAL_FILE_SKIP } from '../test/support/real-history.ts';
import { against, bestOf, formatMs, formatRate, record } from './harness.ts';

const SESSIONS = 10_000; // 600k bars
const NO_FEATURES = new Float32Array(0);

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

export async function benchBacktest(): Promise<void> {
  const bars = syntheticSeries(SESSIONS);
  const targets = syntheticTargets(bars.length);
  const costs = { spreadBps: 1.5, feeBps: 0.5 };
  const n = bars.length;
  let result = runBacktest(bars, targets, costs);
  const engineMs = await bestOf(3, () => (result = runBacktest(bars, targets, costs)));
  record('backtest', 'engine', formatRate(n, engineMs, 'bars'), `${n.toLocaleString('en-US')} synthetic session bars, ${result.trades.length.toLocaleString('en-US')} trades, ${formatMs(engineMs)} (best of 3)`);

  const metricsMs = await bestOf(3, () => computePerformance(result, 14_600));
  record('backtest', 'performance metrics', formatRate(n, metricsMs, 'bars'), `${formatMs(metricsMs)} for ${n.toLocaleString('en-US')} bars`);

  await benchEndToEnd(costs);
}

/**
 * Each baseline end to end on the real history (loaded once, not timed): the indicators it
 * declares, its decisions, the backtest and the metrics, against the engine alone on its targets.
 */
async function benchEndToEnd(costs: TradingCosts): Promise<void> {
  if (REAL_FILE_SKIP !== false) {
    record('backtest', 'end to end, real history', 'skipped', REAL_FILE_SKIP);
    return;
  }
  const calendar = new MarketCalendar();
  const series = toSeries(await realBars(calendar), calendar);
  const n = series.length;
  const options = { costs, initialEquity: 1, flatAtSessionEnd: true, barsPerYear: sessionBarsPerYear(calendar, series[0]!.session, series[n - 1]!.session) };
  for (const id of BASELINE_IDS) {
    const policy = baselinePolicy(id);
    const run = (): PolicyBacktest => backtestPolicy(policy, series, computeIndicatorColumns(series, declaredIndicators(policy)), () => NO_FEATURES, options);
    const { targets, flatAtSessionEnd, result } = run();
    const wholeMs = await bestOf(3, run);
    const engineMs = await bestOf(3, () => runBacktest(series, targets, costs, { flatAtSessionEnd }));
    const reads = declaredIndicators(policy).join(', ') || 'no indicator';
    record(
      'backtest',
      `end to end, ${id}`,
      formatRate(n, wholeMs, 'bars'),
      `${n.toLocaleString('en-US')} real bars, ${result.trades.length.toLocaleString('en-US')} trades, reads ${reads}; ${formatMs(wholeMs)} vs engine alone ${formatMs(engineMs)} (best of 3)`,
      against('engine alone on its targets, bars/s', (n / wholeMs) * 1000, (n / engineMs) * 1000),
    );
  }
}
