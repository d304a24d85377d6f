/**
 * The research pipeline from the command line:
 *   tasa pipeline run [--layers L0-L6] [--from --to] [--steps N --seed S] [--skip-training] [--force]
 *   tasa train --policy ppo [--steps N --seed S]
 *   tasa backtest --policy <model id|baseline> --from --to [--report out.html]
 *   tasa models list | promote <id>
 * Each a thin wrapper over src/pipeline (run-pipeline.ts, ad-hoc-backtest.ts) and the model registry.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import type { ArchiveStore } from '../../pipeline/archive/archive-store.ts';
import { archiveOptionsFrom, openArchive } from '../../pipeline/archive/open-archive.ts';
import { readCodeVersion } from '../../pipeline/manifest.ts';
import type { PipelineConfig, PipelineProgress, PipelineResult } from '../../pipeline/run-pipeline.ts';
import type { PerformanceMetrics } from '../../research/performance.ts';
import type { Db } from '../../store/db.ts';
import { listModels, promoteModel, type ModelStatus } from '../../store/models-repo.ts';
import { parseDateRange, parseIsoDateArg, parseSymbolArg } from '../args.ts';
import { createContext, withStore, type CliContext } from '../context.ts';
import { createRowWriter, parseFormat, type Column } from '../output.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Loaded when a command runs: the pipeline brings TensorFlow.js and Parquet, seconds of start-up every other command should not pay. */
const pipelineModule = () => import('../../pipeline/run-pipeline.ts');

interface RunCliOptions {
  symbol: string;
  layers: string;
  from?: string;
  to?: string;
  steps?: string;
  seed?: string;
  skipTraining?: boolean;
  force?: boolean;
}

interface TrainCliOptions {
  symbol: string;
  policy: string;
  steps?: string;
  seed?: string;
  force?: boolean;
}

interface BacktestCliOptions {
  symbol: string;
  policy: string;
  from: string;
  to?: string;
  report?: string;
}

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command('pipeline').description('The research pipeline: L0 raw -> L1 bars -> L2 indicators -> L3 features -> L4 RL dataset -> L5 PPO policy -> L6 backtests');
  pipeline
    .command('run')
    .description('Run pipeline layers in order; a layer whose inputs, config and code are unchanged is skipped')
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--layers <list>', 'layers to run, e.g. L2-L6 or L2-L4,L6', 'L0-L6')
    .option('--from <date>', 'first Bogota session date of L0/L1 (default: the first stored bar)')
    .option('--to <date>', 'last Bogota session date of L0/L1 (default: the last stored bar)')
    .option('--steps <n>', 'PPO training steps for L5')
    .option('--seed <n>', 'PPO seed for L5')
    .option('--skip-training', 'leave L5 out: L6 backtests the models already registered')
    .option('--force', 'recompute the selected layers even when an identical run exists')
    .action(async (o: RunCliOptions) => {
      const { parseLayerList, runPipeline } = await pipelineModule();
      const layers = parseLayerList(o.layers).filter((l) => !(o.skipTraining === true && l === 'L5'));
      const result = await withPipeline(createContext(), (deps) =>
        runPipeline({
          ...deps,
          symbol: parseSymbolArg(o.symbol),
          layers,
          from: o.from === undefined ? undefined : parseIsoDateArg('--from', o.from),
          to: o.to === undefined ? undefined : parseIsoDateArg('--to', o.to),
          config: ppoConfig(o),
          force: o.force === true,
        }),
      );
      printResult(result);
    });
  program
    .command('train')
    .description('Train a PPO policy (pipeline layer L5, after L1-L4, which are skipped when unchanged) and register it as a candidate')
    .requiredOption('--policy <kind>', 'policy to train (ppo)')
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--steps <n>', 'environment steps to train for')
    .option('--seed <n>', 'random seed (same seed and dataset: same model)')
    .option('--force', 'train even when the same training already ran')
    .action(async (o: TrainCliOptions) => {
      if (o.policy !== 'ppo') throw new TasaError('bad_argument', `--policy must be ppo (the only trainable policy), not "${o.policy}".`, { input: `--policy=${o.policy}` });
      const { runPipeline } = await pipelineModule();
      const result = await withPipeline(createContext(), (deps) =>
        runPipeline({ ...deps, symbol: parseSymbolArg(o.symbol), layers: ['L1', 'L2', 'L3', 'L4', 'L5'], config: ppoConfig(o), force: o.force === true }),
      );
      printResult(result);
    });
  program
    .command('backtest')
    .description('Backtest a registered model or a baseline over a range of sessions; stores the result and can write its HTML report')
    .requiredOption('--policy <id>', 'model id (tasa models list) or baseline: flat, always-long, sma-crossover, rsi-mean-reversion')
    .requiredOption('--from <date>', 'first Bogota session date')
    .option('--to <date>', 'last Bogota session date (default: --from)')
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--report <file>', 'write the self-contained HTML report to this file')
    .action(async (o: BacktestCliOptions) => {
      const range = parseDateRange(o.from, o.to);
      const { backtestOverRange } = await import('../../pipeline/ad-hoc-backtest.ts');
      const ctx = createContext();
      const run = await withStore(ctx, (db) => backtestOverRange({ db, calendar: ctx.calendar, clock: systemClock, symbol: parseSymbolArg(o.symbol), policyId: o.policy, ...range }));
      if (o.report !== undefined) await writeFile(o.report, run.evaluation.reportHtml);
      const e = run.evaluation;
      console.log(`backtest ${run.backtestId}: ${e.policyId} on ${e.from}..${e.to}, costs ${run.costs.spreadBps}+${run.costs.feeBps} bps`);
      console.log(metricsLine(e.metrics));
      console.log(`gates ${e.gates.passed ? 'passed' : 'failed'}: ${e.gates.gates.map((g) => `${g.gate} ${g.passed ? 'ok' : 'FAIL'}`).join(', ')}`);
      if (o.report !== undefined) console.log(`report written to ${o.report}`);
    });
  registerModelsCommands(program);
}

