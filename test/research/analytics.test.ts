import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BAR_MS } from '../../src/domain/bar.ts';
import { instrumentCalendar } from '../../src/domain/calendar.ts';
import { holdingBuckets, histogram, periodPnl, riskMetrics, tailRisk95, tradeOutcomes, type EquityCurveSummary } from '../../src/research/analytics.ts';
import type { EquityPoint } from '../../src/research/equity-curve.ts';

/** 08:00 Bogota (13:00Z) of 2024-01-02, -03, -04. */
const D1 = Date.UTC(2024, 0, 2, 13);
const D2 = Date.UTC(2024, 0, 3, 13);
const D3 = Date.UTC(2024, 0, 4, 13);
const USD_COP = instrumentCalendar('USD/COP');

function close(time: number, equity: number, drawdown = 0): EquityPoint {
  return [time + 59 * BAR_MS, equity, drawdown];
}

/** Three sessions closing at 110, 99, 108.9 from 100: returns +10%, -10%, +10%; an intra-session point on day 1. */
const CURVE: EquityCurveSummary = {
  initialEquity: 100,
  sessionsPerPoint: 1,
  points: [[D1 + 10 * BAR_MS, 95, 0.05], close(D1, 110), close(D2, 99, 0.12), close(D3, 108.9, 0.02)],
};

function near(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}

describe('periodPnl', () => {
  it('takes the last point of each session as its close (hand-checked)', () => {
    const p = periodPnl(CURVE, USD_COP);
    assert.deepEqual(
      p.map((x) => x.date),
      ['2024-01-02', '2024-01-03', '2024-01-04'],
    );
    near(p[0]!.pnl, 10, 'pnl 1');
    near(p[1]!.pnl, -11, 'pnl 2');
    near(p[2]!.pnl, 9.9, 'pnl 3');
    near(p[0]!.return, 0.1, 'return 1');
    near(p[1]!.return, -0.1, 'return 2');
    near(p[2]!.return, 0.1, 'return 3');
    assert.equal(p[2]!.time, D3 + 59 * BAR_MS);
  });

  it('is empty for an empty curve', () => {
    assert.deepEqual(periodPnl({ initialEquity: 1, sessionsPerPoint: 1, points: [] }, USD_COP), []);
  });
});

describe('tailRisk95', () => {
  it('uses the ceil(5% n) worst values (hand-checked)', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => i - 5); // -5..14: k = 1
    assert.deepEqual(tailRisk95(twenty), { var95: 5, cvar95: 5 });
    const forty = [...twenty, ...twenty.map((x) => x + 0.5)]; // k = 2: -5, -4.5
    assert.deepEqual(tailRisk95(forty), { var95: 4.5, cvar95: 4.75 });
    const gains = [1, 2, 3];
    assert.deepEqual(tailRisk95(gains), { var95: -1, cvar95: -1 });
    assert.deepEqual(tailRisk95([]), { var95: null, cvar95: null });
  });
});

describe('riskMetrics', () => {
  it('computes the session figures by hand', () => {
    const r = riskMetrics(CURVE, 60 * 250, 60, USD_COP);
    assert.equal(r.periods, 3);
    assert.equal(r.periodsPerYear, 250);
    const mean = 0.1 / 3;
    near(r.meanReturn, mean, 'mean');
    const sd = Math.sqrt(((0.1 - mean) ** 2 * 2 + (-0.1 - mean) ** 2) / 2);
    near(r.volatility, sd, 'volatility');
    near(r.annualizedVolatility, sd * Math.sqrt(250), 'annualized');
    near(r.sortino, (mean / Math.sqrt(0.01 / 3)) * Math.sqrt(250), 'sortino');
    assert.equal(r.maxDrawdown, 0.12);
    near(r.returns.var95, 0.1, 'VaR of returns');
    near(r.pnl.var95, 11, 'VaR of pnl');
    near(r.pnl.cvar95, 11, 'CVaR of pnl');
    assert.equal(r.worstPeriod?.date, '2024-01-03');
    assert.equal(r.bestPeriod?.date, '2024-01-02');
    near(r.positiveShare, 2 / 3, 'positive share');
  });

  it('annualizes per group of sessions and leaves undefined figures null', () => {
    const grouped = riskMetrics({ ...CURVE, sessionsPerPoint: 5 }, 60 * 250, 60, USD_COP);
    assert.equal(grouped.periodsPerYear, 50);
    const gainsOnly = riskMetrics({ initialEquity: 100, sessionsPerPoint: 1, points: [close(D1, 101)] }, 15000, 60, USD_COP);
    assert.equal(gainsOnly.volatility, null);
    assert.equal(gainsOnly.sortino, null);
    const empty = riskMetrics({ initialEquity: 100, sessionsPerPoint: 1, points: [] }, 15000, 60, USD_COP);
    assert.equal(empty.meanReturn, null);
    assert.equal(empty.maxDrawdown, null);
    assert.equal(empty.worstPeriod, null);
    assert.throws(() => riskMetrics(CURVE, 0, 60, USD_COP), /barsPerYear/);
    // A 24-hour market's sessions hold 288 bars: the same bars per year are fewer sessions.
    assert.equal(riskMetrics(CURVE, 288 * 250, 288, USD_COP).periodsPerYear, 250);
  });
});

