/**
 * The research pipeline from the command line:
 *   tasa pipeline run [--layers L0-L6] [--from --to] [--steps N --seed S --seeds K] [--skip-training] [--force] [research overrides]
 *   tasa train --policy ppo [--steps N --seed S --seeds K] [research overrides]
 *   tasa backtest --policy <model id|baseline> --from --to [--report out.html] [cost, gate and trials overrides]
 * Research overrides (over research.config.json): --spread-bps, --fee-bps, --slippage-bps,
 * --split, --purge-sessions, --gate-confidence, --trials.
 *   tasa models list | promote <id>
 *   tasa walk-forward list | show <id> [--report out.html]
 * Each a thin wrapper over src/pipeline (run-pipeline.ts, ad-hoc-backtest.ts) and the model registry.
 */
import type { Command } from 'commander';
import type { BacktestCliOptions, ListModelsCliOptions, RunCliOptions, TrainCliOptions } from '../actions/pipeline-actions.ts';
import type { ShowWalkForwardCliOptions } from '../actions/walk-forward-actions.ts';

/** Loaded when a command runs: the store, the archive and the research layers are not every command's start-up. */
const actions = () => import('../actions/pipeline-actions.ts');

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command('pipeline').description('The research pipeline: L0 raw -> L1 bars -> L2 indicators -> L3 features -> L4 RL dataset -> L5 PPO policy -> L6 backtests');
  const run = pipeline
    .command('run')
    .description('Run pipeline layers in order; a layer whose inputs, config and code are unchanged is skipped')
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--layers <list>', 'layers to run, e.g. L2-L6 or L2-L4,L6', 'L0-L6')
    .option('--from <date>', "first session date of L0/L1 in the symbol's market calendar (Bogota for USD/COP; EUR/USD's opens 17:00 New York the day before; default: the first stored bar)")
    .option('--to <date>', "last session date of L0/L1 in the symbol's market calendar (default: the last stored bar)")
    .option('--steps <n>', 'PPO training steps for L5')
    .option('--seed <n>', 'PPO seed for L5 (the first of --seeds)')
    .option('--seeds <n>', 'PPO seeds trained in L5; the best on the validation split is kept (default: the research config\'s training.seeds)')
    .option('--skip-training', 'leave L5 out: L6 backtests the models already registered')
    .option('--force', 'recompute the selected layers even when an identical run exists');
  withDatasetOptions(run).action(async (o: RunCliOptions) => (await actions()).runLayers(o));
  const train = program
    .command('train')
    .description('Train a PPO policy (pipeline layer L5, after L1-L4, which are skipped when unchanged) and register it as a candidate')
    .requiredOption('--policy <kind>', 'policy to train (ppo)')
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--steps <n>', 'environment steps to train for')
    .option('--seed <n>', 'first random seed (same seeds and dataset: same model)')
    .option('--seeds <n>', 'seeds trained; the best on the validation split is kept (default: the research config\'s training.seeds)')
    .option('--force', 'train even when the same training already ran');
  withDatasetOptions(train).action(async (o: TrainCliOptions) => (await actions()).train(o));
  const backtest = program
    .command('backtest')
    .description('Backtest a registered model or a baseline over a range of sessions; stores the result and can write its HTML report')
    .requiredOption('--policy <id>', 'model id (tasa models list) or baseline: flat, buy-and-hold, always-long, sma-crossover, rsi-mean-reversion')
    .requiredOption('--from <date>', "first session date of the symbol's market calendar (Bogota for USD/COP; EUR/USD's opens 17:00 New York the day before)")
    .option('--to <date>', "last session date of the symbol's market calendar (default: --from)")
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--report <file>', 'write the self-contained HTML report to this file');
  withCostOptions(backtest).action(async (o: BacktestCliOptions) => (await actions()).backtest(o));
  registerModelsCommands(program);
  registerWalkForwardCommands(program);
}

function registerWalkForwardCommands(program: Command): void {
  const walkForward = program.command('walk-forward').description('Walk-forward evaluations (made by `tasa pipeline run` with L6): folds, per-policy results and verdicts');
  const wf = () => import('../actions/walk-forward-actions.ts');
  walkForward
    .command('list')
    .description('Walk-forward runs, newest first')
    .option('--symbol <symbol>', 'only this instrument')
    .action(async (o: { symbol?: string }) => (await wf()).listWalkForward(o));
  walkForward
    .command('show')
    .description("One walk-forward run: its folds (status, worker), each policy's verdict; can write the HTML report")
    .argument('<id>', 'walk-forward run id')
    .option('--report <file>', 'write the self-contained HTML report (chart of every policy, per-fold table, gates per fold) to this file')
    .action(async (id: string, o: ShowWalkForwardCliOptions) => (await wf()).showWalkForward(id, o));
}

/** Overrides of the research config (research.config.json, or the file TASA_RESEARCH_CONFIG names): costs, gate confidence, trials. */
function withCostOptions(cmd: Command): Command {
  return cmd
    .option('--spread-bps <bps>', 'half-spread charged per unit of position change, or from-ticks (median of the stored quotes)')
    .option('--fee-bps <bps>', 'fee per unit of position change')
    .option('--slippage-bps <bps>', 'slippage per unit of position change')
    .option('--gate-confidence <p>', 'confidence the probabilistic and deflated Sharpe gates require (0 <= p < 1)')
    .option('--trials <n>', 'configurations tried, for the deflated Sharpe ratio');
}

/** The cost options and the dataset's split and purge. */
function withDatasetOptions(cmd: Command): Command {
  return withCostOptions(cmd)
    .option('--split <fractions>', 'train,validation,test fractions of the sessions, summing to 1 (e.g. 0.7,0.15,0.15)')
    .option('--purge-sessions <n>', 'sessions dropped at the start of validation and of test');
}

function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('The model registry: trained policies and which one is in production');
  models
    .command('list')
    .description('Registered models, newest first')
    .option('--symbol <symbol>', 'only this instrument')
    .option('--status <status>', 'candidate, production or retired')
    .option('--format <format>', 'table, csv or json (default: table on a terminal, csv otherwise)')
    .action(async (o: ListModelsCliOptions) => (await actions()).printModels(o));
  models
    .command('promote')
    .description('Put a model in production for its symbol (the previous production model becomes a candidate); refused unless its newest backtest passed the production gates')
    .argument('<id>', 'model id')
    .option('--force', 'promote even without a passing gated backtest (audited)')
    .action(async (id: string, o: { force?: boolean }) => (await actions()).promote(id, o));
}

