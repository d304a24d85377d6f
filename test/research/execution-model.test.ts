/**
 * The execution model, and the identity it exists for: over an episode, the RL environment's
 * rewards sum to the backtest's net log return of the same session for the same position path.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { instrumentCalendar, MarketCalendar } from '../../src/domain/calendar.ts';
import { runBacktest } from '../../src/research/backtest.ts';
import { Account, CostSchedule, costRate, scaleCosts } from '../../src/research/execution-model.ts';
import { computeFeatures } from '../../src/research/features.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import { TradingEnv } from '../../src/research/ppo/trading-env.ts';
import { buildRlDataset, type RlDatasetConfig } from '../../src/research/rl-dataset.ts';
import { sessionRanges, toSeries } from '../../src/research/series.ts';
import { POSITIONS, type Position, type SeriesBar, type TradingCosts } from '../../src/research/types.ts';
import { realBars, REAL_FILE_SKIP } from '../support/real-history.ts';
import { prng, syntheticSeries } from './synthetic-series.ts';

const TOLERANCE = 1e-12;
const USD_COP = instrumentCalendar('USD/COP');

/** Equal to 1e-14 relative (the account works in floating point). */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-14 * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

describe('execution model: the account', () => {
  it('charges (spread + fee) bps of the pre-fill equity per unit of position change', () => {
    assert.equal(costRate({ spreadBps: 2, feeBps: 0.5 }), 2.5e-4);
    const account = new Account(1000, new CostSchedule({ spreadBps: 7, feeBps: 2, slippageBps: 1 }, USD_COP));
    account.fill(1, 50, 0);
    near(account.equityAt(50), 999, 'one leg: 1 of 1000');
    near(account.quantity, 999 / 50, 'all the equity left after the cost, at constant quantity');
    account.fill(1, 60, 0);
    near(account.equityAt(60), (999 * 60) / 50, 'the same target is no fill and no cost');
    account.fill(-1, 60, 0);
    const atReversal = (999 * 60) / 50;
    near(account.equityAt(60), atReversal * (1 - 2e-3), 'a reversal pays two legs on the equity before it');
    near(account.equityAt(45), atReversal * (1 - 2e-3) * (2 - 45 / 60), 'a short earns entry equity x (1 - price / entry)');
    account.fill(0, 45, 0);
    const flat = atReversal * (1 - 2e-3) * (2 - 45 / 60) * (1 - 1e-3);
    near(account.equityAt(45), flat, 'the exit pays one leg');
    near(account.equityAt(1), flat, 'flat: equity is cash');
  });
});

/** A half-spread per Bogota hour that moves a lot through the session (hours 8-13: 10, 13, 1, 4, 7, 10 bps). */
const HOURLY = Array.from({ length: 24 }, (_, hour) => 1 + (hour % 5) * 3);

describe('execution model: the spread per Bogota hour', () => {
  it("charges each fill its Bogota hour's half-spread; without per-hour figures, the one spread", () => {
    const costs: TradingCosts = { spreadBps: 2, feeBps: 0.5, slippageBps: 0.25, spreadBpsByHour: HOURLY };
    const schedule = new CostSchedule(costs, USD_COP);
    near(schedule.rateAt(Date.parse('2024-03-05T13:10:00Z')), (HOURLY[8]! + 0.75) * 1e-4, '08:10 Bogota pays hour 8');
    near(schedule.rateAt(Date.parse('2024-03-05T14:00:00Z')), (HOURLY[9]! + 0.75) * 1e-4, '09:00 Bogota pays hour 9');
    near(schedule.rateAt(Date.parse('2024-03-06T04:59:59Z')), (HOURLY[23]! + 0.75) * 1e-4, '23:59 Bogota, the next UTC day, pays hour 23');
    near(new CostSchedule({ spreadBps: 2, feeBps: 0.5 }, USD_COP).rateAt(Date.parse('2024-03-05T13:10:00Z')), 2.5e-4, 'one figure at every hour');
    near(new CostSchedule({ spreadBps: 2, feeBps: 0.5 }, null).rateAt(Date.parse('2024-03-05T13:10:00Z')), 2.5e-4, 'one figure needs no market');
    assert.throws(() => new CostSchedule(costs, null), /needs the calendar of the market/, 'per-hour figures need the market whose hours index them');
    assert.deepEqual(scaleCosts(costs, 2).spreadBpsByHour, HOURLY.map((x) => 2 * x), 'cost stress scales every hour');
    assert.throws(() => new CostSchedule({ ...costs, spreadBpsByHour: HOURLY.slice(1) }, USD_COP), /24 half-spreads/);
    assert.throws(() => runBacktest([], new Int8Array(0), { ...costs, spreadBpsByHour: HOURLY.map(() => -1) }), /24 half-spreads/);
  });

  it("charges USD/BRL fills the half-spread of their Sao Paulo hour (UTC-3), not Bogota's", () => {
    const costs: TradingCosts = { spreadBps: 2, feeBps: 0.5, slippageBps: 0.25, spreadBpsByHour: HOURLY };
    const saoPaulo = new CostSchedule(costs, instrumentCalendar('USD/BRL'));
    near(saoPaulo.rateAt(Date.parse('2024-03-05T13:10:00Z')), (HOURLY[10]! + 0.75) * 1e-4, '10:10 Sao Paulo pays hour 10');
    near(saoPaulo.rateAt(Date.parse('2024-03-06T02:59:59Z')), (HOURLY[23]! + 0.75) * 1e-4, '23:59 Sao Paulo pays hour 23');
    near(saoPaulo.rateAt(Date.parse('2024-03-06T03:00:00Z')), (HOURLY[0]! + 0.75) * 1e-4, 'midnight Sao Paulo pays hour 0');
    const newYork = new CostSchedule(costs, instrumentCalendar('EUR/USD'));
    near(newYork.rateAt(Date.parse('2024-03-08T13:10:00Z')), (HOURLY[8]! + 0.75) * 1e-4, '08:10 New York in EST (UTC-5)');
    near(newYork.rateAt(Date.parse('2024-03-11T13:10:00Z')), (HOURLY[9]! + 0.75) * 1e-4, '09:10 New York in EDT (UTC-4), the Monday after the change');
  });
});

