/**
 * `GET /health` (probes: is this process ready to serve?) and `GET /status` (what the system is
 * doing: lifecycle, counters, credits, last job runs). The ingest part comes from this process
 * when it runs ingestion, else from the snapshot the ingest process publishes on the bus.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { systemClock } from '../../clock.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { errorMessage } from '../../errors.ts';
import type { IngestStatus } from '../../ingest/ingest-service.ts';
import { countOpenAlerts } from '../../store/alerts-repo.ts';
import { listApiKeys, windowUsage, type ApiKeyState } from '../../store/api-keys-repo.ts';
import { latestRunPerLayer, recordedLayers, type PipelineRun } from '../../store/pipeline-runs-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS } from '../http-errors.ts';
import { readIngestStatus, type KnownIngestStatus } from '../../ingest/status-publisher.ts';
import { IsoTime, Nullable } from '../market-inputs.ts';

/** A dependency that does not answer within this is reported down (real time: it paces I/O). */
const PROBE_TIMEOUT_MS = 2000;
/** Transitions shown by /status (the lifecycle keeps 100). */
const TRANSITIONS_SHOWN = 10;

const Probe = Type.Object({
  ok: Type.Boolean(),
  latencyMs: Nullable(Type.Number(), 'Round trip, ms (null when it failed)'),
  error: Nullable(Type.String(), 'Why it failed'),
});

const IngestSource = Type.Union([Type.Literal('local'), Type.Literal('ingest_process'), Type.Literal('none')], {
  description: 'local = ingestion runs in this process; ingest_process = snapshot from the bus; none = no ingest process has reported',
});

const HealthBody = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    failed: Type.Array(Type.String(), { description: 'The checks that failed: database, redis, ingest (empty when ready)' }),
    version: Type.String(),
    time: IsoTime,
    checks: Type.Object({
      database: Probe,
      redis: Nullable(Probe, 'null when no Redis is configured (in-process bus)'),
      ingest: Type.Object({
        ok: Type.Boolean({ description: 'False only when ingestion runs in this process and is in ERROR' }),
        source: IngestSource,
        state: Nullable(Type.String(), 'Lifecycle state (INITIALIZING, WAITING_L0, CHECKING_DATA, READY, ACTIVE, ERROR, SHUTDOWN)'),
        feed: Nullable(Type.String(), 'Feed connection state'),
        note: Type.String(),
      }),
    }),
    market: Type.Object({ open: Type.Boolean({ description: 'The USD/COP session is open now' }) }),
  },
  {
    description: 'Ready when the database answers and, when configured, Redis does; ingestion fails readiness only when it runs in this process and is in ERROR.',
    examples: [
      {
        status: 'ready',
        failed: [],
        version: '0.1.0',
        time: '2024-01-02T15:00:00.000Z',
        checks: {
          database: { ok: true, latencyMs: 1.2, error: null },
          redis: null,
          ingest: { ok: true, source: 'local', state: 'ACTIVE', feed: 'connected', note: 'ingestion runs in this process' },
        },
        market: { open: true },
      },
    ],
  },
);
type HealthBody = Static<typeof HealthBody>;

const SymbolCounters = Type.Object({
  symbol: Type.String(),
  ticks: Type.Integer({ description: 'Ticks received' }),
  rejected: Type.Integer({ description: 'Ticks rejected by validation' }),
  rejectedByReason: Type.Record(Type.String(), Type.Integer()),
  bars: Type.Integer({ description: 'Final bars closed' }),
  emptySlots: Type.Integer({ description: 'Slots that closed without a tick' }),
  publishFailures: Type.Integer(),
  lastTickAt: Nullable(IsoTime),
  lastTickAgeSeconds: Nullable(Type.Number(), 'Seconds since the last tick was received; null before the first'),
});

