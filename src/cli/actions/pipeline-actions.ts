/** What the pipeline, train, backtest and models commands run (loaded on demand by ../commands/pipeline-commands.ts). */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MultiBar, type SingleBar } from 'cli-progress';
import { systemClock } from '../../clock.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import type { ArchiveStore } from '../../pipeline/archive/archive-store.ts';
import { archiveOptionsFrom, openArchive } from '../../pipeline/archive/open-archive.ts';
import { readCodeVersion } from '../../pipeline/manifest.ts';
import type { PipelineConfig, PipelineProgress, PipelineResult } from '../../pipeline/run-pipeline.ts';
import { modelEvaluations, NOT_EVALUATED, type ModelEvaluation } from '../../research/model-evaluations.ts';
import { promoteGated } from '../../research/model-promotion.ts';
import type { PerformanceMetrics } from '../../research/performance.ts';
import { createLogger } from '../../log.ts';
import type { FoldExecutor } from '../../pipeline/walk-forward-run.ts';
import { loadResearchConfig, type ResearchConfigOverrides, type ResearchCosts } from '../../research/research-config.ts';
import type { Db } from '../../store/db.ts';
import { listModels, type ModelStatus } from '../../store/models-repo.ts';
import { parseChoiceArg, parseDateRange, parseDecimalArg, parseIntegerArg, parseIsoDateArg, parseSymbolArg } from '../args.ts';
import { createContext, withStore, type CliContext } from '../context.ts';
import { createRowWriter, parseFormat, type Column, type Row } from '../output.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Loaded when a command runs: the pipeline brings TensorFlow.js and Parquet, seconds of start-up every other command should not pay. */
const pipelineModule = () => import('../../pipeline/run-pipeline.ts');

/** Flags over the research config (research.config.json, TASA_RESEARCH_CONFIG). */
export interface CostCliOptions {
  spreadBps?: string;
  feeBps?: string;
  slippageBps?: string;
  gateConfidence?: string;
  trials?: string;
}

export interface DatasetCliOptions extends CostCliOptions {
  split?: string;
  purgeSessions?: string;
}

export interface RunCliOptions extends DatasetCliOptions {
  symbol: string;
  layers: string;
  from?: string;
  to?: string;
  steps?: string;
  seed?: string;
  seeds?: string;
  skipTraining?: boolean;
  force?: boolean;
}

export interface TrainCliOptions extends DatasetCliOptions {
  symbol: string;
  policy: string;
  steps?: string;
  seed?: string;
  seeds?: string;
  force?: boolean;
}

export interface BacktestCliOptions extends CostCliOptions {
  symbol: string;
  policy: string;
  from: string;
  to?: string;
  report?: string;
}

export interface ListModelsCliOptions {
  symbol?: string;
  status?: string;
  format?: string;
}

export async function runLayers(o: RunCliOptions): Promise<void> {
  const { parseLayerList, runPipeline } = await pipelineModule();
  const layers = parseLayerList(o.layers).filter((l) => !(o.skipTraining === true && l === 'L5'));
  const overrides = datasetOverrides(o);
  const ppo = ppoConfig(o);
  if (!layers.includes('L4') && touchesDataset(overrides)) {
    throw new TasaError('bad_argument', 'Costs, --split and --purge-sessions shape the L4 dataset; select L4 in --layers (e.g. L4-L6) to apply them.', { input: '--layers' });
  }
  const research = await loadResearchConfig(ROOT, overrides);
  const ctx = createContext();
  const walkForward = layers.includes('L6') && research.config.walkForward.enabled;
  const result = await withPipeline(ctx, (deps) =>
    withFoldJobs(ctx, deps, walkForward, (folds) =>
      runPipeline({
        ...deps,
        symbol: parseSymbolArg(o.symbol),
        layers,
        from: o.from === undefined ? undefined : parseIsoDateArg('--from', o.from),
        to: o.to === undefined ? undefined : parseIsoDateArg('--to', o.to),
        config: { ...ppo, research },
        force: o.force === true,
        ...(folds === null ? {} : { folds }),
      }),
    ),
  );
  printResult(result);
}

/**
 * Runs `fn` with the walk-forward folds as pg-boss jobs (when `needed`): this process works them
 * and so does every worker on the same database; null when no walk-forward is due.
 */
async function withFoldJobs<T>(ctx: CliContext, deps: PipelineDeps, needed: boolean, fn: (folds: FoldExecutor | null) => Promise<T>): Promise<T> {
  if (!needed) return fn(null);
  const { jobFoldExecutor } = await import('../../jobs/walk-forward-jobs.ts');
  const logger = createLogger(ctx.config.TASA_LOG_LEVEL);
  const executor = await jobFoldExecutor({ db: deps.db, archive: deps.archive, clock: deps.clock, calendar: deps.calendar, databaseUrl: ctx.config.DATABASE_URL, logger });
  try {
    return await fn(executor);
  } finally {
    await executor.jobs.stop();
  }
}

