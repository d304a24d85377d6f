/** What `tasa simulate` runs (loaded on demand by ../commands/simulate-command.ts). */
import { untilShutdownSignal } from '../signals.ts';
import { ScaledClock, systemClock, type Clock } from '../../clock.ts';
import type { Bar } from '../../domain/bar.ts';
import { DAY_MS, toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { loadConfig } from '../../config.ts';
import { createLogger } from '../../log.ts';
import { CATALOG_SYMBOLS, startSimulator, type FaultOptions, type RunningSimulator, type SimulatorOptions } from '../../feeds/simulator/index.ts';
import { barsBetween } from '../../store/bars-repo.ts';
import { createContext, withStore } from '../context.ts';

export interface SimulateCliOptions {
  port: string;
  host: string;
  seed: string;
  symbols?: string;
  speed?: string;
  start?: string;
  replayFromStore?: boolean;
  ticksPerSecond?: string;
  /** Undefined unless one of --null-arrays / --no-null-arrays was given. */
  nullArrays?: boolean;
  errorsAs200?: boolean;
  apiKeys?: string;
  creditsPerMinute: string;
  creditsPerDay: string;
  heartbeatTimeout?: string;
  maxConnections?: string;
  dropEvery?: string;
  stallEvery?: string;
  stallFor?: string;
  malformedRate?: string;
  duplicateRate?: string;
  outOfOrderRate?: string;
}

/** The stored history --replay-from-store loads, in days around the start time. */
export interface ReplayWindow {
  daysBefore: number;
  daysAfter: number;
}

export async function runSimulator(o: SimulateCliOptions, replay: ReplayWindow): Promise<void> {
  const clock = simulationClock(o);
  const symbols = list(o.symbols) ?? [...CATALOG_SYMBOLS];
  const sim = await startSimulator({
    clock,
    host: o.host,
    port: integer('--port', o.port, 0),
    seed: integer('--seed', o.seed),
    symbols,
    source: o.replayFromStore ? { kind: 'replay', bars: await storedBars(symbols, clock.now(), replay) } : { kind: 'model' },
    plan: { perMinute: integer('--credits-per-minute', o.creditsPerMinute, 1), perDay: integer('--credits-per-day', o.creditsPerDay, 1) },
    nullArrays: o.nullArrays ?? true,
    errorStatusMode: o.errorsAs200 ? 'body-200' : 'http',
    faults: faultOptions(o),
    logger: createLogger(loadConfig().TASA_LOG_LEVEL),
    ...optionalSettings(o),
  });
  printBanner(sim, symbols, clock, o);
  await untilShutdownSignal();
  console.log('stopping the simulator');
  await sim.close();
}

function simulationClock(o: SimulateCliOptions): Clock {
  if (o.speed === undefined && o.start === undefined) return systemClock;
  const speed = o.speed === undefined ? 1 : positive('--speed', o.speed);
  const start = o.start === undefined ? systemClock.now() : Date.parse(o.start);
  if (!Number.isFinite(start)) {
    throw new TasaError('bad_argument', `--start must be an ISO 8601 time such as 2024-03-05T13:00:00Z, not "${o.start}".`, { input: `--start=${o.start}` });
  }
  return new ScaledClock(start, speed);
}

function optionalSettings(o: SimulateCliOptions): Partial<SimulatorOptions> {
  const settings: Partial<SimulatorOptions> = {};
  const keys = list(o.apiKeys);
  if (keys !== undefined) settings.apiKeys = keys;
  if (o.ticksPerSecond !== undefined) settings.ticksPerSecond = positive('--ticks-per-second', o.ticksPerSecond);
  if (o.heartbeatTimeout !== undefined) settings.heartbeatTimeoutMs = positive('--heartbeat-timeout', o.heartbeatTimeout);
  if (o.maxConnections !== undefined) settings.maxConnectionsPerKey = integer('--max-connections', o.maxConnections, 1);
  return settings;
}

function faultOptions(o: SimulateCliOptions): FaultOptions {
  const faults: FaultOptions = {};
  if (o.dropEvery !== undefined) faults.dropEveryMs = positive('--drop-every', o.dropEvery);
  if (o.stallEvery !== undefined) faults.stallEveryMs = positive('--stall-every', o.stallEvery);
  if (o.stallFor !== undefined) faults.stallForMs = positive('--stall-for', o.stallFor);
  if (o.malformedRate !== undefined) faults.malformedRate = rate('--malformed-rate', o.malformedRate);
  if (o.duplicateRate !== undefined) faults.duplicateRate = rate('--duplicate-rate', o.duplicateRate);
  if (o.outOfOrderRate !== undefined) faults.outOfOrderRate = rate('--out-of-order-rate', o.outOfOrderRate);
  return faults;
}

async function storedBars(symbols: string[], start: number, replay: ReplayWindow): Promise<Bar[]> {
  const from = start - replay.daysBefore * DAY_MS;
  const to = start + replay.daysAfter * DAY_MS;
  const bars = await withStore(createContext(), async (db) => (await Promise.all(symbols.map((s) => barsBetween(db, s, from, to)))).flat());
  if (bars.length === 0) {
    throw new TasaError('not_found', `No stored bars between ${toIsoUtc(from)} and ${toIsoUtc(to)} to replay.`, {
      hint: 'Import history with `tasa import`, or pick a --start inside it.',
    });
  }
  console.log(`replaying ${bars.length.toLocaleString('en-US')} stored bars from ${toIsoUtc(from)} to ${toIsoUtc(to)}`);
  return bars;
}

function printBanner(sim: RunningSimulator, symbols: string[], clock: Clock, o: SimulateCliOptions): void {
  // Never echo a configured key: show a placeholder when keys were given.
  const key = list(o.apiKeys) === undefined ? 'demo' : '<your-key>';
  console.log(`TwelveData simulator: ${symbols.join(', ')} (${o.replayFromStore ? 'replay' : `model, seed ${o.seed}`})`);
  console.log(`REST ${sim.restUrl}   e.g. ${sim.restUrl}/time_series?symbol=${symbols[0] ?? 'USD/COP'}&interval=5min&apikey=${key}`);
  console.log(`WS   ${sim.wsUrl}?apikey=${key}`);
  console.log(`clock ${toIsoUtc(clock.now())}${o.speed === undefined ? '' : ` at ${o.speed}x`}; Ctrl-C to stop`);
}

function list(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return items === undefined || items.length === 0 ? undefined : items;
}

function integer(flag: string, value: string, min = Number.MIN_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw badNumber(flag, value, min === Number.MIN_SAFE_INTEGER ? 'an integer' : `an integer >= ${min}`);
  return n;
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw badNumber(flag, value, 'a number > 0');
  return n;
}

function rate(flag: string, value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw badNumber(flag, value, 'a number from 0 to 1');
  return n;
}

function badNumber(flag: string, value: string, expected: string): TasaError {
  return new TasaError('bad_argument', `${flag} must be ${expected}, not "${value}".`, { input: `${flag}=${value}` });
}