describe('trade distribution', () => {
  it('bins values by equal widths, the last bin closed', () => {
    assert.deepEqual(histogram([0, 1, 2, 3, 4], 2), [
      { from: 0, to: 2, count: 2 },
      { from: 2, to: 4, count: 3 },
    ]);
    assert.deepEqual(
      histogram([0, 1, 2, 3, 4], 4).map((b) => b.count),
      [1, 1, 1, 2],
    );
    assert.deepEqual(histogram([0.5, 0.5], 10), [{ from: 0.5, to: 0.5, count: 2 }]);
    assert.deepEqual(histogram([], 10), []);
    assert.throws(() => histogram([1], 0), /bins/);
  });

  it('buckets holding times in bars', () => {
    const counts = holdingBuckets([1, 2, 3, 6, 12, 24, 60, 61, 100].map((barsHeld) => ({ barsHeld }))).map((b) => b.count);
    assert.deepEqual(counts, [1, 2, 1, 1, 1, 1, 2]);
  });

  it('counts wins, losses and sides', () => {
    const o = tradeOutcomes([
      { pnl: 3, side: 1 },
      { pnl: -1, side: -1 },
      { pnl: 0, side: 1 },
      { pnl: 1, side: -1 },
      { pnl: -2, side: 1 },
    ]);
    assert.deepEqual(o, { trades: 5, wins: 2, losses: 2, breakeven: 1, long: 3, short: 2, averageWin: 2, averageLoss: -1.5, totalPnl: 1 });
    assert.deepEqual(tradeOutcomes([]).averageWin, null);
  });
});

describe('periods of another market', () => {
  /** 16:55 and 17:55 New York (EDT) on 2026-03-31: the last bar of the session dated 03-31 and a bar of the one dated 04-01. */
  const EUR_USD: EquityCurveSummary = {
    initialEquity: 100,
    sessionsPerPoint: 1,
    points: [[Date.UTC(2026, 2, 31, 20, 55), 101, 0], [Date.UTC(2026, 2, 31, 21, 55), 99, 0.0198]],
  };

  it('dates EUR/USD periods by their New York session: 17:00 starts the next day', () => {
    const eurUsd = instrumentCalendar('EUR/USD');
    assert.deepEqual(
      periodPnl(EUR_USD, eurUsd).map((p) => [p.date, p.pnl]),
      [
        ['2026-03-31', 1],
        ['2026-04-01', -2],
      ],
    );
    // In Bogota both marks fall on 2026-03-31 (15:55 and 16:55): one period.
    assert.deepEqual(periodPnl(EUR_USD, USD_COP).map((p) => p.date), ['2026-03-31']);
  });

  it('annualizes EUR/USD periods with its 288-bar sessions', () => {
    const eurUsd = instrumentCalendar('EUR/USD');
    const r = riskMetrics(EUR_USD, 288 * 260, eurUsd.nominalBarCount(), eurUsd);
    assert.equal(eurUsd.nominalBarCount(), 288);
    assert.equal(r.periods, 2);
    assert.equal(r.periodsPerYear, 260);
  });
});
