/**
 * A walk-forward evaluation of one symbol: plans the folds over the sessions of the L1 run
 * (research/walk-forward.ts), records the run with its folds queued (store/walk-forward-repo.ts),
 * hands them to a `FoldExecutor` (the pg-boss jobs of jobs/walk-forward-jobs.ts, which several
 * workers share, or `inProcessFolds`), and once every fold is done assembles the report (JSON in
 * the run's row, HTML and Markdown in the archive next to L6's files).
 *
 * With the spread "from-ticks", each fold is charged the spread estimated from the quotes stored
 * before its test window opens (`foldCosts`), never from the window it is judged on.
 *
 * A run whose inputs (the run config with the L4 dataset's sha256 and the fold costs, the fold
 * plan and the code version) equal a completed run's is not repeated: that run's report is returned.
 *
 * While it waits for the folds, the process beats the run's heartbeat every `RUN_HEARTBEAT_MS`;
 * a running run with no beat for `STALE_RUN_MS` lost the process that would assemble it, and
 * `failStaleRuns` (every new run, and `tasa walk-forward list`) fails it, saying so. A run's start,
 * completion and failure are audited (store/walk-forward-repo.ts).
 */
import { errorMessage, TasaError } from '../errors.ts';
import { canonicalJson, type ResearchCosts } from '../research/research-config.ts';
import { sessionRanges } from '../research/series.ts';
import { chooseSpread, tradingCostsOf } from '../research/spread-estimate.ts';
import type { SeriesBar, TradingCosts } from '../research/types.ts';
import { aggregateWalkForward, type FoldResult, type WalkForwardReport } from '../research/walk-forward-evaluation.ts';
import { renderWalkForwardHtml, renderWalkForwardMarkdown } from '../research/walk-forward-report.ts';
import { planFolds, type Fold } from '../research/walk-forward.ts';
import type { Db } from '../store/db.ts';
import { beatWalkForwardRun, failStaleWalkForwardRuns, finishWalkForwardRun, insertWalkForwardRun, listFolds, listWalkForwardRuns } from '../store/walk-forward-repo.ts';
import { layerFileKey } from './layout.ts';
import { sha256Hex, type CodeVersion } from './manifest.ts';
import { FoldDataCache, runFold, type FoldDeps, type WalkForwardRunConfig } from './walk-forward-fold.ts';

/** Runs the queued folds of a walk-forward run; resolves once every fold is completed or failed. */
export interface FoldExecutor {
  runFolds(runId: number, folds: number): Promise<void>;
}

/** The folds one after the other in this process (tests, and callers without a job queue). */
export function inProcessFolds(d: FoldDeps, worker = `in-process:${process.pid}`): FoldExecutor {
  const cache = new FoldDataCache();
  return {
    runFolds: async (runId, folds) => {
      for (let fold = 0; fold < folds; fold++) await runFold(d, cache, runId, fold, worker).catch(() => undefined); // the error is stored with the fold
    },
  };
}

export interface WalkForwardOptions extends FoldDeps {
  codeVersion: CodeVersion;
  config: WalkForwardRunConfig;
  /** The folds (`planWalkForward`). */
  folds: readonly Fold[];
  researchHash: string | null;
  executor: FoldExecutor;
  /** The research config's costs when its spread is "from-ticks": every fold then estimates its own (`foldCosts`). */
  spreadFromTicks?: ResearchCosts;
  /** Run even when an identical run completed. */
  force?: boolean;
  /** Who runs it, for the audit log (default `pipeline`). */
  actor?: string;
}

/** How often the waiting process beats its run's heartbeat. */
export const RUN_HEARTBEAT_MS = 60_000;
/** A running run with no heartbeat for this long lost its process. */
export const STALE_RUN_MS = 10 * 60_000;

/** Fails the running runs whose process stopped beating their heartbeat (see the file comment); returns their ids. */
export async function failStaleRuns(d: Pick<FoldDeps, 'db' | 'clock'>, actor = 'system'): Promise<number[]> {
  const now = d.clock.now();
  const reason = `stale: the process that queued its folds stopped (no heartbeat for ${STALE_RUN_MS / 60_000} minutes); run it again`;
  return failStaleWalkForwardRuns(d.db, STALE_RUN_MS, now, reason, actor);
}

export interface WalkForwardOutcome {
  runId: number;
  /** true when an identical completed run's report was reused. */
  reused: boolean;
  report: WalkForwardReport;
  /** Archive keys of the HTML and Markdown reports. */
  htmlKey: string;
  markdownKey: string;
}

/** The folds of `config` over the sessions of `series`; `purgeSessions` (the research config's) when the walk-forward section sets none. */
export function planWalkForward(series: readonly Pick<SeriesBar, 'session'>[], config: WalkForwardRunConfig, purgeSessions: number): Fold[] {
  return planFolds(
    sessionRanges(series).map((r) => r.session),
    config.walkForward,
    purgeSessions,
  );
}

