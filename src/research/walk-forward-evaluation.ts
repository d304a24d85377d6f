/**
 * Walk-forward evaluation, pure: every policy over one fold's test window (the same backtest,
 * execution model, costs and gates as L6: policy-evaluation.ts), then the folds together.
 *
 * A fold's result keeps what the aggregate needs and nothing per bar: each policy's metrics and
 * gate results, its equity at each test session's close (growth of 1 over the fold) and the
 * power sums of its per-bar net returns, from which the moments of all its out-of-sample bars
 * are pooled exactly (for one PSR/DSR over the stitched span). A trained policy also keeps its
 * selection across seeds (each seed's validation and test score, and their spread).
 *
 * The aggregate, per policy: the stitched out-of-sample equity (each fold's curve chained onto
 * the previous fold's end), the mean, median and spread of its per-fold Sharpe ratios, the folds
 * where it made money, beat the best baseline and passed every gate, the pooled PSR and DSR
 * (trials: the configurations tried per fold), and a plain verdict that states the uncertainty.
 */
import type { GateResult } from '../contracts/api/research.ts';
import type { TrainingSelectionView } from './backtest-report.ts';
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { evaluatePolicies, rowsOfSessions, type EvaluationOptions, type EvaluationSpan, type PolicyUnderTest } from './policy-evaluation.ts';
import { deflatedSharpe, perBarSharpe, probabilisticSharpe, sharpeVariance, type ReturnMoments } from './significance.ts';
import type { Fold, WalkForwardMode } from './walk-forward.ts';

/** Σr, Σr², Σr³, Σr⁴ over `count` per-bar returns. */
export interface PowerSums {
  count: number;
  s1: number;
  s2: number;
  s3: number;
  s4: number;
}

export interface FoldPolicyResult {
  policyId: string;
  kind: PolicyUnderTest['policy']['kind'];
  totalReturn: number | null;
  grossReturn: number | null;
  sharpe: number | null;
  sortino: number | null;
  maxDrawdown: number | null;
  trades: number;
  turnover: number | null;
  exposure: number | null;
  psr: number | null;
  dsr: number | null;
  passed: boolean;
  verdict: string;
  bestBaseline: { policyId: string; totalReturn: number } | null;
  gates: Array<Pick<GateResult, 'gate' | 'comparator' | 'threshold' | 'value' | 'passed'>>;
  /** Equity (growth of 1 over the fold) at each test session's close. */
  sessionEquity: number[];
  returns: PowerSums;
  /** A trained policy's seeds, chosen on the fold's validation window; absent for a baseline. */
  training?: TrainingSelectionView;
}

export interface FoldResult {
  fold: Fold;
  /** The test window's sessions, in order (the x of `sessionEquity`). */
  sessions: IsoDate[];
  bars: number;
  trials: number;
  policies: FoldPolicyResult[];
}

/** The span's full series (indicators and features are causal: a row uses bars up to it only). */
export type SeriesData = Omit<EvaluationSpan, 'start' | 'end'>;

/** Every policy over `fold`'s test window, judged against the baselines on the same window (initialEquity 1). */
export function evaluateFold(data: SeriesData, fold: Fold, policies: readonly PolicyUnderTest[], options: Omit<EvaluationOptions, 'initialEquity'>): FoldResult {
  const { start, end } = rowsOfSessions(data.series, fold.test.from, fold.test.to);
  const evaluations = evaluatePolicies({ ...data, start, end }, policies, { ...options, initialEquity: 1 });
  const series = data.series.slice(start, end);
  const lastRows = sessionCloseRows(series.map((b) => b.session));
  const results = evaluations.map((e, i): FoldPolicyResult => {
    const m = e.metrics;
    const training = policies[i]?.training;
    return {
      policyId: e.policyId,
      kind: e.kind,
      totalReturn: m.totalReturn,
      grossReturn: m.grossReturn ?? null,
      sharpe: m.sharpe,
      sortino: m.sortino,
      maxDrawdown: m.maxDrawdown,
      trades: m.tradeCount,
      turnover: m.turnover ?? null,
      exposure: m.exposure,
      psr: e.gates.significance?.psr ?? null,
      dsr: e.gates.significance?.dsr ?? null,
      passed: e.gates.passed,
      verdict: e.gates.verdict ?? '',
      bestBaseline: e.gates.bestBaseline ?? null,
      gates: e.gates.gates.map((g) => ({ gate: g.gate, comparator: g.comparator, threshold: g.threshold, value: g.value, passed: g.passed })),
      sessionEquity: lastRows.map((i) => e.result.equity[i]!),
      returns: powerSums(e.result.returns),
      ...(training ? { training: selectionView(training) } : {}),
    };
  });
  const trials = evaluations[0]?.gates.significance?.trials ?? Math.max(options.trials ?? 0, policies.length);
  return { fold, sessions: lastRows.map((i) => series[i]!.session), bars: end - start, trials, policies: results };
}

