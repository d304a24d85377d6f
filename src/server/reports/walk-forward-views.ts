/**
 * Stored walk-forward runs (store/walk-forward-repo.ts) as the JSON shapes of the walk-forward
 * routes (src/contracts/api/walk-forward.ts). The stored report is the one
 * pipeline/walk-forward-run.ts assembled (research/walk-forward-evaluation.ts); every policy it
 * holds is listed, whatever its kind.
 */
import type { WalkForwardFoldRow, WalkForwardPolicyView, WalkForwardRunDetail, WalkForwardRunItem } from '../../contracts/api/walk-forward.ts';
import { toIsoUtc } from '../../domain/time.ts';
import type { FoldResult, WalkForwardPolicySummary, WalkForwardReport } from '../../research/walk-forward-evaluation.ts';
import type { StoredWalkForwardRun } from '../../store/walk-forward-repo.ts';

/** The report JSON as stored; null while the run is running or after it failed. */
function reportOf(run: StoredWalkForwardRun): WalkForwardReport | null {
  return run.status === 'completed' && run.report !== null ? (run.report as unknown as WalkForwardReport) : null;
}

export function walkForwardRunItem(run: StoredWalkForwardRun): WalkForwardRunItem {
  const report = reportOf(run);
  return {
    id: run.id,
    symbol: run.symbol,
    status: run.status,
    folds: run.folds,
    fingerprint: run.fingerprint,
    datasetHash: run.datasetHash,
    researchHash: run.researchHash,
    verdict: report?.verdict ?? null,
    error: run.error,
    // A run completes only with its HTML stored beside the report (finishWalkForwardRun).
    hasReport: report !== null,
    createdAt: toIsoUtc(run.createdAt),
    finishedAt: run.finishedAt === null ? null : toIsoUtc(run.finishedAt),
  };
}

export function walkForwardRunDetail(run: StoredWalkForwardRun): WalkForwardRunDetail {
  const report = reportOf(run);
  return {
    ...walkForwardRunItem(run),
    report: report === null ? null : { mode: report.mode, confidence: report.confidence, trials: report.trials, policies: report.policies.map((p) => policyView(p, report.folds)) },
  };
}

function policyView(p: WalkForwardPolicySummary, folds: readonly FoldResult[]): WalkForwardPolicyView {
  return {
    policyId: p.policyId,
    kind: p.kind,
    folds: p.folds,
    meanSharpe: p.meanSharpe,
    medianSharpe: p.medianSharpe,
    sharpeStdev: p.sharpeStdev,
    positiveFolds: p.positiveFolds,
    beatBestBaselineFolds: p.beatBestBaselineFolds,
    passedFolds: p.passedFolds,
    stitchedReturn: p.stitchedReturn,
    psr: p.pooledPsr,
    dsr: p.pooledDsr,
    verdict: p.verdict,
    perFold: foldRows(p.policyId, folds),
  };
}

function foldRows(policyId: string, folds: readonly FoldResult[]): WalkForwardFoldRow[] {
  const rows: WalkForwardFoldRow[] = [];
  for (const f of [...folds].sort((a, b) => a.fold.index - b.fold.index)) {
    const r = f.policies.find((x) => x.policyId === policyId);
    if (r === undefined) continue;
    rows.push({ fold: f.fold.index, testFrom: f.fold.test.from, testTo: f.fold.test.to, totalReturn: r.totalReturn, sharpe: r.sharpe, trades: r.trades, passed: r.passed });
  }
  return rows;
}