const IngestBody = Type.Object({
  state: Type.String(),
  transitions: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), at: IsoTime, reason: Type.String() }), { description: 'The latest, oldest first' }),
  leases: Type.Array(Type.String()),
  feed: Type.Object({
    state: Type.String(),
    detail: Nullable(Type.String()),
    connects: Type.Integer(),
    problems: Type.Record(Type.String(), Type.Integer()),
    failedSymbols: Type.Array(Type.String()),
  }),
  dataChecks: Type.Array(
    Type.Object({ symbol: Type.String(), lastBarAt: Nullable(IsoTime), fresh: Type.Boolean(), completeness: Type.Number(), complete: Type.Boolean() }),
  ),
  symbols: Type.Array(SymbolCounters),
  writer: Type.Object({
    ticksWritten: Type.Integer(),
    barsWritten: Type.Integer(),
    flushes: Type.Integer(),
    failures: Type.Integer(),
    spooled: Type.Integer(),
    pending: Type.Integer(),
    databaseDown: Type.Boolean(),
  }),
});

const KeyBody = Type.Object({
  id: Type.String({ description: 'Key id: k_ + a short sha256 of the key; never the key' }),
  status: Type.String(),
  badReason: Nullable(Type.String()),
  minuteLimit: Type.Integer(),
  minuteLeft: Type.Integer(),
  dayLimit: Type.Integer(),
  dayLeft: Type.Integer(),
  creditsTotal: Type.Number(),
  lastTakenAt: Nullable(IsoTime),
});

const RunBody = Type.Object({
  layer: Type.String(),
  id: Type.Integer(),
  symbol: Nullable(Type.String()),
  status: Type.String(),
  startedAt: IsoTime,
  finishedAt: Nullable(IsoTime),
  rowsIn: Nullable(Type.Integer()),
  rowsOut: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
});

const StatusBody = Type.Object(
  {
    time: IsoTime,
    version: Type.String(),
    source: IngestSource,
    note: Type.String({ description: 'Where the ingest status comes from, or "unknown (no ingest process has reported)"' }),
    publishedAt: Nullable(IsoTime, 'When the ingest status was taken'),
    system: Nullable(Type.Object({ store: Type.String(), bus: Type.String(), upstream: Type.String() }), 'The ingest process: its store, bus and upstream'),
    ingest: Nullable(IngestBody, 'null when unknown or when the reporting process does not ingest'),
    keys: Type.Array(KeyBody, { description: 'TwelveData key pool: credits left in the current minute and UTC day' }),
    jobs: Type.Object({
      lastRuns: Type.Array(RunBody, { description: 'The latest pipeline_runs row of each layer' }),
      openAlerts: Type.Integer(),
    }),
  },
  { description: 'Lifecycle state, counters, key-pool credits, last job runs. Times UTC.' },
);
type StatusBody = Static<typeof StatusBody>;

export const healthRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness and readiness',
        description:
          'Checks the database (SELECT 1) and, when REDIS_URL is set, Redis (a cache round trip), each within 2 s; reports the ingest lifecycle and feed, whether the market is open, and the version. 200 when ready, 503 with the same body naming the failed checks.',
        response: { ...COMMON_ERRORS, 200: HealthBody, 503: HealthBody },
      },
    },
    async (_request, reply) => {
      const body = await health(deps);
      return reply.status(body.status === 'ready' ? 200 : 503).send(body);
    },
  );

  app.get(
    '/status',
    {
      schema: {
        tags: ['system'],
        summary: 'System status',
        description: 'The ingest lifecycle and counters (from this process or the snapshot the ingest process publishes every 5 s), TwelveData credits left per key, the latest run of each pipeline layer and the open alerts.',
        response: { 200: StatusBody, ...COMMON_ERRORS },
      },
    },
    () => status(deps),
  );
  return Promise.resolve();
};

async function health(deps: ServerDeps): Promise<HealthBody> {
  const [database, redis, ingest] = await Promise.all([
    probe(() => deps.db.query('SELECT 1')),
    deps.bus.kind === 'redis' ? probe(() => deps.bus.getLatest('health:probe')) : Promise.resolve(null),
    readIngestStatus(deps).catch((err: unknown) => ({ source: 'none' as const, publishedAt: null, status: null, note: `unknown: ${errorMessage(err)}` })),
  ]);
  const state = ingest.status?.ingest?.state ?? null;
  const ingestOk = !(ingest.source === 'local' && state === 'ERROR');
  const failed = [...(database.ok ? [] : ['database']), ...(redis === null || redis.ok ? [] : ['redis']), ...(ingestOk ? [] : ['ingest'])];
  return {
    status: failed.length === 0 ? 'ready' : 'not_ready',
    failed,
    version: deps.version,
    time: toIsoUtc(deps.clock.now()),
    checks: {
      database,
      redis,
      ingest: { ok: ingestOk, source: ingest.source, state, feed: ingest.status?.ingest?.feed.state ?? null, note: ingest.note },
    },
    market: { open: deps.calendar.isMarketOpen(deps.clock.now()) },
  };
}

