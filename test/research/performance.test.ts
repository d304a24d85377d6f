import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { TasaError } from '../../src/errors.ts';
import { computePerformance, sessionBarsPerYear, type PerformanceInput } from '../../src/research/performance.ts';

const MIN = 60_000;
const close = (actual: number | null, expected: number, what: string): void => {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
};

/**
 * Initial equity 100, marks 110, 99, 108.9, 119.79.
 * Bar returns: +10%, -10%, +10%, +10%  -> mean 0.05.
 * Deviations 0.05, -0.15, 0.05, 0.05 -> squares 0.0025 + 0.0225 + 0.0025 + 0.0025 = 0.03;
 * sample variance 0.03 / 3 = 0.01 -> stdev 0.1.
 * barsPerYear 100 -> sqrt = 10: annualized vol 1.0, Sharpe 0.05 / 0.1 * 10 = 5.
 * Downside: only -0.1 -> 0.01 / 4 bars = 0.0025 -> DD 0.05 -> Sortino 0.05 / 0.05 * 10 = 10.
 * Total return 119.79 / 100 - 1 = 0.1979; years 4 / 100 = 0.04; CAGR = 1.1979^25 - 1.
 * Max drawdown: peak 110 (bar 0) -> trough 99 (bar 1) = 10%; back at >= 110 at bar 3 (119.79):
 * 3 bars. Bars 0-1 close a session (17:50Z, 17:55Z on 2024-01-02), bars 2-3 open the next
 * (13:00Z, 13:05Z on 2024-01-03): marks at closes, 2024-01-02 17:55Z -> 2024-01-03 13:10Z = 19 h 15 min.
 * Calmar = CAGR / 0.1.
 * Trades pnl +10, -5, +3, -2, 0: 2 wins of 5 (0 is not a win) = 0.4; profit factor 13 / 7.
 * Held 2, 3, 1, 4, 5 bars (mean 3) and 10, 15, 5, 20, 25 minutes (mean 15).
 * Positions 1, -1, 0, 1 -> exposure 0.75.
 * Trade returns (pnl / 100 entry equity) 0.1, -0.05, 0.03, -0.02, 0: expectancy 0.06 / 5 = 0.012;
 * average win (0.1 + 0.03) / 2 = 0.065; average loss (-0.05 - 0.02) / 2 = -0.035 (the 0 trade is neither).
 * Turnover: 5 trades = 10 units of equity traded in 0.04 years -> 250 per year.
 */
function handChecked(): PerformanceInput {
  const t0 = Date.parse('2024-01-03T13:00:00Z');
  const trade = (pnl: number, barsHeld: number, minutes: number): PerformanceInput['trades'][number] => ({ pnl, return: pnl / 100, barsHeld, entryTime: t0, exitTime: t0 + minutes * MIN });
  return {
    initialEquity: 100,
    times: Float64Array.from([Date.parse('2024-01-02T17:50:00Z'), Date.parse('2024-01-02T17:55:00Z'), t0, t0 + 5 * MIN]),
    equity: Float64Array.from([110, 99, 108.9, 119.79]),
    positions: Int8Array.from([1, -1, 0, 1]),
    trades: [trade(10, 2, 10), trade(-5, 3, 15), trade(3, 1, 5), trade(-2, 4, 20), trade(0, 5, 25)],
  };
}

