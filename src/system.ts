/**
 * The composition root: builds the running system from the configuration, embedded or
 * distributed alike. `tasa up` runs every role in one process; `tasa ingest` runs ingestion only.
 * Without a TwelveData key the built-in simulator stands in for TwelveData, on the same protocol.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, type Bus } from './bus/index.ts';
import { ScaledClock, systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { anyMarketOpen, nextSessionOfAny, type Calendars } from './domain/calendar.ts';
import type { SymbolCode } from './domain/symbol.ts';
import { servedSymbols } from './calendar-config.ts';
import { toBogotaText } from './domain/time.ts';
import { TasaError } from './errors.ts';
import { CATALOG_SYMBOLS, startSimulator, type RunningSimulator } from './feeds/simulator/index.ts';
import { KeyPool } from './feeds/twelvedata/key-pool.ts';
import { TwelveDataStream } from './feeds/twelvedata/ws-client.ts';
import { startAlertEngine } from './alerts/alert-engine.ts';
import { IngestService } from './ingest/ingest-service.ts';
import { startStatusPublisher, type SystemStatus } from './ingest/status-publisher.ts';
import { openJobSender, startJobs, type RunningJobs } from './jobs/boss.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { startMetricsListener } from './metrics/metrics-listener.ts';
import { createScrapeGauges } from './metrics/scrape-gauges.ts';
import { archiveOptionsFrom, openArchive } from './pipeline/archive/open-archive.ts';
import { readCodeVersion } from './pipeline/manifest.ts';
import { startLivePredictor } from './research/live-predictor.ts';
import { TradingHost, tradingSettings } from './execution/trading-engine.ts';
import { startServer } from './server/app.ts';
import { fillGaps } from './jobs/gap-fill.ts';
import { jobHandlers } from './jobs/handlers.ts';
import { retentionJobHandler } from './jobs/retention/retention.ts';
import { createRestSource, type RestSource } from './jobs/history-source.ts';
import { pipelineJobHandler, schedulePipelineJobs, type PipelineJobDeps } from './jobs/pipeline-jobs.ts';
import { walkForwardFoldHandler } from './jobs/walk-forward-jobs.ts';
import { loadResearchConfig } from './research/research-config.ts';
import type { Logger } from './log.ts';
import { busSeqFloors } from './store/bus-seq-repo.ts';
import type { Db } from './store/db.ts';
import { openDb } from './store/open-db.ts';
import { migrate } from './store/migrate.ts';
import { syncReferenceData } from './store/reference-data.ts';
import { TASA_VERSION } from './version.ts';

export interface SystemRoles {
  ingest: boolean;
  jobs: boolean;
  /** The REST/WS server (and dashboard). */
  api: boolean;
}

export interface SystemOptions {
  config: Config;
  calendar: Calendars;
  logger: Logger;
  roles: SystemRoles;
  env?: Record<string, string | undefined>;
}

export interface RunningSystem {
  db: Db;
  bus: Bus;
  clock: Clock;
  symbols: string[];
  /** Set when the built-in simulator stands in for TwelveData. */
  simulator: RunningSimulator | null;
  ingest: IngestService | null;
  jobs: RunningJobs | null;
  metrics: Metrics;
  /** Base URL of the API/WS server when this process serves it. */
  apiUrl: string | null;
  /** Where Prometheus scrapes this process: the API's /metrics, or TASA_METRICS_PORT's listener; null when neither. */
  metricsUrl: string | null;
  status(): SystemStatus;
  stop(): Promise<void>;
}

interface Upstream {
  kind: 'twelvedata' | 'simulator';
  keys: string[];
  restUrl: string;
  wsUrl: string;
  simulator: RunningSimulator | null;
}