interface IdentityRun {
  /** Sessions compared (episodes with at least one decision). */
  sessions: number;
  /** max |Σ rewards - backtest net log return| over the sessions. */
  maxError: number;
  /** max |reward of step i - backtest log return of bar i+1| over every step. */
  maxStepError: number;
  /** The same as maxError for the old reward, Σ position x ln(close[i+1] / close[i]) - costs: shows the test can tell them apart. */
  maxCloseToCloseError: number;
  /** The backtest's total costs over the whole series. */
  totalCosts: number;
}

/**
 * Plays random position paths through the environment in every episode, runs the backtest on the
 * same targets over the whole series, and compares session by session.
 */
function compareWithBacktest(series: readonly SeriesBar[], config: RlDatasetConfig, seed: number, initialEquity: number, symbol = 'USD/COP'): IdentityRun {
  const dataset = buildRlDataset(symbol, series, computeFeatures(series, computeIndicators(series)), config);
  const random = prng(seed);
  const randomPosition = (): Position => POSITIONS[Math.floor(random() * 3)]!;
  // Every row gets a random target: rows outside the episodes and each session's last target must not matter.
  const targets = Int8Array.from(series, randomPosition);
  const ranges = new Map(sessionRanges(series).map((r) => [r.session, r]));
  const rewards = new Map<string, number[]>();
  const envs = new Map((['train', 'validation', 'test'] as const).map((split) => [split, new TradingEnv(dataset, split)]));
  for (const episode of dataset.episodes) {
    const env = envs.get(episode.split)!;
    const start = ranges.get(episode.session)!.start;
    env.reset(episode);
    const stepRewards: number[] = [];
    for (let i = 0; i < episode.times.length - 1; i++) {
      const position = randomPosition();
      targets[start + i] = position;
      stepRewards.push(env.step(position + 1).reward);
    }
    rewards.set(episode.session, stepRewards);
  }
  const backtest = runBacktest(series, targets, dataset.costs, { initialEquity, calendar: instrumentCalendar(symbol) });
  const equityBefore = (row: number) => (row === 0 ? initialEquity : backtest.equity[row - 1]!);
  const run: IdentityRun = { sessions: 0, maxError: 0, maxStepError: 0, maxCloseToCloseError: 0, totalCosts: backtest.totalCosts };
  for (const episode of dataset.episodes) {
    const { start, end } = ranges.get(episode.session)!;
    const stepRewards = rewards.get(episode.session)!;
    const netLogReturn = Math.log(backtest.equity[end - 1]! / equityBefore(start));
    run.sessions += 1;
    run.maxError = Math.max(run.maxError, Math.abs(sum(stepRewards) - netLogReturn));
    stepRewards.forEach((reward, i) => {
      assert.equal(backtest.positions[start + i + 1], targets[start + i], `${episode.session} bar ${i + 1} holds the position decided at bar ${i}`);
      run.maxStepError = Math.max(run.maxStepError, Math.abs(reward - Math.log(backtest.equity[start + i + 1]! / backtest.equity[start + i]!)));
    });
    run.maxCloseToCloseError = Math.max(run.maxCloseToCloseError, Math.abs(closeToCloseReward(series, targets, start, end, dataset.costs) - netLogReturn));
  }
  return run;
}