describe('computePerformance', () => {
  test('matches the hand-computed metrics of a small series', () => {
    const m = computePerformance(handChecked(), 100);
    assert.equal(m.bars, 4);
    close(m.years, 0.04, 'years');
    close(m.totalReturn, 0.1979, 'total return');
    const cagr = Math.pow(1.1979, 25) - 1;
    close(m.cagr, cagr, 'CAGR');
    close(m.annualizedVolatility, 1.0, 'annualized volatility');
    close(m.sharpe, 5, 'Sharpe');
    close(m.sortino, 10, 'Sortino');
    close(m.maxDrawdown, 0.1, 'max drawdown');
    assert.equal(m.maxDrawdownBars, 3);
    assert.equal(m.maxDrawdownMs, (19 * 60 + 15) * MIN);
    assert.equal(m.maxDrawdownRecovered, true);
    close(m.calmar, cagr / 0.1, 'Calmar');
    close(m.winRate, 0.4, 'win rate');
    close(m.profitFactor, 13 / 7, 'profit factor');
    close(m.exposure, 0.75, 'exposure');
    assert.equal(m.tradeCount, 5);
    close(m.averageHoldingBars, 3, 'average holding bars');
    close(m.averageHoldingMinutes, 15, 'average holding minutes');
    close(m.expectancy ?? null, 0.012, 'expectancy');
    close(m.averageWin ?? null, 0.065, 'average win');
    close(m.averageLoss ?? null, -0.035, 'average loss');
    close(m.turnover ?? null, 250, 'turnover');
  });

  test('annualization scales with barsPerYear, not a fixed 252', () => {
    // Sharpe and vol scale with sqrt(barsPerYear): 400 bars/year doubles both (sqrt 20 vs 10).
    const m = computePerformance(handChecked(), 400);
    close(m.sharpe, 10, 'Sharpe at 400 bars/year');
    close(m.annualizedVolatility, 2, 'vol at 400 bars/year');
    close(m.sortino, 20, 'Sortino at 400 bars/year');
  });

  test('a drawdown from the initial equity that never recovers runs to the last mark', () => {
    // Initial 100 is the peak; 90 then 95: depth 10%, from the start (bar 0 open) to bar 1 close = 2 bars, 10 minutes.
    const t0 = Date.parse('2024-01-02T13:00:00Z');
    const m = computePerformance({ initialEquity: 100, times: Float64Array.from([t0, t0 + 5 * MIN]), equity: Float64Array.from([90, 95]), positions: Int8Array.from([1, 1]), trades: [] }, 100);
    close(m.maxDrawdown, 0.1, 'max drawdown');
    assert.equal(m.maxDrawdownBars, 2);
    assert.equal(m.maxDrawdownMs, 10 * MIN);
    assert.equal(m.maxDrawdownRecovered, false);
    close(m.totalReturn, -0.05, 'total return');
  });

  test('the deepest drawdown is kept, not the last or the longest', () => {
    // 100 -> 95 (5%) -> 101 -> 80 (20.8%) -> 102: the second one, peak 101 at bar 1, recovered at bar 3.
    const t0 = Date.parse('2024-01-02T13:00:00Z');
    const times = Float64Array.from([0, 1, 2, 3].map((i) => t0 + i * 5 * MIN));
    const m = computePerformance({ initialEquity: 100, times, equity: Float64Array.from([95, 101, 80, 102]), positions: new Int8Array(4), trades: [] }, 100);
    close(m.maxDrawdown, 1 - 80 / 101, 'max drawdown');
    assert.equal(m.maxDrawdownBars, 2);
    assert.equal(m.maxDrawdownMs, 10 * MIN);
  });

  test('undefined metrics are null: no bars', () => {
    const m = computePerformance({ initialEquity: 1, times: new Float64Array(0), equity: new Float64Array(0), positions: new Int8Array(0), trades: [] }, 14_600);
    for (const key of ['totalReturn', 'cagr', 'annualizedVolatility', 'sharpe', 'sortino', 'maxDrawdown', 'calmar', 'winRate', 'profitFactor', 'exposure', 'averageHoldingBars', 'turnover', 'expectancy'] as const) {
      assert.equal(m[key], null, key);
    }
    assert.equal(m.tradeCount, 0);
  });

  test('undefined metrics are null: flat equity, no trades', () => {
    const t0 = Date.parse('2024-01-02T13:00:00Z');
    const m = computePerformance({ initialEquity: 1, times: Float64Array.from([t0, t0 + 5 * MIN, t0 + 10 * MIN]), equity: Float64Array.from([1, 1, 1]), positions: new Int8Array(3), trades: [] }, 14_600);
    assert.equal(m.totalReturn, 0);
    assert.equal(m.annualizedVolatility, 0);
    assert.equal(m.sharpe, null);
    assert.equal(m.sortino, null);
    assert.equal(m.maxDrawdown, 0);
    assert.equal(m.calmar, null);
    assert.equal(m.winRate, null);
    assert.equal(m.profitFactor, null);
    assert.equal(m.averageHoldingMinutes, null);
    assert.equal(m.exposure, 0);
    assert.deepEqual([m.turnover, m.expectancy, m.averageWin, m.averageLoss], [0, null, null, null]);
  });

  test('profit factor is null without a losing trade; Sortino is null without a losing bar', () => {
    const input = handChecked();
    const m = computePerformance({ ...input, equity: Float64Array.from([101, 102, 103, 104]), trades: input.trades.filter((t) => t.pnl > 0) }, 100);
    assert.equal(m.profitFactor, null);
    assert.equal(m.averageLoss, null);
    assert.equal(m.winRate, 1);
    assert.equal(m.sortino, null);
    assert.ok(m.sharpe !== null && m.sharpe > 0);
  });

  test('rejects a non-positive barsPerYear', () => {
    assert.throws(() => computePerformance(handChecked(), 0), (e: unknown) => e instanceof TasaError && e.code === 'bad_argument' && /barsPerYear/.test(e.message));
  });
});

describe('sessionBarsPerYear', () => {
  const calendar = new MarketCalendar();

  test('is 60 x trading days / years of the span', () => {
    // 2024-01-01..07: Monday 1 January is a holiday (Año Nuevo), Tue-Fri trade, weekend closed -> 4 sessions.
    // 240 bars over 7 days = 7 / 365.25 years -> 240 * 365.25 / 7.
    close(sessionBarsPerYear(calendar, '2024-01-01', '2024-01-07'), (240 * 365.25) / 7, 'one week');
  });

  test('a full year gives about 60 x 240-odd sessions, far from 252 x 288', () => {
    const sessions = calendar.sessionsBetween('2023-01-01', '2023-12-31').length;
    close(sessionBarsPerYear(calendar, '2023-01-01', '2023-12-31'), (60 * sessions * 365.25) / 365, '2023');
    assert.ok(sessions > 230 && sessions < 252, `${sessions} sessions in 2023`);
  });

  test('rejects reversed or malformed spans and spans without a session', () => {
    const bad = (e: unknown): boolean => e instanceof TasaError && e.code === 'bad_argument';
    assert.throws(() => sessionBarsPerYear(calendar, '2024-02-01', '2024-01-01'), bad);
    assert.throws(() => sessionBarsPerYear(calendar, '2024-02-30', '2024-03-01'), bad);
    assert.throws(() => sessionBarsPerYear(calendar, '2024-01-06', '2024-01-07'), bad);
  });
});