/** Each fold's costs, the spread estimated from the quotes stored before its test window's first session opens. */
export async function foldCosts(d: Pick<FoldDeps, 'db' | 'calendar'>, symbol: string, costs: ResearchCosts, folds: readonly Fold[]): Promise<TradingCosts[]> {
  const perFold: TradingCosts[] = [];
  for (const fold of folds) {
    const session = d.calendar.of(symbol).sessionFor(fold.test.from);
    if (session === null) throw new TasaError('internal', `Walk-forward fold ${fold.index + 1} of ${symbol} tests from ${fold.test.from}, which is not a session.`, { input: fold.test.from });
    perFold.push(tradingCostsOf(costs, await chooseSpread(d.db, symbol, costs, d.calendar.of(symbol), session.open)));
  }
  return perFold;
}

export async function runWalkForward(o: WalkForwardOptions): Promise<WalkForwardOutcome> {
  const c: WalkForwardRunConfig = o.spreadFromTicks === undefined ? o.config : { ...o.config, foldCosts: await foldCosts(o, o.config.symbol, o.spreadFromTicks, o.folds) };
  const folds = o.folds;
  const fingerprint = sha256Hex(canonicalJson({ config: c, folds, code: o.codeVersion }));
  const keys = reportKeys(c.symbol, fingerprint);
  const [previous] = o.force === true ? [] : await listWalkForwardRuns(o.db, { symbol: c.symbol, fingerprint, status: 'completed', limit: 1 });
  if (previous !== undefined && previous.report !== null) return { runId: previous.id, reused: true, report: previous.report as unknown as WalkForwardReport, ...keys };
  await failStaleRuns(o);
  const actor = o.actor ?? 'pipeline';
  const runId = await insertWalkForwardRun(o.db, {
    actor,
    symbol: c.symbol,
    config: c as unknown as Record<string, unknown>,
    fingerprint,
    datasetHash: c.datasetHash,
    researchHash: o.researchHash,
    plans: folds as unknown as Record<string, unknown>[],
    createdAt: o.clock.now(),
  });
  try {
    await withHeartbeat(o, runId, () => o.executor.runFolds(runId, folds.length));
    const report = await assemble(o.db, runId, c);
    const meta = {
      generatedAt: o.clock.now(),
      datasetHash: c.datasetHash,
      researchHash: o.researchHash,
      costs: c.costs,
      ...(c.foldCosts === undefined ? {} : { foldSpreadsBps: c.foldCosts.map((f) => f.spreadBps) }),
    };
    const html = renderWalkForwardHtml(report, meta);
    await o.archive.put(keys.htmlKey, new TextEncoder().encode(html));
    await o.archive.put(keys.markdownKey, new TextEncoder().encode(renderWalkForwardMarkdown(report, meta)));
    await finishWalkForwardRun(o.db, runId, { report: report as unknown as Record<string, unknown>, reportHtml: html }, o.clock.now(), actor);
    return { runId, reused: false, report, ...keys };
  } catch (err) {
    // A run already failed as stale (its process was paused too long) keeps that outcome.
    const stillRunning = !(err instanceof TasaError && err.code === 'conflict');
    if (stillRunning) await finishWalkForwardRun(o.db, runId, { error: errorMessage(err) }, o.clock.now(), actor);
    throw err;
  }
}

/** `work` while the run's heartbeat is beaten every `RUN_HEARTBEAT_MS` (a failed beat is tried again at the next). */
async function withHeartbeat<T>(d: Pick<FoldDeps, 'db'>, runId: number, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => void beatWalkForwardRun(d.db, runId).catch(() => undefined), RUN_HEARTBEAT_MS);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

function reportKeys(symbol: string, fingerprint: string): { htmlKey: string; markdownKey: string } {
  const name = `walk-forward-${fingerprint.slice(0, 16)}`;
  return { htmlKey: layerFileKey('L6', symbol, `${name}.html`), markdownKey: layerFileKey('L6', symbol, `${name}.md`) };
}

/** The report of a run whose folds are all completed; a failed or unfinished fold fails it, naming the fold. */
async function assemble(db: Db, runId: number, c: WalkForwardRunConfig): Promise<WalkForwardReport> {
  const stored = await listFolds(db, runId);
  const unfinished = stored.filter((f) => f.status !== 'completed' || f.result === null);
  if (unfinished.length > 0) {
    const what = unfinished.map((f) => `fold ${f.fold + 1} ${f.status}${f.error === null ? '' : `: ${f.error}`}`).join('; ');
    throw new TasaError('internal', `Walk-forward run ${runId} of ${c.symbol} has unfinished folds (${what}).`, { input: String(runId) });
  }
  return aggregateWalkForward(
    c.symbol,
    c.walkForward.mode,
    stored.map((f) => f.result as unknown as FoldResult),
    c.gates.confidence,
  );
}
