/**
 * One whole simulated session with one fault, the system running as it runs in production:
 * `tasa ingest` (one, or two with a standby) and `tasa serve` as OS processes on a private
 * PostgreSQL and Redis, the simulator in this process (it is the outside world, and the ground
 * truth: it records every tick it delivers), and a WebSocket client on the gateway.
 *
 * Three instruments are served at once over the one feed socket: USD/COP, whose session is the
 * run (its open to its close, with margins), and USD/BRL and EUR/USD, open all through it (the
 * processes start in the middle of their sessions). Every check is made per symbol, over the part
 * of the run in which its market is open.
 *
 * Every process shares one simulated timeline (TASA_CLOCK_START/SPEED/ANCHOR). After USD/COP's
 * close the ingest processes stop, the failsafe runs for every symbol, and the audit compares the
 * store and the client with the simulator (see docs/reliability.md for the definitions).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { ScaledClock } from '../../../src/clock.ts';
import { BAR_MS } from '../../../src/domain/bar.ts';
import { CalendarSet, MarketCalendar, type Session } from '../../../src/domain/calendar.ts';
import { BAR_DUE_GRACE_MS, recentSessions } from '../../../src/domain/gaps.ts';
import { shippedInstrument } from '../../../src/domain/symbol.ts';
import { startSimulator, type RunningSimulator } from '../../../src/feeds/simulator/index.ts';
import { runFailsafe } from '../../../src/jobs/failsafe.ts';
import { createRestSource } from '../../../src/jobs/history-source.ts';
import type { Db } from '../../../src/store/db.ts';
import { ingestLeaseName } from '../../../src/store/leases-repo.ts';
import { openDb } from '../../../src/store/open-db.ts';
import { freePort } from '../../support/free-port.ts';
import type { PrivatePostgres } from '../../support/private-postgres.ts';
import type { PrivateRedis } from '../../support/private-redis.ts';
import { auditBars, auditTicks, snapshotBars, type AuditWindow, type BarAudit, type TickAudit } from './audit.ts';
import { startTasa, type TasaProcess } from './processes.ts';
import { TickLedger } from './tick-ledger.ts';
import { WsRecorder, type SeqAudit } from './ws-recorder.ts';

/** USD/COP first: its session is the run, its lease the one the kill faults aim at. */
export const SYMBOLS = ['USD/COP', 'USD/BRL', 'EUR/USD'] as const;
const LEAD = SYMBOLS[0];
export const MIN = 60_000;
const API_KEY = 'fault-suite-key';
const logger = pino({ level: 'silent' });
const calendars = new CalendarSet(SYMBOLS.map((symbol) => new MarketCalendar({}, shippedInstrument(symbol))));
/** A Tuesday: an ordinary session, no holiday on either side. */
const SESSION_DATE = '2026-03-03';
/** Simulated time between the clock's anchor and the open: the processes start meanwhile. */
const PRE_OPEN_MS = 2 * MIN;
/** Wall time the processes get to start (tsx, migrations, the data check) before the clock reaches PRE_OPEN. */
const STARTUP_REAL_MS = 16_000;
/** After the close: the watermark, the last bar's write, then the failsafe's grace. */
const AFTER_CLOSE_MS = 8 * MIN;
/** Ticks per second in session, per symbol (the simulator's own rate model); ~60 ticks per bar. */
const TICKS_PER_SECOND = 0.2;
const WAIT_ACTIVE_REAL_MS = 60_000;
/**
 * The feed's silence timeout, the ingest lease and the bar watermark are clock times: at 600x
 * their defaults (30 s, 30 s, 2 s) are 50, 50 and 3 real ms, less than one event-loop hiccup or
 * one hop between processes, and the suite would test its own jitter. They are set in real time
 * instead (still far shorter than any injected fault).
 */
const REAL_TIMEOUT_MS = 500;
const REAL_WATERMARK_MS = 200;

export interface World {
  pg: PrivatePostgres;
  redis: PrivateRedis;
  /** Working directory of the suite: logs, spools. */
  dir: string;
}

export interface FaultSpec {
  /** Name in the fault table. */
  fault: string;
  /** What was done, in words, for the table. */
  injected: string;
  /** Clock speed: a session takes 18 000 / speed real seconds. */
  speed: number;
  seed: number;
  /** Start a second ingest process as a standby. */
  standby?: boolean;
  /** Runs during the session (use ctx.until to wait for simulated times). */
  inject(ctx: FaultContext): Promise<void>;
  /** Runs after the ingest processes stopped, before the failsafe. */
  beforeFailsafe?(ctx: FaultContext): Promise<void>;
}

