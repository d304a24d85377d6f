/**
 * `tasa simulate`: runs the TwelveData-compatible simulator (REST + WebSocket on one port) until
 * SIGINT/SIGTERM. Clients written for api.twelvedata.com / ws.twelvedata.com work against the
 * printed URLs unchanged. --speed runs a scaled clock (a day of ticks in minutes); the fault flags
 * reproduce the real service's failures for testing clients.
 */
import type { Command } from 'commander';
import type { ReplayWindow, SimulateCliOptions } from '../actions/simulate-actions.ts';

/** Loaded when the command runs: the simulator's servers are not every command's start-up. */
const actions = () => import('../actions/simulate-actions.ts');

/** Stored history loaded for --replay-from-store, around the start time. */
const REPLAY: ReplayWindow = { daysBefore: 90, daysAfter: 30 };

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Run a local TwelveData-compatible simulator (REST and WebSocket) with seeded USD/COP prices')
    .option('--port <port>', 'port for REST and WebSocket (0 = any free port)', '8090')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of the price path (same seed = same prices)', '1')
    .option('--symbols <list>', 'comma-separated symbols to serve (default: every pair the simulator models: USD/COP, USD/BRL, USD/MXN, USD/CLP, EUR/USD)')
    .option('--speed <x>', 'run the clock x times faster than real time')
    .option('--start <iso>', 'simulated time to start at, e.g. 2024-03-05T13:00:00Z (default: now)')
    .option('--replay-from-store', `replay stored bars (${REPLAY.daysBefore} days before --start to ${REPLAY.daysAfter} after) instead of the model`)
    .option('--ticks-per-second <n>', "average tick rate in each pair's busy hours (its market's session; EUR/USD: 03:00-12:00 New York), a third outside them")
    .option('--null-arrays', 'send null for empty arrays in subscribe-status, like the real server (default)')
    .option('--no-null-arrays', 'send [] for empty arrays in subscribe-status, like the docs')
    .option('--errors-as-200', 'send error bodies with HTTP 200 instead of their status code')
    .option('--api-keys <list>', 'comma-separated accepted API keys (default: any non-empty key)')
    .option('--credits-per-minute <n>', 'API credits per minute per key', '8')
    .option('--credits-per-day <n>', 'API credits per day per key', '800')
    .option('--heartbeat-timeout <ms>', 'close sockets that send no heartbeat for this long')
    .option('--max-connections <n>', 'connections per key; a new one closes the oldest (the real service: 3)')
    .option('--drop-every <ms>', 'fault: drop every WebSocket connection every <ms>')
    .option('--stall-every <ms>', 'fault: stop sending anything every <ms>...')
    .option('--stall-for <ms>', '...for this long (default 5000)')
    .option('--malformed-rate <p>', 'fault: share of price events preceded by an invalid JSON frame (0..1)')
    .option('--duplicate-rate <p>', 'fault: share of price events sent twice (0..1)')
    .option('--out-of-order-rate <p>', 'fault: share of price events sent after the next one (0..1)')
    .action(async (o: SimulateCliOptions) => (await actions()).runSimulator(o, REPLAY));
}

