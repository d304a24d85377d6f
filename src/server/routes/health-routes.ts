/**
 * `GET /health` (probes: is this process ready to serve?) and `GET /status` (what the system is
 * doing: lifecycle, counters, credits, last job runs). The ingest part comes from this process
 * when it runs ingestion, else from the snapshot the lease holder publishes on the bus; who holds
 * each symbol's ingest lease comes from the lease table, not from whichever process answered.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { systemClock } from '../../clock.ts';
import { anyMarketOpen } from '../../domain/calendar.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { errorMessage } from '../../errors.ts';
import type { IngestStatus } from '../../ingest/ingest-service.ts';
import { countOpenAlerts } from '../../store/alerts-repo.ts';
import { ingestLeaseName, leaseRows, type LeaseRow } from '../../store/leases-repo.ts';
import { listApiKeys, windowUsage, type ApiKeyState } from '../../store/api-keys-repo.ts';
import { latestRunPerLayer, recordedLayers, type PipelineRun } from '../../store/pipeline-runs-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS } from '../http-errors.ts';
import { readIngestStatus, type KnownIngestStatus } from '../../ingest/status-publisher.ts';
import { HealthBody, type LeaseBody, type Probe } from '../../contracts/api/health.ts';
import { StatusBody, type IngestBody, type KeyBody, type RunBody } from '../../contracts/api/status.ts';

/** A dependency that does not answer within this is reported down (real time: it paces I/O). */
const PROBE_TIMEOUT_MS = 2000;
/** Transitions shown by /status (the lifecycle keeps 100). */
const TRANSITIONS_SHOWN = 10;

export const healthRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness and readiness',
        description:
          'Checks the database (SELECT 1) and, when REDIS_URL is set, Redis (a cache round trip), each within 2 s; reports the ingest lease holders (lease table), the holder\'s lifecycle and feed, standbys, whether the market is open, and the version. 200 when ready or degraded (no live lease holder of a symbol during market hours, with the reason), 503 with the same body naming the failed checks.',
        response: { ...COMMON_ERRORS, 200: HealthBody, 503: HealthBody },
      },
    },
    async (_request, reply) => {
      const body = await health(deps);
      return reply.status(body.status === 'not_ready' ? 503 : 200).send(body);
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
  const now = deps.clock.now();
  const [database, redis, leases] = await Promise.all([
    probe(() => deps.db.query('SELECT 1')),
    deps.bus.kind === 'redis' ? probe(() => deps.bus.getLatest('health:probe')) : Promise.resolve(null),
    symbolLeases(deps, now).catch(() => null),
  ]);
  const ingest = await readIngestStatus({ ...deps, leaseHolder: liveHolder(leases) }).catch((err: unknown): KnownIngestStatus => ({
    source: 'none',
    publishedAt: null,
    status: null,
    note: `unknown: ${errorMessage(err)}`,
  }));
  const state = ingest.status?.ingest?.state ?? null;
  const ingestOk = !(ingest.source === 'local' && state === 'ERROR');
  const failed = [...(database.ok ? [] : ['database']), ...(redis === null || redis.ok ? [] : ['redis']), ...(ingestOk ? [] : ['ingest'])];
  const marketOpen = anyMarketOpen(deps.calendar, deps.symbols, now);
  const inHours = (symbol: string) => deps.symbols.includes(symbol) && deps.calendar.of(symbol).isMarketOpen(now);
  const degraded = leases === null ? [] : leases.filter((l) => !l.live && inHours(l.symbol)).map((l) => `no live ingest process holds the lease of ${l.symbol} during its market hours`);
  return {
    status: failed.length > 0 ? 'not_ready' : degraded.length > 0 ? 'degraded' : 'ready',
    failed,
    degraded,
    version: deps.version,
    time: toIsoUtc(now),
    checks: {
      database,
      redis,
      ingest: {
        ok: ingestOk,
        source: ingest.source,
        state,
        feed: ingest.status?.ingest?.feed.state ?? null,
        note: ingest.note,
        holder: ingest.status?.ingest?.holder ?? null,
        leases: leases ?? [],
        standbys: (ingest.others ?? []).map((o) => ({ holder: o.holder, state: o.state, publishedAt: toIsoUtc(o.publishedAt) })),
      },
    },
    market: { open: marketOpen },
  };
}

/** Each symbol's ingest lease from the lease table, live when not expired on the clock. */
async function symbolLeases(deps: ServerDeps, now: number): Promise<Array<LeaseBody>> {
  const rows = new Map<string, LeaseRow>((await leaseRows(deps.db, deps.symbols.map(ingestLeaseName))).map((r) => [r.name, r]));
  return deps.symbols.map((symbol) => {
    const row = rows.get(ingestLeaseName(symbol));
    if (!row) return { symbol, holder: null, epoch: null, expiresAt: null, live: false };
    return { symbol, holder: row.holder, epoch: row.epoch, expiresAt: toIsoUtc(row.expiresAt), live: row.expiresAt > now };
  });
}

/** The holder of the first live lease (one process holds them all in the usual set-ups). */
function liveHolder(leases: ReadonlyArray<LeaseBody> | null): string | null {
  return leases?.find((l) => l.live)?.holder ?? null;
}

async function probe(check: () => Promise<unknown>): Promise<Probe> {
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
  const leases = await symbolLeases(deps, now).catch(() => null);
  const [known, keys, runs, openAlerts] = await Promise.all([
    readIngestStatus({ ...deps, leaseHolder: liveHolder(leases) }),
    listApiKeys(deps.db),
    lastRuns(deps),
    countOpenAlerts(deps.db),
  ]);
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

function ingestBody(known: KnownIngestStatus, now: number): IngestBody | null {
  const s: IngestStatus | null | undefined = known.status?.ingest;
  if (!s) return null;
  return {
    state: s.state,
    transitions: s.transitions.slice(-TRANSITIONS_SHOWN).map((t) => ({ from: t.from, to: t.to, at: toIsoUtc(t.at), reason: t.reason })),
    holder: s.holder ?? null,
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
    markets: Object.entries(s.markets ?? {}).map(([symbol, m]) => ({ symbol, ...m })),
    writer: s.writer,
  };
}

function keyBody(k: ApiKeyState, now: number): KeyBody {
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

function runBody(r: PipelineRun): RunBody {
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
