/**
 * `npm run bench`: every benchmark, then one table of figures (markdown) on stdout;
 * `npm run bench -- --json`: the same figures as a JSON array, for machines.
 * Figures come from this machine at this moment; docs/benchmarks.md keeps the last run.
 */
import { cpus } from 'node:os';
import { benchBacktest } from './backtest-bench.ts';
import { benchBusCodec } from './bus-codec-bench.ts';
import { benchCliStartup } from './cli-bench.ts';
import { benchFaults } from './fault-bench.ts';
import { benchFoundation } from './foundation-bench.ts';
import { benchLive } from './live-bench.ts';
import { benchPipeline } from './pipeline-bench.ts';
import { benchPpo } from './ppo-bench.ts';
import { benchServing } from './serving-bench.ts';
import { benchSpoolDrain } from './spool-bench.ts';
import { benchIndicators } from './research-bench.ts';
import { benchTrading } from './trading-bench.ts';
import { figures, markdownTable } from './harness.ts';

process.env['TASA_LOG_LEVEL'] ??= 'silent';
process.stderr.write(`benchmarks on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n`);
benchCliStartup();
await benchFoundation();
await benchLive();
benchBusCodec();
await benchSpoolDrain();
await benchServing();
await benchTrading();
await benchIndicators();
await benchBacktest();
await benchPipeline();
await benchPpo();
benchFaults();
console.log(process.argv.includes('--json') ? JSON.stringify(figures, null, 2) : markdownTable(figures));