export interface FaultContext {
  world: World;
  clock: ScaledClock;
  session: Session;
  sim: RunningSimulator;
  /** Simulated time `minutes` after the open. */
  afterOpen(minutes: number): number;
  /** Waits (real time, bounded) until the simulated clock reaches `t`. */
  until(t: number): Promise<void>;
  /** The ingest process holding the lease now (from the database). */
  activeIngest(): Promise<TasaProcess>;
  /** Kills an ingest process with SIGKILL and notes the instant (ticks it had in flight are counted apart). */
  kill9(p: TasaProcess): Promise<void>;
  /** Starts another ingest process (a restart after a crash reuses the dead one's data directory, so its spool). */
  startIngest(dataDirOf?: TasaProcess): TasaProcess;
  /** Waits until an ingest process prints "-> ACTIVE" after this call (a process started later: at any time). */
  waitActive(): Promise<void>;
  /** Notes an event for the log of the run. */
  note(text: string): void;
}

/** The audit of one symbol over its window (ISO times in `from`, `to`). */
export interface SymbolResult {
  symbol: string;
  from: string;
  to: string;
  ticks: TickAudit;
  bars: BarAudit;
  client: SeqAudit;
  failsafe: { status: string; error: string | null };
}

export interface FaultResult {
  fault: string;
  injected: string;
  speed: number;
  realSeconds: number;
  /** In the order of SYMBOLS. */
  symbols: SymbolResult[];
  notes: string[];
  logDir: string;
}

interface IngestHandle {
  process: TasaProcess;
  dataDir: string;
}

/** Runs the session with the fault; always tears everything down. */
export async function runFaultSession(world: World, spec: FaultSpec, index: number): Promise<FaultResult> {
  const started = performance.now();
  const session = calendars.of(LEAD).sessionFor(SESSION_DATE);
  if (!session) throw new Error(`${SESSION_DATE} is not a session of ${LEAD}`);
  const logDir = join(world.dir, `${index}-${spec.fault.replace(/[^a-z0-9]+/gi, '-')}`);
  await mkdir(logDir, { recursive: true });
  const dbName = `fault_${index}`;
  await createDatabase(world.pg.url, dbName);
  const databaseUrl = world.pg.url.replace(/\/postgres$/, `/${dbName}`);
  const redisUrl = world.redis.url.replace(/\/\d+$/, `/${index % 16}`);
  // Every process reads the same simulated time: PRE_OPEN_MS before the open, STARTUP_REAL_MS from now.
  const anchor = Math.round(performance.timeOrigin + performance.now()) + STARTUP_REAL_MS;
  const clockStart = session.open - PRE_OPEN_MS;
  const clock = new ScaledClock(clockStart, spec.speed, anchor);
  const ledger = new TickLedger();
  const notes: string[] = [];
  const kills: number[] = [];
  const ingests: IngestHandle[] = [];
  let serve: TasaProcess | null = null;
  let recorder: WsRecorder | null = null;
  let sim: RunningSimulator | null = null;
  let db: Db | null = null;
  try {
    sim = await startSimulator({
      clock,
      symbols: [...SYMBOLS],
      seed: spec.seed,
      ticksPerSecond: TICKS_PER_SECOND,
      plan: { perMinute: 10_000, perDay: 1_000_000 },
      // Bars are compared with REST's: every tick is sent however long this busy process stalls.
      maxBacklogMs: Number.POSITIVE_INFINITY,
      logger,
      onPriceFrame: ledger.record,
    });
    const httpPort = await freePort();
    const env = tasaEnv({ databaseUrl, redisUrl, sim, symbols: SYMBOLS, speed: spec.speed, clockStart, anchor, httpPort });
    const spawnIngest = (reuse?: TasaProcess): TasaProcess => {
      const previous = ingests.find((i) => i.process === reuse);
      const dataDir = previous?.dataDir ?? join(logDir, `ingest-data-${ingests.length + 1}`);
      const name = `ingest-${ingests.length + 1}`;
      const p = startTasa(name, 'ingest', { ...env, TASA_DATA_DIR: dataDir }, join(logDir, `${name}.log`));
      ingests.push({ process: p, dataDir });
      notes.push(`${toClock(clock)} started ${name} (pid ${p.pid}${previous ? `, data dir of ${previous.process.name}` : ''})`);
      return p;
    };
    // Migrations serialise on an advisory lock, so the processes can start together.
    serve = startTasa('serve', 'serve', { ...env, TASA_DATA_DIR: join(logDir, 'serve-data') }, join(logDir, 'serve.log'));
    spawnIngest();
    if (spec.standby) spawnIngest();
    await serve.waitForLine(/API and dashboard on/, STARTUP_REAL_MS * 3);
    db = await openDb({ databaseUrl });
    recorder = new WsRecorder(`ws://127.0.0.1:${httpPort}/ws`, SYMBOLS);
    await recorder.start();
    const ctx = faultContext({ world, clock, speed: spec.speed, session, sim, db, ingests, kills, notes, spawnIngest });
    await waitActive(ingests, true, clock, session);
    if (clock.now() > session.open + MIN) notes.push(`ingest went ACTIVE late, at ${toClock(clock)}: the first bars are partial`);
    await spec.inject(ctx);
    await ctx.until(session.close + AFTER_CLOSE_MS);
    for (const i of ingests) await i.process.stop();
    await spec.beforeFailsafe?.(ctx);
    const windows = SYMBOLS.map((symbol) => auditWindow(symbol, clockStart, session));
    const symbols = await failsafeAndAudit({ db, clock, speed: spec.speed, windows, restUrl: sim.restUrl, ledger, kills, recorder });
    return { fault: spec.fault, injected: spec.injected, speed: spec.speed, realSeconds: (performance.now() - started) / 1000, symbols, notes, logDir };
  } finally {
    await recorder?.close().catch(() => undefined);
    for (const i of ingests) await i.process.kill9().catch(() => undefined);
    await serve?.kill9().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
  }
}