export async function train(o: TrainCliOptions): Promise<void> {
  if (o.policy !== 'ppo') throw new TasaError('bad_argument', `--policy must be ppo (the only trainable policy), not "${o.policy}".`, { input: `--policy=${o.policy}` });
  const ppo = ppoConfig(o);
  const research = await loadResearchConfig(ROOT, datasetOverrides(o));
  const { runPipeline } = await pipelineModule();
  const result = await withPipeline(createContext(), (deps) =>
    runPipeline({ ...deps, symbol: parseSymbolArg(o.symbol), layers: ['L1', 'L2', 'L3', 'L4', 'L5'], config: { ...ppo, research }, force: o.force === true }),
  );
  printResult(result);
}

export async function backtest(o: BacktestCliOptions): Promise<void> {
  const range = parseDateRange(o.from, o.to);
  const symbol = parseSymbolArg(o.symbol);
  const overrides = costOverrides(o);
  const research = await loadResearchConfig(ROOT, overrides);
  const { backtestOverRange } = await import('../../pipeline/ad-hoc-backtest.ts');
  const ctx = createContext();
  const run = await withStore(ctx, (db) =>
    backtestOverRange({ db, calendar: ctx.calendar, clock: systemClock, symbol, policyId: o.policy, ...range, research, chargeResearchCosts: overrides.costs !== undefined }),
  );
  if (o.report !== undefined) await writeFile(o.report, run.evaluation.reportHtml);
  const e = run.evaluation;
  console.log(`backtest ${run.backtestId}: ${e.policyId} on ${e.from}..${e.to}, costs ${run.costs.spreadBps}+${run.costs.feeBps}+${run.costs.slippageBps ?? 0} bps (spread+fee+slippage; ${run.costSource})`);
  console.log(metricsLine(e.metrics));
  console.log(`gates ${e.gates.passed ? 'passed' : 'failed'}: ${e.gates.gates.map((g) => `${g.gate} ${g.passed ? 'ok' : 'FAIL'}`).join(', ')}`);
  if (o.report !== undefined) console.log(`report written to ${o.report}`);
}

export async function printModels(o: ListModelsCliOptions): Promise<void> {
  const status = o.status === undefined ? undefined : modelStatus(o.status);
  const { rows, evaluations } = await withStore(createContext(), async (db) => {
    const models = await listModels(db, { ...(o.symbol === undefined ? {} : { symbol: parseSymbolArg(o.symbol) }), ...(status === undefined ? {} : { status }), limit: 1000 });
    return { rows: models, evaluations: await modelEvaluations(db, models.map((m) => m.id)) };
  });
  const writer = createRowWriter(parseFormat(o.format, process.stdout.isTTY), MODEL_COLUMNS, process.stdout);
  await writer.write(
    rows.map((m) => ({
      id: m.id,
      kind: m.kind,
      symbol: m.symbol,
      status: m.status,
      created: toIsoUtc(m.createdAt),
      promoted: m.promotedAt === null ? null : toIsoUtc(m.promotedAt),
      dataset: m.datasetHash?.slice(0, 12) ?? null,
      validation_reward: validationReward(m.metrics),
      weights_kib: m.weightsBytes === null ? null : Math.round(m.weightsBytes / 1024),
      ...evaluationCells(evaluations.get(m.id) ?? NOT_EVALUATED),
    })),
  );
  await writer.end();
}

/** Test metrics and the newest gate result (`gates`: passed, failed, not gated, or null without a backtest). */
function evaluationCells(e: ModelEvaluation): Row {
  const g = e.gateResult;
  return {
    test_return: e.test?.totalReturn ?? null,
    test_sharpe: e.test?.sharpe ?? null,
    test_trades: e.test?.tradeCount ?? null,
    gates: g === null ? null : g.passed === null ? 'not gated' : g.passed ? 'passed' : 'failed',
    failed_gates: g === null || g.failedGates.length === 0 ? null : g.failedGates.join(','),
    verdict: g?.verdict ?? null,
  };
}

export async function promote(id: string, o: { force?: boolean }): Promise<void> {
  const request = { actor: 'cli', at: systemClock.now(), force: o.force === true, forceHint: '--force' };
  const promotion = await withStore(createContext(), (db) => promoteGated(db, id, request));
  const m = promotion.model;
  if (!promotion.changed) console.log(`${m.id} already is the production model of ${m.symbol}.`);
  else console.log(`${m.id} is now the production model of ${m.symbol}${promotion.previousId ? ` (replacing ${promotion.previousId}, now a candidate)` : ''}.`);
}