function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('The model registry: trained policies and which one is in production');
  models
    .command('list')
    .description('Registered models, newest first')
    .option('--symbol <symbol>', 'only this instrument')
    .option('--status <status>', 'candidate, production or retired')
    .option('--format <format>', 'table, csv or json (default: table on a terminal, csv otherwise)')
    .action(async (o: { symbol?: string; status?: string; format?: string }) => {
      const status = o.status === undefined ? undefined : modelStatus(o.status);
      const rows = await withStore(createContext(), (db) =>
        listModels(db, { ...(o.symbol === undefined ? {} : { symbol: parseSymbolArg(o.symbol) }), ...(status === undefined ? {} : { status }), limit: 1000 }),
      );
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
        })),
      );
      await writer.end();
    });
  models
    .command('promote')
    .description('Put a model in production for its symbol (the previous production model becomes a candidate)')
    .argument('<id>', 'model id')
    .action(async (id: string) => {
      const promotion = await withStore(createContext(), (db) => promoteModel(db, id, systemClock.now(), 'cli'));
      const m = promotion.model;
      if (!promotion.changed) console.log(`${m.id} already is the production model of ${m.symbol}.`);
      else console.log(`${m.id} is now the production model of ${m.symbol}${promotion.previousId ? ` (replacing ${promotion.previousId}, now a candidate)` : ''}.`);
    });
}

const MODEL_COLUMNS: Column[] = [
  { key: 'id' },
  { key: 'kind' },
  { key: 'symbol' },
  { key: 'status' },
  { key: 'created' },
  { key: 'promoted' },
  { key: 'dataset' },
  { key: 'validation_reward', numeric: true },
  { key: 'weights_kib', numeric: true },
];

function modelStatus(value: string): ModelStatus {
  if (value === 'candidate' || value === 'production' || value === 'retired') return value;
  throw new TasaError('bad_argument', `--status must be candidate, production or retired, not "${value}".`, { input: `--status=${value}` });
}

function validationReward(metrics: Record<string, unknown>): number | null {
  const validation = metrics['validation'] as { meanReward?: unknown } | null | undefined;
  return typeof validation?.meanReward === 'number' ? validation.meanReward : null;
}

function positiveInteger(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new TasaError('bad_argument', `${flag} must be an integer >= ${min}, not "${value}".`, { input: `${flag}=${value}` });
  return n;
}

function ppoConfig(o: { steps?: string; seed?: string }): PipelineConfig {
  const steps = positiveInteger('--steps', o.steps, 1);
  const seed = positiveInteger('--seed', o.seed, 0);
  return { ppo: { ...(steps === undefined ? {} : { steps }), ...(seed === undefined ? {} : { seed }) } };
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
}

function layerNote(layer: string, s: Record<string, unknown>): string {
  if (layer === 'L4' && typeof s['rlDatasetHash'] === 'string') return `rl dataset ${s['rlDatasetHash'].slice(0, 16)}, ${String(s['episodes'])} episodes`;
  if (layer === 'L5' && typeof s['modelId'] === 'string') return `model ${s['modelId']}`;
  if (layer === 'L6' && Array.isArray(s['policies'])) {
    return (s['policies'] as Array<{ id: string; totalReturn: number | null; passed: boolean }>).map((p) => `${p.id} ${percent(p.totalReturn)}${p.passed ? ' ✓' : ''}`).join(', ');
  }
  return '';
}

function percent(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`;
}

function metricsLine(m: PerformanceMetrics): string {
  const ratio = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  return `total return ${percent(m.totalReturn)}, Sharpe ${ratio(m.sharpe)}, Sortino ${ratio(m.sortino)}, max drawdown ${percent(m.maxDrawdown)}, ${m.tradeCount} trades, exposure ${percent(m.exposure)}`;
}