/** The reward training used before: Σ position x ln(close[i+1] / close[i]) - |Δposition| x costs, flat at the end. */
function closeToCloseReward(series: readonly SeriesBar[], targets: Int8Array, start: number, end: number, costs: TradingCosts): number {
  const rate = costRate(costs);
  let total = 0;
  let held = 0;
  for (let row = start; row < end - 1; row++) {
    const position = targets[row]!;
    total += position * Math.log(series[row + 1]!.close / series[row]!.close) - Math.abs(position - held) * rate;
    held = position;
  }
  return total - Math.abs(held) * rate;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function assertIdentity(t: TestContext, what: string, run: IdentityRun): void {
  t.diagnostic(`${what}: ${run.sessions} sessions, max |Σ reward - net log return| ${run.maxError.toExponential(2)}, max per step ${run.maxStepError.toExponential(2)}; the close-to-close reward was off by up to ${run.maxCloseToCloseError.toExponential(2)}`);
  assert.ok(run.sessions > 0, `${what}: no session compared`);
  assert.ok(run.maxError < TOLERANCE, `${what}: Σ rewards and the backtest differ by ${run.maxError}`);
  assert.ok(run.maxStepError < TOLERANCE, `${what}: a step's reward and the backtest's bar differ by ${run.maxStepError}`);
  assert.ok(run.maxCloseToCloseError > 1e-4, `${what}: the close-to-close reward is as good (${run.maxCloseToCloseError}): the fixture has no gap to tell them apart`);
}

/** Flat bars, missing slots and close-to-open gaps: what makes the two rewards differ. */
function assertHardCases(series: readonly SeriesBar[]): void {
  const flat = series.filter((b) => b.open === b.high && b.high === b.low && b.low === b.close).length;
  const missingSlot = series.some((b, i) => i > 0 && b.session === series[i - 1]!.session && b.barOfSession > series[i - 1]!.barOfSession + 1);
  const gaps = series.filter((b, i) => i > 0 && b.session === series[i - 1]!.session && b.open !== series[i - 1]!.close).length;
  assert.ok(flat > 0 && missingSlot && gaps > 0, `${flat} flat bars, a missing slot: ${missingSlot}, ${gaps} in-session gaps`);
}

describe('execution model: Σ training rewards = backtest net log return', () => {
  it('on synthetic sessions with flat bars, missing slots, short and one-bar sessions, at two cost levels', (t) => {
    const series = syntheticSeries(6000, { seed: 23, oneBarSessionRate: 0.05 });
    assertHardCases(series);
    assertIdentity(t, 'synthetic, default costs', compareWithBacktest(series, {}, 1, 1));
    assertIdentity(t, 'synthetic, 12 + 3 bps, 4e9 notional', compareWithBacktest(series, { costs: { spreadBps: 12, feeBps: 3 } }, 2, 4e9));
  });

  it('with the half-spread charged per Bogota hour', (t) => {
    const series = syntheticSeries(6000, { seed: 23, oneBarSessionRate: 0.05 });
    const hourly = compareWithBacktest(series, { costs: { spreadBps: 2, feeBps: 0.5, slippageBps: 0.5, spreadBpsByHour: HOURLY } }, 4, 1);
    assertIdentity(t, 'synthetic, spread per hour + 0.5 + 0.5 bps', hourly);
    const single = compareWithBacktest(series, { costs: { spreadBps: 2, feeBps: 0.5, slippageBps: 0.5 } }, 4, 1);
    assert.ok(Math.abs(hourly.totalCosts - single.totalCosts) > 0.1 * single.totalCosts, `the same positions pay ${hourly.totalCosts} per hour vs ${single.totalCosts} at one figure`);
  });

  it('with the half-spread charged per Sao Paulo hour for USD/BRL: the environment and the backtest agree', (t) => {
    const series = syntheticSeries(6000, { seed: 23, oneBarSessionRate: 0.05 });
    // 0.01 bps until 11:00, 0.2 after: the synthetic sessions (08:00-13:00 Bogota) are 10:00-15:00 in Sao Paulo.
    // Costs this small stay far from eating the equity, so the totals compare the hours charged.
    const costs = { spreadBps: 0.1, feeBps: 0.01, spreadBpsByHour: Array.from({ length: 24 }, (_, hour) => (hour < 11 ? 0.01 : 0.2)) };
    const brl = compareWithBacktest(series, { costs }, 4, 1, 'USD/BRL');
    assertIdentity(t, 'synthetic USD/BRL, spread per Sao Paulo hour', brl);
    const bogota = compareWithBacktest(series, { costs }, 4, 1);
    assert.ok(Math.abs(brl.totalCosts - bogota.totalCosts) > 0.1 * bogota.totalCosts, `the same positions pay ${brl.totalCosts} in Sao Paulo hours vs ${bogota.totalCosts} in Bogota hours`);
  });

  it('on real USD/COP sessions', { skip: REAL_FILE_SKIP }, async (t) => {
    const calendar = new MarketCalendar();
    const series = toSeries(await realBars(calendar, Date.parse('2021-02-01T00:00:00Z'), Date.parse('2021-05-01T00:00:00Z')), calendar);
    assertHardCases(series);
    assertIdentity(t, 'real 2021-02..04', compareWithBacktest(series, { purgeSessions: 0 }, 3, 1));
  });
});