/** What the report shows of a selection, without the rest a model's metadata carries (checkpoints, evaluations). */
function selectionView(t: TrainingSelectionView): TrainingSelectionView {
  const spread = (s: TrainingSelectionView['test']) => (s === null ? null : { mean: s.mean, min: s.min, max: s.max, std: s.std });
  const score = (e: { meanReward: number } | null) => (e === null ? null : { meanReward: e.meanReward });
  return {
    chosenSeed: t.chosenSeed,
    verdict: t.verdict,
    seeds: t.seeds.map((s) => ({ seed: s.seed, stoppedBy: s.stoppedBy, bestIteration: s.bestIteration, bestSteps: s.bestSteps, validation: score(s.validation), test: score(s.test) })),
    validation: spread(t.validation),
    test: spread(t.test),
  };
}

/** The row of each session's last bar. */
function sessionCloseRows(sessions: readonly IsoDate[]): number[] {
  const rows: number[] = [];
  for (let i = 0; i < sessions.length; i++) if (i === sessions.length - 1 || sessions[i + 1] !== sessions[i]) rows.push(i);
  return rows;
}

export function powerSums(returns: ArrayLike<number>): PowerSums {
  const p: PowerSums = { count: returns.length, s1: 0, s2: 0, s3: 0, s4: 0 };
  for (let i = 0; i < returns.length; i++) {
    const r = returns[i]!;
    const r2 = r * r;
    p.s1 += r;
    p.s2 += r2;
    p.s3 += r2 * r;
    p.s4 += r2 * r2;
  }
  return p;
}

/** The moments (as significance.ts defines them) of the returns behind the sums; null with fewer than 2 or no variance. */
export function momentsOfSums(p: PowerSums): ReturnMoments | null {
  const n = p.count;
  if (n < 2) return null;
  const mean = p.s1 / n;
  const m2 = p.s2 / n - mean * mean;
  if (!(m2 > 0)) return null;
  const m3 = p.s3 / n - 3 * mean * (p.s2 / n) + 2 * mean ** 3;
  const m4 = p.s4 / n - 4 * mean * (p.s3 / n) + 6 * mean * mean * (p.s2 / n) - 3 * mean ** 4;
  return { count: n, mean, stdev: Math.sqrt((m2 * n) / (n - 1)), skewness: m3 / Math.pow(m2, 1.5), kurtosis: m4 / (m2 * m2) };
}

function addSums(a: PowerSums, b: PowerSums): PowerSums {
  return { count: a.count + b.count, s1: a.s1 + b.s1, s2: a.s2 + b.s2, s3: a.s3 + b.s3, s4: a.s4 + b.s4 };
}

// ---------------------------------------------------------------------------------------------
// Aggregate
// ---------------------------------------------------------------------------------------------

export interface WalkForwardPolicySummary {
  policyId: string;
  kind: FoldPolicyResult['kind'];
  folds: number;
  /** Net return of the stitched out-of-sample span (every test window, chained). */
  stitchedReturn: number;
  meanSharpe: number | null;
  medianSharpe: number | null;
  /** Sample standard deviation of the per-fold Sharpe ratios (null with fewer than two). */
  sharpeStdev: number | null;
  positiveFolds: number;
  /** Folds where its net return beat the best other baseline's. */
  beatBestBaselineFolds: number;
  passedFolds: number;
  /** passedFolds / folds. */
  passShare: number;
  pooledPsr: number | null;
  pooledDsr: number | null;
  verdict: string;
}

export interface WalkForwardReport {
  symbol: string;
  mode: WalkForwardMode;
  confidence: number;
  trials: number;
  folds: FoldResult[];
  policies: WalkForwardPolicySummary[];
  /** Every policy's stitched equity at each out-of-sample session's close (growth of 1). */
  equity: { sessions: IsoDate[]; curves: Record<string, number[]> };
  verdict: string;
}

/** The folds (in order, each with the same policies) together. `confidence` is the gates' PSR/DSR threshold. */
export function aggregateWalkForward(symbol: string, mode: WalkForwardMode, folds: readonly FoldResult[], confidence: number): WalkForwardReport {
  if (folds.length === 0) throw new TasaError('bad_argument', 'A walk-forward report needs at least one fold.', { input: 'folds' });
  const ordered = [...folds].sort((a, b) => a.fold.index - b.fold.index);
  const ids = ordered[0]!.policies.map((p) => p.policyId);
  for (const f of ordered) {
    const got = f.policies.map((p) => p.policyId).join(',');
    if (got !== ids.join(',')) throw new TasaError('bad_input', `Fold ${f.fold.index} evaluated ${got}, not ${ids.join(',')} as the other folds.`, { input: String(f.fold.index) });
  }
  const trials = Math.max(...ordered.map((f) => f.trials));
  const pooled = ids.map((id) => momentsOfSums(ordered.map((f) => policyOf(f, id).returns).reduce(addSums)));
  const variance = sharpeVariance(pooled.flatMap((m) => (m === null ? [] : [perBarSharpe(m)])));
  const equity = stitchedEquity(ordered, ids);
  const policies = ids.map((id, j) => summarize(id, ordered, equity.curves[id]!, pooled[j] ?? null, trials, variance, confidence));
  return { symbol, mode, confidence, trials, folds: ordered, policies, equity, verdict: overallVerdict(policies, ordered.length) };
}

