/**
 * A running Tasa for browser tests and the README screenshot, started the way `npm start` starts
 * it: `startSystem` with the ingest, jobs and api roles, the embedded store in a temp directory,
 * the built-in simulator, and a fast simulated clock in session (5-minute bars close within
 * seconds). Before it starts, history is imported through the real L0 -> L1 import from the
 * simulator's own REST history (so the stored past and the live stream are one price path), with
 * three deliberate flaws for the quality view: a session written in Bogota wall-clock time but
 * labelled UTC (repaired on import), a session with a stretch of missing bars, and a session
 * absent altogether. Two baseline policies are backtested over that history (as `tasa backtest`
 * does) and one is registered as a model, so the research view has runs and a model to promote.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { loadMarketCalendar } from '../../src/calendar-config.ts';
import { loadConfig } from '../../src/config.ts';
import { MarketCalendar, type Session } from '../../src/domain/calendar.ts';
import { startSimulator } from '../../src/feeds/simulator/index.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { backtestOverRange } from '../../src/pipeline/ad-hoc-backtest.ts';
import { importBarFile } from '../../src/pipeline/import-bars.ts';
import { storeBacktests } from '../../src/pipeline/layers/l6-backtest.ts';
import type { PolicyEvaluation } from '../../src/research/policy-evaluation.ts';
import { createApiToken } from '../../src/store/api-tokens-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { finishRun, startRun } from '../../src/store/pipeline-runs-repo.ts';
import { insertModel } from '../../src/store/models-repo.ts';
import { openDb } from '../../src/store/open-db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { syncReferenceData } from '../../src/store/reference-data.ts';
import { startSystem, type RunningSystem } from '../../src/system.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DASHBOARD_BUILD_DIR = join(REPO_ROOT, 'dist', 'web');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/** The session the simulated clock runs in: Tuesday 2026-03-03, 08:00-13:00 Bogota. */
export const LIVE_DATE = '2026-03-03';
/** Sessions of history imported before it. */
const HISTORY_SESSIONS = 64;

export interface LiveDashboardOptions {
  /** Bogota minutes after the open at which the clock starts (default 90: 09:30, 3.5 h of session left = 210 s at 60x). */
  startMinute?: number;
  /** Simulated ms per real ms (default 60: a 5-minute bar closes every 5 s). */
  speed?: number;
  /** Log level of the system (default silent). */
  logLevel?: string;
  /** Symbols served (TASA_SYMBOLS; default USD/COP alone), each on its own market calendar. */
  symbols?: readonly string[];
  /** More environment for the system, over the defaults (e.g. TASA_HISTORY_WAIT_MS). */
  env?: Record<string, string>;
}

export interface LiveDashboard {
  url: string;
  system: RunningSystem;
  calendar: MarketCalendar;
  session: Session;
  /** Sessions seeded with a flaw, by kind. */
  flaws: { repaired: string; partial: string; absent: string };
  /** Backtests stored from the history (baseline policies), newest last; the registered model. */
  research: { backtestIds: number[]; modelId: string };
  adminToken: string;
  stop(): Promise<void>;
}

export interface BundleSize {
  files: Array<{ name: string; bytes: number; gzip: number }>;
  bytes: number;
  gzip: number;
}

/** Builds the dashboard (vite, as `npm run build:web` does) into dist/web and reports its size. */
export async function buildDashboard(): Promise<BundleSize> {
  const { build } = await import('vite');
  await build({ configFile: join(REPO_ROOT, 'vite.config.ts'), root: join(REPO_ROOT, 'src', 'web'), logLevel: 'silent' });
  return bundleSize(DASHBOARD_BUILD_DIR);
}

