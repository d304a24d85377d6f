/**
 * `tasa up` (what `npm start` runs): every role in one process — the store, the bus, ingestion
 * with its lifecycle, the scheduled jobs and, without a TwelveData key, the built-in simulator.
 * `tasa ingest` runs ingestion alone (distributed set-ups). Both run until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';

/** Loaded when a command runs: the server, the feeds and the store are not every command's start-up. */
const actions = () => import('../actions/up-actions.ts');

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('Run everything in one process: ingestion, jobs, and the simulator when no TwelveData key is set')
    .action(async () => (await actions()).runUntilSignal({ ingest: true, jobs: true, api: true }));
  program
    .command('ingest')
    .description('Run live ingestion only (one writer per symbol, by database lease)')
    .action(async () => (await actions()).runUntilSignal({ ingest: true, jobs: false, api: false }));
  program
    .command('serve')
    .description('Run the REST/WebSocket API and dashboard only (ingest and workers run elsewhere, over DATABASE_URL and REDIS_URL)')
    .action(async () => (await actions()).runUntilSignal({ ingest: false, jobs: false, api: true }));
}