export interface EnvParts {
  databaseUrl: string;
  redisUrl: string;
  sim: RunningSimulator;
  /** The symbols to ingest and serve (the simulator must serve them); default USD/COP. */
  symbols?: readonly string[];
  speed: number;
  clockStart: number;
  anchor: number;
  httpPort: number;
}

/** The environment of every `tasa` process of a run: private servers, the simulator as TwelveData, the shared timeline. */
export function tasaEnv(o: EnvParts): Record<string, string> {
  return {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    TWELVEDATA_API_KEYS: API_KEY,
    TWELVEDATA_WS_URL: o.sim.wsUrl,
    TWELVEDATA_REST_URL: o.sim.restUrl,
    TWELVEDATA_PLAN_PER_MINUTE: '10000',
    TWELVEDATA_PLAN_PER_DAY: '1000000',
    TASA_SYMBOLS: (o.symbols ?? [LEAD]).join(','),
    TASA_CLOCK_START: new Date(o.clockStart).toISOString(),
    TASA_CLOCK_SPEED: String(o.speed),
    TASA_CLOCK_ANCHOR: String(o.anchor),
    TASA_HISTORY_WAIT_MS: '0',
    TASA_FEED_SILENCE_MS: String(REAL_TIMEOUT_MS * o.speed),
    TASA_INGEST_LEASE_MS: String(REAL_TIMEOUT_MS * o.speed),
    TASA_INGEST_WATERMARK_MS: String(REAL_WATERMARK_MS * o.speed),
    TASA_LOG_LEVEL: 'info',
    TASA_HTTP_PORT: String(o.httpPort),
    TASA_RATE_LIMIT_PER_MINUTE: '0',
  };
}

/**
 * The slots of the run in which the symbol's market is open: from the slot of the clock's start
 * to USD/COP's close (the last slot the failsafe, run after it, finds due), cut to the session.
 */
function auditWindow(symbol: string, clockStart: number, lead: Session): AuditWindow {
  const session = calendars.of(symbol).sessionFor(SESSION_DATE);
  if (!session) throw new Error(`${SESSION_DATE} is not a session of ${symbol}`);
  const runStart = clockStart - (clockStart % BAR_MS);
  return { symbol, from: Math.max(session.open, runStart), to: Math.min(session.close, lead.close) };
}

interface AuditParts {
  db: Db;
  clock: ScaledClock;
  speed: number;
  windows: readonly AuditWindow[];
  restUrl: string;
  ledger: TickLedger;
  kills: number[];
  recorder: WsRecorder;
}

/** The failsafe of every symbol as the worker runs it, then the checker per symbol: store and client against the simulator. */
async function failsafeAndAudit(o: AuditParts): Promise<SymbolResult[]> {
  const repaired: Array<Pick<SymbolResult, 'bars' | 'failsafe'> & { window: AuditWindow }> = [];
  for (const window of o.windows) {
    const before = await snapshotBars(o.db, window);
    const failsafe = await failsafeRun(o.db, o.clock, o.speed, o.restUrl, window.symbol);
    repaired.push({ window, failsafe, bars: await auditBars(o.db, window, before, o.restUrl) });
  }
  await sleep(500); // the last frames reach the client
  const results: SymbolResult[] = [];
  for (const { window: w, bars, failsafe } of repaired) {
    const ticks = await auditTicks(o.db, o.ledger, w, o.kills, o.recorder.receivedTicks(w.symbol));
    results.push({ symbol: w.symbol, from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), ticks, bars, client: o.recorder.audit(w.symbol), failsafe });
  }
  return results;
}