const MODEL_COLUMNS: Column[] = [
  { key: 'id' },
  { key: 'kind' },
  { key: 'symbol' },
  { key: 'status' },
  { key: 'created' },
  { key: 'promoted' },
  { key: 'dataset' },
  { key: 'validation_reward', numeric: true, tableNumber: (x) => x.toFixed(5) },
  { key: 'test_return', numeric: true, tableNumber: (x) => `${(x * 100).toFixed(2)}%` },
  { key: 'test_sharpe', numeric: true, tableNumber: (x) => x.toFixed(2) },
  { key: 'test_trades', numeric: true },
  { key: 'weights_kib', numeric: true },
  { key: 'gates' },
  { key: 'failed_gates' },
  { key: 'verdict' },
];

function modelStatus(value: string): ModelStatus {
  return parseChoiceArg('--status', value, ['candidate', 'production', 'retired'] as const);
}

function validationReward(metrics: Record<string, unknown>): number | null {
  const validation = metrics['validation'] as { meanReward?: unknown } | null | undefined;
  return typeof validation?.meanReward === 'number' ? validation.meanReward : null;
}

/** --steps, --seed and --seeds as PPO options (over the research config's training section). */
export function ppoConfig(o: { steps?: string; seed?: string; seeds?: string }): PipelineConfig {
  const steps = o.steps === undefined ? undefined : parseIntegerArg('--steps', o.steps);
  const seed = o.seed === undefined ? undefined : parseIntegerArg('--seed', o.seed, 0);
  const seeds = o.seeds === undefined ? undefined : parseIntegerArg('--seeds', o.seeds);
  return { ppo: { ...(steps === undefined ? {} : { steps }), ...(seed === undefined ? {} : { seed }), ...(seeds === undefined ? {} : { seeds }) } };
}

/** The cost, gate and trials flags as research config overrides; each flag checked on its own. */
function costOverrides(o: CostCliOptions): ResearchConfigOverrides {
  const bps = (flag: string, value: string) => parseDecimalArg(flag, value, { min: 0, max: 10_000 });
  const costs: Partial<ResearchCosts> = {
    ...(o.spreadBps === undefined ? {} : { spreadBps: o.spreadBps === 'from-ticks' ? 'from-ticks' : bps('--spread-bps', o.spreadBps) }),
    ...(o.feeBps === undefined ? {} : { feeBps: bps('--fee-bps', o.feeBps) }),
    ...(o.slippageBps === undefined ? {} : { slippageBps: bps('--slippage-bps', o.slippageBps) }),
  };
  return {
    ...(Object.keys(costs).length === 0 ? {} : { costs }),
    ...(o.gateConfidence === undefined ? {} : { gates: { confidence: parseDecimalArg('--gate-confidence', o.gateConfidence, { min: 0, max: 1, maxExcluded: true }) } }),
    ...(o.trials === undefined ? {} : { trials: parseIntegerArg('--trials', o.trials) }),
  };
}

function datasetOverrides(o: DatasetCliOptions): ResearchConfigOverrides {
  return {
    ...costOverrides(o),
    ...(o.split === undefined ? {} : { split: parseSplitArg(o.split) }),
    ...(o.purgeSessions === undefined ? {} : { purgeSessions: parseIntegerArg('--purge-sessions', o.purgeSessions, 0) }),
  };
}

function touchesDataset(o: ResearchConfigOverrides): boolean {
  return o.costs !== undefined || o.split !== undefined || o.purgeSessions !== undefined;
}

/** `--split 0.7,0.15,0.15`: train, validation and test fractions, each > 0, summing to 1. */
function parseSplitArg(value: string): ResearchConfigOverrides['split'] {
  const parts = value.split(',');
  const fractions = parts.map((p) => Number(p.trim()));
  const sum = fractions.reduce((s, x) => s + x, 0);
  if (parts.length !== 3 || fractions.some((x) => !(x > 0 && x < 1)) || Math.abs(sum - 1) > 1e-9) {
    throw new TasaError('bad_argument', `--split must be three fractions train,validation,test, each between 0 and 1, summing to 1 (e.g. 0.7,0.15,0.15), not "${value}".`, {
      input: `--split=${value}`,
    });
  }
  return { train: fractions[0]!, validation: fractions[1]!, test: fractions[2]! };
}

interface PipelineDeps {
  db: Db;
  archive: ArchiveStore;
  clock: typeof systemClock;
  calendar: CliContext['calendar'];
  codeVersion: Awaited<ReturnType<typeof readCodeVersion>>;
  onProgress: (p: PipelineProgress) => void;
}