function policyOf(f: FoldResult, id: string): FoldPolicyResult {
  return f.policies.find((p) => p.policyId === id)!;
}

function stitchedEquity(folds: readonly FoldResult[], ids: readonly string[]): WalkForwardReport['equity'] {
  const sessions = folds.flatMap((f) => f.sessions);
  const curves: Record<string, number[]> = {};
  for (const id of ids) {
    let base = 1;
    const curve: number[] = [];
    for (const f of folds) {
      const own = policyOf(f, id).sessionEquity;
      for (const e of own) curve.push(base * e);
      if (own.length > 0) base *= own[own.length - 1]!;
    }
    curves[id] = curve;
  }
  return { sessions, curves };
}

function summarize(id: string, folds: readonly FoldResult[], curve: readonly number[], pooled: ReturnMoments | null, trials: number, variance: number, confidence: number): WalkForwardPolicySummary {
  const runs = folds.map((f) => policyOf(f, id));
  const sharpes = runs.flatMap((r) => (r.sharpe === null ? [] : [r.sharpe]));
  const summary = {
    policyId: id,
    kind: runs[0]!.kind,
    folds: runs.length,
    stitchedReturn: (curve[curve.length - 1] ?? 1) - 1,
    meanSharpe: sharpes.length === 0 ? null : sharpes.reduce((s, x) => s + x, 0) / sharpes.length,
    medianSharpe: median(sharpes),
    sharpeStdev: sharpes.length < 2 ? null : Math.sqrt(sharpeVariance(sharpes)),
    positiveFolds: runs.filter((r) => (r.totalReturn ?? 0) > 0).length,
    beatBestBaselineFolds: runs.filter((r) => r.bestBaseline !== null && r.totalReturn !== null && r.totalReturn > r.bestBaseline.totalReturn).length,
    passedFolds: runs.filter((r) => r.passed).length,
    passShare: runs.filter((r) => r.passed).length / runs.length,
    pooledPsr: pooled === null ? null : probabilisticSharpe(pooled, 0),
    pooledDsr: pooled === null ? null : deflatedSharpe(pooled, trials, variance),
  };
  return { ...summary, verdict: policyVerdict(summary, trials, confidence) };
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const two = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(2));

/**
 * One sentence with the evidence and its uncertainty. An edge needs the pooled DSR at the
 * confidence, the gates passed in most folds and the best baseline beaten in most folds.
 */
function policyVerdict(s: Omit<WalkForwardPolicySummary, 'verdict'>, trials: number, confidence: number): string {
  if (s.policyId === 'flat') return `flat holds nothing: the reference (0% in every fold)`;
  const n = s.folds;
  const spread = `median Sharpe ${two(s.medianSharpe)} (mean ${two(s.meanSharpe)}, sd ${two(s.sharpeStdev)} across ${n} folds)`;
  const dsr = s.pooledDsr === null ? 'pooled DSR undefined' : `pooled DSR ${s.pooledDsr.toFixed(2)} ${s.pooledDsr >= confidence ? '>=' : '<'} ${confidence.toFixed(2)}`;
  const evidence = `${dsr} after ${trials} ${trials === 1 ? 'trial' : 'trials'}; gates passed in ${s.passedFolds} of ${n} folds, net return positive in ${s.positiveFolds}, best baseline beaten in ${s.beatBestBaselineFolds}; ${spread}; stitched out-of-sample return ${pct(s.stitchedReturn)}`;
  const edge = s.pooledDsr !== null && s.pooledDsr >= confidence && s.passedFolds * 2 > n && s.beatBestBaselineFolds * 2 > n;
  return `${edge ? 'evidence of an edge out of sample' : 'no evidence of an edge out of sample'}: ${evidence}`;
}

function overallVerdict(policies: readonly WalkForwardPolicySummary[], folds: number): string {
  const candidates = policies.filter((p) => p.policyId !== 'flat');
  const withEdge = candidates.filter((p) => p.verdict.startsWith('evidence'));
  const best = [...candidates].sort((a, b) => b.stitchedReturn - a.stitchedReturn)[0];
  const bestText = best === undefined ? '' : `; the best stitched out-of-sample return is ${best.policyId}'s ${pct(best.stitchedReturn)} (gates passed in ${best.passedFolds} of ${folds} folds)`;
  if (withEdge.length === 0) return `Over ${folds} walk-forward folds no policy shows an edge after costs${bestText}.`;
  return `Over ${folds} walk-forward folds ${withEdge.map((p) => p.policyId).join(', ')} ${withEdge.length === 1 ? 'shows' : 'show'} an edge after costs${bestText}.`;
}
