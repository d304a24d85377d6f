/**
 * A completed walk-forward run as the pipeline stores it: two folds of a baseline and a PPO
 * policy, their per-bar returns summed into power sums, assembled by the real aggregate
 * (aggregateWalkForward) and rendered by the real HTML report, then inserted with the repo.
 */
import { aggregateWalkForward, powerSums, type FoldPolicyResult, type FoldResult, type WalkForwardReport } from '../../src/research/walk-forward-evaluation.ts';
import { renderWalkForwardHtml } from '../../src/research/walk-forward-report.ts';
import type { Db } from '../../src/store/db.ts';
import { finishWalkForwardRun, insertWalkForwardRun } from '../../src/store/walk-forward-repo.ts';

type Policy = Pick<FoldPolicyResult, 'policyId' | 'kind' | 'totalReturn' | 'sharpe' | 'trades' | 'passed'> & { returns: number[]; bestBaseline: number | null };

function policyResult(p: Policy): FoldPolicyResult {
  const equity = p.returns.reduce<number[]>((curve, r) => [...curve, (curve.at(-1) ?? 1) * (1 + r)], []);
  return {
    policyId: p.policyId,
    kind: p.kind,
    totalReturn: p.totalReturn,
    grossReturn: p.totalReturn,
    sharpe: p.sharpe,
    sortino: p.sharpe,
    maxDrawdown: 0.01,
    trades: p.trades,
    turnover: p.trades * 2,
    exposure: 0.5,
    psr: 0.5,
    dsr: 0.4,
    passed: p.passed,
    verdict: p.passed ? 'Passed every gate.' : 'Failed the Sortino gate.',
    bestBaseline: p.bestBaseline === null ? null : { policyId: 'buy-and-hold', totalReturn: p.bestBaseline },
    gates: [{ gate: 'sortino', comparator: '>=', threshold: 1, value: p.sharpe, passed: p.passed }],
    sessionEquity: equity,
    returns: powerSums(p.returns),
  };
}

function fold(index: number, from: string, to: string, sessions: string[], policies: Policy[]): FoldResult {
  // Session indices: 60 train, 1 purged, 20 validation, 1 purged, then two test sessions per fold.
  const window = (start: number, f: string, t: string, n: number) => ({ start, end: start + n, from: f, to: t, sessions: n });
  return {
    fold: { index, train: window(0, '2024-01-02', '2024-03-28', 60), validation: window(61, '2024-04-01', '2024-04-30', 20), test: window(82 + 2 * index, from, to, sessions.length), purgeSessions: 1 },
    sessions,
    bars: sessions.length * 60,
    trials: 3,
    policies: policies.map(policyResult),
  };
}

/** The report of two folds: buy-and-hold (baseline) and ppo-1. */
export function walkForwardReportFixture(): WalkForwardReport {
  const folds = [
    fold(0, '2024-05-02', '2024-05-03', ['2024-05-02', '2024-05-03'], [
      { policyId: 'buy-and-hold', kind: 'baseline', totalReturn: 0.0031, sharpe: 0.8, trades: 1, passed: false, returns: [0.002, 0.0011], bestBaseline: null },
      { policyId: 'ppo-1', kind: 'ppo', totalReturn: 0.0052, sharpe: 1.4, trades: 7, passed: true, returns: [0.003, 0.0022], bestBaseline: 0.0031 },
    ]),
    fold(1, '2024-05-06', '2024-05-07', ['2024-05-06', '2024-05-07'], [
      { policyId: 'buy-and-hold', kind: 'baseline', totalReturn: -0.0021, sharpe: -0.5, trades: 1, passed: false, returns: [-0.001, -0.0011], bestBaseline: null },
      { policyId: 'ppo-1', kind: 'ppo', totalReturn: -0.0004, sharpe: -0.1, trades: 5, passed: false, returns: [0.0006, -0.001], bestBaseline: -0.0021 },
    ]),
  ];
  return aggregateWalkForward('USD/COP', 'expanding', folds, 0.95);
}

/** Inserts a completed run holding `report` (and its HTML) and returns the run id. */
export async function insertCompletedWalkForwardRun(db: Db, report: WalkForwardReport, createdAt: number): Promise<number> {
  const meta = { generatedAt: createdAt + 60_000, datasetHash: 'd'.repeat(64), researchHash: 'r'.repeat(64), costs: { spreadBps: 2, feeBps: 1 } };
  const id = await insertWalkForwardRun(db, {
    symbol: report.symbol,
    config: { mode: report.mode },
    fingerprint: `fp-${createdAt}`,
    datasetHash: meta.datasetHash,
    researchHash: meta.researchHash,
    plans: report.folds.map((f) => ({ fold: f.fold.index })),
    createdAt,
    actor: 'test',
  });
  await finishWalkForwardRun(db, id, { report: report as unknown as Record<string, unknown>, reportHtml: renderWalkForwardHtml(report, meta) }, meta.generatedAt, 'test');
  return id;
}