export async function startSystem(o: SystemOptions): Promise<RunningSystem> {
  const env = o.env ?? process.env;
  const symbols = servedSymbols(o.config);
  const keys = KeyPool.keysFromEnv(env);
  const clock = chooseClock(o, symbols, keys.length === 0);
  const metrics = createMetrics({ role: roleLabel(o.roles) });
  const db = await openStore(o.config);
  const stack: Array<() => Promise<void>> = [() => db.close()];
  try {
    await migrate(db);
    await syncReferenceData(db, symbols.map((symbol) => o.calendar.of(symbol)));
    const bus = await createBus({
      clock,
      logger: o.logger,
      ...(o.config.REDIS_URL ? { redisUrl: o.config.REDIS_URL } : {}),
      publishBuffer: o.config.TASA_BUS_PUBLISH_BUFFER,
      seqFloors: busSeqFloors(db, clock),
    });
    stack.push(() => bus.close());
    const upstream = await openUpstream(o, clock, keys);
    if (upstream.simulator) stack.push(() => upstream.simulator?.close() ?? Promise.resolve());
    const rest = createRestSource({ db, clock, keys: upstream.keys, baseUrl: upstream.restUrl, simulated: upstream.kind === 'simulator', logger: o.logger, plan: KeyPool.planFromEnv(env) });
    const pipeline = o.roles.jobs ? await pipelineDeps(o, { db, bus, clock, rest, metrics, symbols }, env) : null;
    if (pipeline) stack.push(() => pipeline.archive.close());
    const jobs = o.roles.jobs ? await startWorkers(o, { db, bus, clock, rest, metrics, symbols }, pipeline) : null;
    if (jobs) stack.push(() => jobs.stop());
    if (jobs && pipeline) await schedulePipelineJobs(jobs.boss, pipeline);
    const ingest = o.roles.ingest ? createIngest(o, { db, bus, clock, rest, metrics, symbols }, upstream) : null;
    if (ingest) {
      stack.push(() => ingest.stop());
      ingest.start();
      // The production policy predicts on every final live bar, where the bars are made.
      const predictor = await startLivePredictor({ db, bus, clock, calendar: o.calendar, logger: o.logger, metrics, symbols });
      stack.push(() => predictor.stop());
    }
    const status = (): SystemStatus => ({
      now: toBogotaText(clock.now()),
      store: db.target,
      bus: bus.kind,
      upstream: upstream.kind === 'simulator' ? `simulator at ${upstream.restUrl}` : 'twelvedata',
      ingest: ingest?.status() ?? null,
    });
    // API processes elsewhere read this process's status from the bus.
    if (ingest) stack.push(startStatusPublisher({ bus, clock, status, logger: o.logger }));
    // Alerts are evaluated where the jobs run: once per deployment in the usual set-ups (a second evaluator only deduplicates).
    if (o.roles.jobs) {
      const alerts = await startAlertEngine({ db, bus, clock, calendar: o.calendar, config: o.config, logger: o.logger, metrics, symbols, localStatus: ingest ? status : null });
      stack.push(() => alerts.stop());
    }
    const queue = jobs ?? (o.roles.api ? await openSender(o, db) : null);
    if (queue && queue !== jobs) stack.push(() => queue.stop());
    const trading = o.roles.api ? await startTrading(o, { db, bus, clock, rest, metrics, symbols }) : null;
    if (trading) stack.push(() => trading.stop());
    const server = trading
      ? await startServer({ db, bus, clock, calendar: o.calendar, config: o.config, logger: o.logger, metrics, symbols, version: TASA_VERSION, localStatus: ingest ? status : null, jobs: queue, trading })
      : null;
    if (server) stack.push(() => server.close());
    const metricsUrl = server ? `${server.url}/metrics` : await listenForMetrics(o, { db, bus, clock, rest, metrics, symbols }, stack);
    const stop = once(() => unwind(stack));
    return { db, bus, clock, symbols, simulator: upstream.simulator, ingest, jobs, metrics, apiUrl: server?.url ?? null, metricsUrl, status, stop };
  } catch (err) {
    await unwind(stack);
    throw err;
  }
}

/** The `role` label of this process's metrics: `up` for all roles, else the commands that run them. */
function roleLabel(roles: SystemRoles): string {
  if (roles.ingest && roles.jobs && roles.api) return 'up';
  return [roles.ingest ? 'ingest' : null, roles.jobs ? 'worker' : null, roles.api ? 'serve' : null].filter((r) => r !== null).join('+');
}

