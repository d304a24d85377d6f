/**
 * `npm run bench`: every benchmark, then one table of figures (markdown) on stdout;
 * `npm run bench -- --json`: also writes them to bench/results.json (name, value, unit, same-run
 *   reference, ratio) so that they can be compared between commits;
 * `npm run bench -- --only=serving,backtest`: those benchmarks alone.
 * Figures come from this machine at this moment; docs/benchmarks.md keeps the last run.
 */
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchBacktest } from './backtest-bench.ts';
import { benchBackup } from './backup-bench.ts';
import { benchBusCodec } from './bus-codec-bench.ts';
import { benchCliStartup } from './cli-bench.ts';
import { benchFaults } from './fault-bench.ts';
import { benchFoundation } from './foundation-bench.ts';
import { benchLive } from './live-bench.ts';
import { benchIdleRss } from './memory-bench.ts';
import { benchPipeline } from './pipeline-bench.ts';
import { benchPpo } from './ppo-bench.ts';
import { benchCandleServing, benchServing } from './serving-bench.ts';
import { benchSpoolDrain } from './spool-bench.ts';
import { benchIndicators } from './research-bench.ts';
import { benchRetention } from './retention-bench.ts';
import { benchTrading } from './trading-bench.ts';
import { benchWalkForward } from './walk-forward-bench.ts';
import { figures, markdownTable, results } from './harness.ts';

process.env['TASA_LOG_LEVEL'] ??= 'silent';
process.stderr.write(`benchmarks on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n`);

/** Every benchmark by name, in the order they run; `--only a,b` runs those alone. */
const BENCHES: Record<string, () => unknown> = {
  cli: benchCliStartup,
  foundation: benchFoundation,
  memory: benchIdleRss,
  live: benchLive,
  'bus-codec': benchBusCodec,
  spool: benchSpoolDrain,
  retention: benchRetention,
  backup: benchBackup,
  serving: benchServing,
  candles: benchCandleServing,
  trading: benchTrading,
  indicators: benchIndicators,
  backtest: benchBacktest,
  pipeline: benchPipeline,
  'walk-forward': benchWalkForward,
  ppo: benchPpo,
  faults: benchFaults,
};
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const unknown = only?.filter((name) => !(name in BENCHES)) ?? [];
if (unknown.length > 0) throw new Error(`Unknown bench ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}.`);
for (const [name, bench] of Object.entries(BENCHES)) if (only === undefined || only.includes(name)) await bench();

if (process.argv.includes('--json')) {
  const file = fileURLToPath(new URL('./results.json', import.meta.url));
  await writeFile(file, `${JSON.stringify(results(figures), null, 2)}\n`);
  process.stderr.write(`figures written to ${file}\n`);
}
console.log(markdownTable(figures));