interface ContextParts {
  world: World;
  clock: ScaledClock;
  speed: number;
  session: Session;
  sim: RunningSimulator;
  db: Db;
  ingests: IngestHandle[];
  kills: number[];
  notes: string[];
  spawnIngest(reuse?: TasaProcess): TasaProcess;
}

function faultContext(p: ContextParts): FaultContext {
  return {
    world: p.world,
    clock: p.clock,
    session: p.session,
    sim: p.sim,
    afterOpen: (minutes) => p.session.open + minutes * MIN,
    until: (t) => untilClock(p.clock, p.speed, t),
    activeIngest: () => activeIngest(p.db, p.ingests),
    kill9: async (victim) => {
      p.kills.push(performance.now());
      p.notes.push(`${toClock(p.clock)} kill -9 ${victim.name} (pid ${victim.pid})`);
      await victim.kill9();
    },
    startIngest: (reuse) => p.spawnIngest(reuse),
    waitActive: () => waitActive(p.ingests, false, p.clock, p.session),
    note: (text) => p.notes.push(`${toClock(p.clock)} ${text}`),
  };
}

/** The process whose holder (`host:pid`) holds USD/COP's lease. */
async function activeIngest(db: Db, ingests: IngestHandle[]): Promise<TasaProcess> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const rows = await db.query<{ holder: string }>('SELECT holder FROM ingest_leases WHERE name = $1', [ingestLeaseName(LEAD)]);
    const pid = Number(rows[0]?.holder.split(':').at(-1));
    const found = ingests.find((i) => i.process.pid === pid && !i.process.exited());
    if (found) return found.process;
    if (performance.now() > deadline) throw new Error(`no live ingest process holds the lease (holder ${rows[0]?.holder ?? 'none'})`);
    await sleep(100);
  }
}

/** Until an ingest process printed "-> ACTIVE" (since it started, or since this call), or the session is over. */
async function waitActive(ingests: IngestHandle[], fromStart: boolean, clock: ScaledClock, session: Session): Promise<void> {
  const deadline = performance.now() + WAIT_ACTIVE_REAL_MS;
  const marks = new Map<TasaProcess, number>();
  for (const i of ingests) marks.set(i.process, i.process.lines().length);
  while (performance.now() < deadline && clock.now() < session.close) {
    for (const i of ingests) {
      const from = fromStart ? 0 : (marks.get(i.process) ?? 0);
      // The console line, or the JSON log line (a transition before the console listener is attached is only logged).
      if (i.process.lines().slice(from).some((l) => /-> ACTIVE|"to":"ACTIVE"/.test(l))) return;
    }
    await sleep(50);
  }
  throw new Error(`no ingest process became ACTIVE (clock ${toClock(clock)})`);
}

/** Waits (real time, bounded) until the simulated clock reaches `t`. */
export async function untilClock(clock: ScaledClock, speed: number, t: number): Promise<void> {
  const deadline = performance.now() + Math.max(0, (t - clock.now()) / speed) + 30_000;
  while (clock.now() < t) {
    if (performance.now() > deadline) throw new Error(`the clock did not reach ${new Date(t).toISOString()}`);
    await sleep(Math.min(50, Math.max(1, (t - clock.now()) / speed)));
  }
}

/** The failsafe job as the worker runs it; its request timeout is 10 real seconds, whatever the clock's speed. */
async function failsafeRun(db: Db, clock: ScaledClock, speed: number, restUrl: string, symbol: string): Promise<SymbolResult['failsafe']> {
  const plan = { perMinute: 10_000, perDay: 1_000_000 };
  const rest = createRestSource({ db, clock, keys: [API_KEY], baseUrl: restUrl, simulated: true, plan, logger, timeoutMs: 10_000 * speed });
  const result = await runFailsafe({ db, calendar: calendars, source: rest.source, symbol, clock, sessions: sessionsBackToAudited(symbol, clock.now()) });
  return { status: result.status, error: result.fillError };
}

/**
 * How many of the symbol's recent sessions the failsafe must check to reach the audited one: 1,
 * unless a slow stop (SIGTERM's grace is 150 simulated minutes at 600x) carried the clock past a
 * close (EUR/USD's day ends at 22:00 UTC). Counted a few minutes ahead, so that a session starting
 * while the failsafe runs does not push the audited one out of its reach.
 */
function sessionsBackToAudited(symbol: string, now: number): number {
  const calendar = calendars.of(symbol);
  const dueBy = now - BAR_DUE_GRACE_MS + 10 * MIN;
  let count = 1;
  while (count < 5 && !recentSessions(calendar, dueBy, count).some((s) => s.date === SESSION_DATE)) count++;
  return count;
}

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = await openDb({ databaseUrl: adminUrl });
  try {
    await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.exec(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
}

function toClock(clock: ScaledClock): string {
  return new Date(clock.now()).toISOString().slice(11, 19) + 'Z';
}