/** A process without the API serves GET /metrics on TASA_METRICS_PORT, when set. */
async function listenForMetrics(o: SystemOptions, p: Parts, stack: Array<() => Promise<void>>): Promise<string | null> {
  if (o.config.TASA_METRICS_PORT === undefined) return null;
  const logger = o.logger.child({ component: 'metrics' });
  const gauges = createScrapeGauges({ db: p.db, bus: p.bus, clock: p.clock, calendar: o.calendar, metrics: p.metrics, symbols: p.symbols, logger });
  const listener = await startMetricsListener({ host: o.config.TASA_HTTP_HOST, port: o.config.TASA_METRICS_PORT, metrics: p.metrics, gauges, logger });
  stack.push(() => listener.close());
  return listener.url;
}

/**
 * Real time, unless configured otherwise. With the simulator and a closed market, the clock
 * starts at the next session's open (of any served market) so that `npm start` shows a live session at any hour.
 */
function chooseClock(o: SystemOptions, symbols: readonly SymbolCode[], simulated: boolean): Clock {
  const { TASA_CLOCK_START, TASA_CLOCK_SPEED, TASA_CLOCK_ANCHOR } = o.config;
  if (TASA_CLOCK_START !== undefined) {
    const start = Date.parse(TASA_CLOCK_START);
    if (Number.isNaN(start)) throw new TasaError('bad_argument', `TASA_CLOCK_START must be an ISO time, not "${TASA_CLOCK_START}".`);
    return new ScaledClock(start, TASA_CLOCK_SPEED, TASA_CLOCK_ANCHOR);
  }
  const now = systemClock.now();
  if (!simulated || anyMarketOpen(o.calendar, symbols, now)) return TASA_CLOCK_SPEED === 1 ? systemClock : new ScaledClock(now, TASA_CLOCK_SPEED);
  const open = nextSessionOfAny(o.calendar, symbols, now).open;
  o.logger.info({ simulatedFrom: toBogotaText(open) }, 'market closed: the simulated clock starts at the next session open');
  return new ScaledClock(open, TASA_CLOCK_SPEED);
}

/**
 * The embedded store belongs to this process for as long as it runs (and is served from here to
 * other `tasa` commands): a long-running role never depends on another process's store.
 */
async function openStore(config: Config): Promise<Db> {
  return config.DATABASE_URL === undefined ? openDb({ dataDir: resolve(config.TASA_DATA_DIR), requireOwner: true }) : openDb({ databaseUrl: config.DATABASE_URL });
}

async function openUpstream(o: SystemOptions, clock: Clock, keys: string[]): Promise<Upstream> {
  const { config } = o;
  if (keys.length > 0) return { kind: 'twelvedata', keys, restUrl: config.TWELVEDATA_REST_URL, wsUrl: config.TWELVEDATA_WS_URL, simulator: null };
  // Every pair it can model, as the vendor serves every pair: which ones to ingest is TASA_SYMBOLS'.
  const simulator = await startSimulator({ clock, port: config.TASA_SIMULATOR_PORT, logger: o.logger, symbols: [...CATALOG_SYMBOLS] });
  o.logger.info({ rest: simulator.restUrl, ws: simulator.wsUrl }, 'no TwelveData key set: using the built-in simulator');
  // The simulator accepts any key; this one exists only in this process.
  return { kind: 'simulator', keys: [randomBytes(12).toString('hex')], restUrl: simulator.restUrl, wsUrl: simulator.wsUrl, simulator };
}

/** What the roles share. */
interface Parts {
  db: Db;
  bus: Bus;
  clock: Clock;
  rest: RestSource;
  metrics: Metrics;
  symbols: string[];
}

async function pipelineDeps(o: SystemOptions, { db, clock, metrics, symbols }: Parts, env: Record<string, string | undefined>): Promise<PipelineJobDeps> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  return {
    db,
    archive: await openArchive(archiveOptionsFrom(o.config)),
    clock,
    calendar: o.calendar,
    logger: o.logger,
    metrics,
    symbols,
    codeVersion: await readCodeVersion(root, env['TASA_GIT_COMMIT']),
    // The scheduled and queued runs use the research config the CLI uses (research.config.json, TASA_RESEARCH_CONFIG).
    config: { research: await loadResearchConfig(root, {}, env) },
  };
}