export function bundleSize(dir: string): BundleSize {
  const files = listFiles(dir).map((path) => {
    const content = readFileSync(path);
    return { name: path.slice(dir.length + 1), bytes: content.length, gzip: gzipSync(content).length };
  });
  return { files, bytes: files.reduce((n, f) => n + f.bytes, 0), gzip: files.reduce((n, f) => n + f.gzip, 0) };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** Debian's chromium, or null when it is not installed. */
export function findChromium(): string | null {
  for (const path of [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (path !== undefined && path !== '' && existsSync(path)) return path;
  }
  return null;
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export async function startLiveDashboard(o: LiveDashboardOptions = {}): Promise<LiveDashboard> {
  const calendar = new MarketCalendar();
  const session = calendar.sessionFor(LIVE_DATE);
  if (session === null) throw new Error(`${LIVE_DATE} is not a session`);
  const start = session.open + (o.startMinute ?? 90) * MIN;
  const dataDir = mkdtempSync(join(tmpdir(), 'tasa-web-'));
  const { flaws, research } = await seedHistory(dataDir, calendar, session, start);
  return { ...(await startOn(dataDir, calendar, session, start, o, {})), flaws, research };
}

export type FreshDashboard = Omit<LiveDashboard, 'flaws' | 'research'>;

/**
 * Tasa on an empty store (nothing imported, no model, no run), as on a fresh clone. Live ingestion
 * waits for history (TASA_HISTORY_WAIT_MS: an hour of the clock) before it checks and fills the
 * latest sessions, so the store stays empty until a test imports a file into `system.db`.
 */
export async function startFreshDashboard(o: LiveDashboardOptions = {}): Promise<FreshDashboard> {
  const calendar = new MarketCalendar();
  const session = calendar.sessionFor(LIVE_DATE);
  if (session === null) throw new Error(`${LIVE_DATE} is not a session`);
  const start = session.open + (o.startMinute ?? 90) * MIN;
  return startOn(mkdtempSync(join(tmpdir(), 'tasa-web-')), calendar, session, start, o, { TASA_HISTORY_WAIT_MS: String(60 * MIN) });
}

/** Starts every role on the store of `dataDir` with the simulator and a simulated clock at `start`; stopping removes `dataDir`. */
async function startOn(dataDir: string, calendar: MarketCalendar, session: Session, start: number, o: LiveDashboardOptions, extraEnv: Record<string, string>): Promise<FreshDashboard> {
  const env: Record<string, string> = {
    TASA_DATA_DIR: dataDir,
    TASA_HTTP_PORT: '0',
    TASA_SIMULATOR_PORT: '0',
    TASA_CLOCK_START: new Date(start).toISOString(),
    TASA_CLOCK_SPEED: String(o.speed ?? 60),
    TASA_LOG_LEVEL: o.logLevel ?? 'silent',
    TASA_RATE_LIMIT_PER_MINUTE: '0',
    ...(o.symbols === undefined ? {} : { TASA_SYMBOLS: o.symbols.join(',') }),
    ...extraEnv,
    ...o.env,
  };
  const config = loadConfig(env);
  // Several symbols: every configured instrument's calendar, as `tasa up` builds them; `calendar` stays USD/COP's.
  const calendars = o.symbols === undefined ? calendar : loadMarketCalendar(config);
  const system = await startSystem({ config, calendar: calendars, logger: systemLogger(config.TASA_LOG_LEVEL), roles: { ingest: true, jobs: true, api: true }, env });
  if (system.apiUrl === null) throw new Error('the system serves no API');
  const { token } = await createApiToken(system.db, { name: 'browser-test-admin', role: 'admin' });
  return {
    url: system.apiUrl,
    system,
    calendar,
    session,
    adminToken: token,
    stop: async () => {
      await system.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The system's logger: WEB_DEBUG_LOG=<file> keeps its info log in that file (to read after a failure). */
function systemLogger(level: string): Logger {
  const file = process.env['WEB_DEBUG_LOG'];
  return file ? pino({ level: 'info' }, pino.destination({ dest: file, append: true })) : createLogger(level);
}

/** The baseline registered as a model (so the registry has one to promote) and backtested. */
const MODEL_ID = 'sma-crossover';

/**
 * Imports the sessions before `start` from the simulator's REST history through `importBarFile`
 * (L0 and L1 runs, audit log), with the flaws described above, then backtests two baseline
 * policies over that history as `tasa backtest` does and registers one of them as a model. The
 * simulator runs on a manual clock at `start` with its default seed, as the system's will.
 */
async function seedHistory(dataDir: string, calendar: MarketCalendar, session: Session, start: number): Promise<Pick<LiveDashboard, 'flaws' | 'research'>> {
  const sessions = calendar.sessionsBetween(isoDate(session.open - 100 * DAY), session.date).filter((s) => s.open < start).slice(-HISTORY_SESSIONS - 1);
  const past = sessions.slice(0, -1);
  const pick = (fromEnd: number): Session => {
    const s = past[past.length - fromEnd];
    if (s === undefined) throw new Error('not enough sessions to seed');
    return s;
  };
  // Older than the five sessions the ingest service checks (and fills) before going live.
  const flaws = { repaired: pick(12).date, partial: pick(8).date, absent: pick(16).date };
  const simulator = await startSimulator({ clock: new ManualClock(start), logger: createLogger('silent') });
  let rows: string[];
  try {
    const first = sessions[0];
    if (first === undefined) throw new Error('no session to seed');
    rows = await simulatorBars(simulator.restUrl, first.open, start);
  } finally {
    await simulator.close();
  }
  const csv = ['time,open,high,low,close', ...rows.flatMap((row) => flawed(row, calendar, flaws))].join('\n');
  const file = join(dataDir, 'seed-usdcop-5min.csv');
  writeFileSync(file, `${csv}\n`);
  const db = await openDb({ dataDir });
  try {
    await migrate(db);
    await syncReferenceData(db, calendar.all());
    await importBarFile(db, calendar, file, { symbol: 'USD/COP', actor: 'browser-test-seed' });
    const range = { from: past[0]?.date ?? session.date, to: past.at(-1)?.date ?? session.date };
    const clock = new ManualClock(start);
    const backtestIds: number[] = [];
    for (const policyId of ['always-long', MODEL_ID]) {
      const run = await backtestOverRange({ db, calendar, clock, symbol: 'USD/COP', policyId, ...range });
      backtestIds.push(run.backtestId);
      // The model's run stored again as an L6 pipeline run stores it: the registry's test-split metrics.
      if (policyId === MODEL_ID) await storeAsPipelineRun(db, clock, calendar, run.evaluation);
    }
    await insertModel(db, { id: MODEL_ID, kind: 'baseline', symbol: 'USD/COP', datasetHash: null, config: { baseline: MODEL_ID }, metrics: {}, trainingCurve: [], weights: null, createdAt: start });
    return { flaws, research: { backtestIds, modelId: MODEL_ID } };
  } finally {
    await db.close();
  }
}

async function storeAsPipelineRun(db: Db, clock: ManualClock, calendar: MarketCalendar, evaluation: PolicyEvaluation): Promise<void> {
  const runId = await startRun(db, { layer: 'L6', symbol: 'USD/COP', params: {}, at: clock.now() });
  await storeBacktests(db, clock, 'USD/COP', [evaluation], { pipelineRunId: runId, datasetHash: null, config: { source: 'browser-test-seed' } }, calendar);
  await finishRun(db, runId, { status: 'completed', rowsIn: null, rowsOut: null, summary: {}, at: clock.now() });
}

/** Days per REST request: the simulator quotes around the clock, 288 bars a day, and answers at most 5000. */
const DAYS_PER_REQUEST = 15;

/** CSV rows `time,open,high,low,close` (UTC, ISO) of the simulator's 5-minute bars in [from, to). */
async function simulatorBars(restUrl: string, from: number, to: number): Promise<string[]> {
  const rows: string[] = [];
  for (let start = from, n = 0; start < to; start += DAYS_PER_REQUEST * DAY, n++) {
    rows.push(...(await simulatorPage(restUrl, start, Math.min(to, start + DAYS_PER_REQUEST * DAY), `seed-${n}`)));
  }
  return rows;
}

async function simulatorPage(restUrl: string, from: number, to: number, apikey: string): Promise<string[]> {
  const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const params = new URLSearchParams({ symbol: 'USD/COP', interval: '5min', start_date: fmt(from), end_date: fmt(to), timezone: 'UTC', order: 'ASC', outputsize: '5000', apikey });
  const response = await fetch(`${restUrl}/time_series?${params.toString()}`);
  const body = (await response.json()) as { values?: Array<{ datetime: string; open: string; high: string; low: string; close: string }> };
  if (!Array.isArray(body.values)) throw new Error(`simulator history: ${JSON.stringify(body).slice(0, 200)}`);
  return body.values
    .map((v) => ({ ...v, time: Date.parse(`${v.datetime.replace(' ', 'T')}Z`) }))
    .filter((v) => v.time >= from && v.time + 5 * MIN <= to)
    .map((v) => `${new Date(v.time).toISOString()},${v.open},${v.high},${v.low},${v.close}`);
}

/** A row as written in the file: dropped (off session, the absent day, the partial day's gap), relabelled (the repaired day) or as is. */
function flawed(row: string, calendar: MarketCalendar, flaws: LiveDashboard['flaws']): string[] {
  const [iso = '', ...prices] = row.split(',');
  const time = Date.parse(iso);
  const date = isoDate(time - 5 * 60 * MIN);
  const s = calendar.sessionFor(date);
  // The simulator quotes around the clock like TwelveData; a USD/COP file holds the session.
  if (s === null || time < s.open || time >= s.close || date === flaws.absent) return [];
  const minute = (time - s.open) / MIN;
  if (date === flaws.partial && minute >= 90 && minute < 120) return [];
  // Bogota wall-clock time written as if it were UTC: 08:00 Bogota becomes "08:00Z".
  if (date === flaws.repaired) return [`${new Date(time - 5 * 60 * MIN).toISOString()},${prices.join(',')}`];
  return [row];
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function resolveArtifact(...parts: string[]): string {
  return resolve(REPO_ROOT, 'artifacts', ...parts);
}