/** The store, the archive, the code version and a progress display for one pipeline call. */
async function withPipeline<T>(ctx: CliContext, fn: (deps: PipelineDeps) => Promise<T>): Promise<T> {
  const codeVersion = await readCodeVersion(ROOT, process.env['TASA_GIT_COMMIT']);
  const archive = await openArchive(archiveOptionsFrom(ctx.config));
  const progress = createProgress();
  try {
    return await withStore(ctx, (db) => fn({ db, archive, clock: systemClock, calendar: ctx.calendar, codeVersion, onProgress: progress.update }));
  } finally {
    progress.stop();
    await archive.close();
  }
}

/** One bar per layer on a terminal; one line per finished layer otherwise. */
function createProgress(): { update: (p: PipelineProgress) => void; stop: () => void } {
  if (!process.stderr.isTTY) {
    return {
      update: (p) => {
        if (p.phase === 'completed' || p.phase === 'skipped' || p.phase === 'failed') process.stderr.write(`${p.layer} ${p.symbol}: ${p.phase} (run ${p.runId})\n`);
      },
      stop: () => undefined,
    };
  }
  const multi = new MultiBar({ format: '{layer} {symbol} [{bar}] {phase} {value}/{total}', stream: process.stderr, hideCursor: true, clearOnComplete: false });
  const bars = new Map<string, SingleBar>();
  return {
    update: (p) => {
      const payload = { layer: p.layer, symbol: p.symbol, phase: p.phase.padEnd(9) };
      const total = Math.max(p.total, 1);
      const value = p.phase === 'completed' || p.phase === 'skipped' ? total : p.done;
      let bar = bars.get(p.layer);
      if (!bar) bars.set(p.layer, (bar = multi.create(total, value, payload)));
      bar.setTotal(total);
      bar.update(value, payload);
    },
    stop: () => multi.stop(),
  };
}

function printResult(result: PipelineResult): void {
  if (result.range) console.log(`${result.symbol} ${result.range.from}..${result.range.to}`);
  for (const l of result.layers) {
    const reused = l.status === 'skipped' ? ` (same as run ${l.sourceRunId})` : '';
    console.log(`${l.layer} ${l.status.padEnd(9)} run ${l.runId}${reused}  dataset ${l.datasetHash.slice(0, 16)}  ${layerNote(l.layer, l.summary)}`);
  }
  if (result.modelId) console.log(`model ${result.modelId} (candidate; promote it with: tasa models promote ${result.modelId})`);
  if (result.backtestIds.length > 0) console.log(`backtests stored: ${result.backtestIds.join(', ')}`);
  const wf = result.walkForward;
  if (wf?.status === 'skipped') console.log(`walk-forward skipped: ${wf.reason}`);
  else if (wf) {
    console.log(`walk-forward ${wf.runId} (${wf.folds} folds${wf.status === 'reused' ? ', same inputs as before: reused' : ''}): ${wf.verdict}`);
    console.log(`walk-forward report: ${wf.htmlKey} and ${wf.markdownKey} in the archive; tasa walk-forward show ${wf.runId}`);
  }
}

function layerNote(layer: string, s: Record<string, unknown>): string {
  if (layer === 'L4' && typeof s['rlDatasetHash'] === 'string') return `rl dataset ${s['rlDatasetHash'].slice(0, 16)}, ${String(s['episodes'])} episodes${spreadNote(s)}`;
  if (layer === 'L5' && typeof s['modelId'] === 'string') return `model ${s['modelId']}${trainingNote(s)}`;
  if (layer === 'L6' && Array.isArray(s['policies'])) {
    return (s['policies'] as Array<{ id: string; totalReturn: number | null; passed: boolean }>).map((p) => `${p.id} ${percent(p.totalReturn)}${p.passed ? ' ✓' : ''}`).join(', ');
  }
  return '';
}

/** How L5 trained: steps over all seeds, their speed, and the selection's verdict on the validation split. */
function trainingNote(s: Record<string, unknown>): string {
  const selection = s['selection'] as { verdict?: unknown } | undefined;
  const steps = s['totalSteps'];
  const rate = s['stepsPerSecond'];
  const speed = typeof steps === 'number' && typeof rate === 'number' ? `, ${steps.toLocaleString('en-US')} steps at ${Math.round(rate).toLocaleString('en-US')} steps/s` : '';
  return `${speed}${typeof selection?.verdict === 'string' ? `. ${selection.verdict}` : ''}`;
}

/** The spread an L4 run charged and where it came from, when it recorded one. */
function spreadNote(s: Record<string, unknown>): string {
  const spread = s['spread'] as { note?: unknown } | undefined;
  return typeof spread?.note === 'string' ? `, ${spread.note}` : '';
}

function percent(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`;
}

function metricsLine(m: PerformanceMetrics): string {
  const ratio = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  return `total return ${percent(m.totalReturn)}, Sharpe ${ratio(m.sharpe)}, Sortino ${ratio(m.sortino)}, max drawdown ${percent(m.maxDrawdown)}, ${m.tradeCount} trades, exposure ${percent(m.exposure)}`;
}