function startWorkers(o: SystemOptions, { db, bus, clock, rest, metrics, symbols }: Parts, pipeline: PipelineJobDeps | null): Promise<RunningJobs> {
  return startJobs({
    db,
    clock,
    metrics,
    calendar: o.calendar,
    symbols,
    logger: o.logger,
    ...(o.config.DATABASE_URL === undefined ? {} : { databaseUrl: o.config.DATABASE_URL }),
    // The stream to reconcile: Redis's, or the in-process bus when ingestion runs in this process.
    handlers: jobHandlers({
      db,
      calendar: o.calendar,
      clock,
      source: rest.source,
      bus: o.config.REDIS_URL || o.roles.ingest ? bus : null,
      symbols,
      ...(pipeline ? { pipeline: pipelineJobHandler(pipeline), walkForwardFold: walkForwardFoldHandler({ db, archive: pipeline.archive, clock, calendar: o.calendar }) } : {}),
      ...(pipeline
        ? { retention: retentionJobHandler({ db, archive: pipeline.archive, clock, logger: o.logger, retentionDays: o.config.TASA_TICK_RETENTION_DAYS, codeVersion: pipeline.codeVersion }) }
        : {}),
    }),
  });
}

function createIngest(o: SystemOptions, { db, bus, clock, rest, metrics, symbols }: Parts, upstream: Upstream): IngestService {
  const dataDir = resolve(o.config.TASA_DATA_DIR);
  return new IngestService({
    db,
    bus,
    clock,
    metrics,
    calendar: o.calendar,
    logger: o.logger,
    symbols,
    holder: `${hostname()}:${process.pid}`,
    spoolPath: join(dataDir, 'spool', 'ingest.jsonl'),
    spoolMaxBytes: o.config.TASA_SPOOL_MAX_BYTES,
    leaseTtlMs: o.config.TASA_INGEST_LEASE_MS,
    watermarkMs: o.config.TASA_INGEST_WATERMARK_MS,
    openFeed: (subscribed) =>
      new TwelveDataStream({
        url: upstream.wsUrl,
        keys: rest.pool,
        symbols: subscribed,
        clock,
        logger: o.logger,
        source: upstream.kind === 'simulator' ? 'simulator' : 'twelvedata_ws',
        silenceTimeoutMs: o.config.TASA_FEED_SILENCE_MS,
        shouldReconnect: () => anyMarketOpen(o.calendar, symbols, clock.now()),
      }),
    readiness: { waitForL0Ms: o.config.TASA_HISTORY_WAIT_MS ?? (o.config.DATABASE_URL === undefined ? 0 : 60_000) },
    fillGaps: (symbol, from, to) => fillGaps({ db, calendar: o.calendar, source: rest.source, symbol, from, to, clock, layer: 'failsafe' }),
  });
}

/**
 * The paper broker and order service, in the API process: in `tasa up` that is the one process;
 * with several `serve` processes the `trading` lease picks one, and the others answer trading
 * writes 503 naming it (and take over when it stops renewing).
 */
async function startTrading(o: SystemOptions, { db, bus, clock, symbols }: Parts): Promise<TradingHost> {
  const host = new TradingHost({
    db,
    bus,
    clock,
    calendar: o.calendar,
    logger: o.logger,
    settings: tradingSettings(o.config, symbols),
    holder: `${hostname()}:${process.pid}`,
    leaseTtlMs: o.config.TASA_INGEST_LEASE_MS,
  });
  await host.start();
  return host;
}

/** An API-only process queues work for workers elsewhere; that needs PostgreSQL (embedded PGlite has no other process to run it). */
async function openSender(o: SystemOptions, db: Db): Promise<Pick<RunningJobs, 'send' | 'stop'> | null> {
  if (o.config.DATABASE_URL === undefined) return null;
  return openJobSender({ db, databaseUrl: o.config.DATABASE_URL, logger: o.logger });
}

async function unwind(stack: Array<() => Promise<void>>): Promise<void> {
  while (stack.length > 0) {
    const close = stack.pop();
    await close?.().catch(() => undefined);
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}