async function probe(check: () => Promise<unknown>): Promise<Static<typeof Probe>> {
  const started = performance.now();
  let cancel = (): void => {};
  const timeout = new Promise<never>((_, reject) => {
    cancel = systemClock.setTimer(PROBE_TIMEOUT_MS, () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
  });
  try {
    await Promise.race([check(), timeout]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100, error: null };
  } catch (err) {
    return { ok: false, latencyMs: null, error: errorMessage(err) };
  } finally {
    cancel();
  }
}

async function status(deps: ServerDeps): Promise<StatusBody> {
  const now = deps.clock.now();
  const [known, keys, runs, openAlerts] = await Promise.all([readIngestStatus(deps), listApiKeys(deps.db), lastRuns(deps), countOpenAlerts(deps.db)]);
  return {
    time: toIsoUtc(now),
    version: deps.version,
    source: known.source,
    note: known.note,
    publishedAt: known.publishedAt === null ? null : toIsoUtc(known.publishedAt),
    system: known.status ? { store: known.status.store, bus: known.status.bus, upstream: known.status.upstream } : null,
    ingest: ingestBody(known, now),
    keys: keys.map((k) => keyBody(k, now)),
    jobs: { lastRuns: runs.map(runBody), openAlerts },
  };
}

async function lastRuns(deps: ServerDeps): Promise<PipelineRun[]> {
  const layers = await recordedLayers(deps.db);
  return layers.length === 0 ? [] : [...(await latestRunPerLayer(deps.db, layers)).values()];
}

function ingestBody(known: KnownIngestStatus, now: number): Static<typeof IngestBody> | null {
  const s: IngestStatus | null | undefined = known.status?.ingest;
  if (!s) return null;
  return {
    state: s.state,
    transitions: s.transitions.slice(-TRANSITIONS_SHOWN).map((t) => ({ from: t.from, to: t.to, at: toIsoUtc(t.at), reason: t.reason })),
    leases: s.leases,
    feed: s.feed,
    dataChecks: s.dataChecks.map((c) => ({ symbol: c.symbol, lastBarAt: c.lastBarAt === null ? null : toIsoUtc(c.lastBarAt), fresh: c.fresh, completeness: c.completeness, complete: c.complete })),
    symbols: Object.entries(s.symbols).map(([symbol, c]) => ({
      symbol,
      ticks: c.received,
      rejected: Object.values(c.rejected).reduce((a, b) => a + b, 0),
      rejectedByReason: c.rejected,
      bars: c.barsFinal,
      emptySlots: c.emptySlots,
      publishFailures: c.publishFailures,
      lastTickAt: c.lastTickAt === null ? null : toIsoUtc(c.lastTickAt),
      lastTickAgeSeconds: c.lastTickAt === null ? null : Math.max(0, (now - c.lastTickAt) / 1000),
    })),
    writer: s.writer,
  };
}

function keyBody(k: ApiKeyState, now: number): Static<typeof KeyBody> {
  const used = windowUsage(k, now);
  return {
    id: k.id,
    status: k.status,
    badReason: k.badReason,
    minuteLimit: k.minuteLimit,
    minuteLeft: Math.max(0, k.minuteLimit - used.minuteUsed),
    dayLimit: k.dayLimit,
    dayLeft: Math.max(0, k.dayLimit - used.dayUsed),
    creditsTotal: k.creditsTotal,
    lastTakenAt: k.lastTakenAt === null ? null : toIsoUtc(k.lastTakenAt),
  };
}

function runBody(r: PipelineRun): Static<typeof RunBody> {
  return {
    layer: r.layer,
    id: r.id,
    symbol: r.symbol,
    status: r.status,
    startedAt: toIsoUtc(r.startedAt),
    finishedAt: r.finishedAt === null ? null : toIsoUtc(r.finishedAt),
    rowsIn: r.rowsIn,
    rowsOut: r.rowsOut,
    error: r.error,
  };
}
