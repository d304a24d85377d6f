import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IngestStatus } from '../../src/ingest/ingest-service.ts';
import { INGEST_STATUS_KEY, startStatusPublisher, type SystemStatus } from '../../src/ingest/status-publisher.ts';
import type { HealthBody } from '../../src/contracts/api/health.ts';
import { raiseAlert } from '../../src/store/alerts-repo.ts';
import { registerApiKeys, takeApiKeyCredits } from '../../src/store/api-keys-repo.ts';
import { acquireLease, releaseLease } from '../../src/store/leases-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { finishRun, startRun } from '../../src/store/pipeline-runs-repo.ts';
import { cleanupRedis, redisTarget } from '../bus/targets.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';

function ingestStatus(state: IngestStatus['state'], lastTickAt: number | null): IngestStatus {
  return {
    state,
    transitions: [
      { from: 'INITIALIZING', to: 'WAITING_L0', at: OPEN_TIME - 120_000, reason: 'started' },
      { from: 'READY', to: 'ACTIVE', at: OPEN_TIME - 60_000, reason: 'session 2024-01-02 open' },
    ],
    leases: ['USD/COP'],
    feed: { state: 'connected', detail: null, connects: 1, problems: { stale: 2 }, failedSymbols: [] },
    dataChecks: [],
    symbols: {
      'USD/COP': { received: 120, rejected: { absurd_jump: 2, stale: 1 }, outcomes: {}, barsFinal: 11, emptySlots: 1, publishFailures: 0, lastTickAt, feedLatenciesMs: [] },
    },
    writer: {
      ticksWritten: 117,
      barsWritten: 11,
      flushes: 40,
      failures: 0,
      spooled: 0,
      pending: 3,
      databaseDown: false,
      fencedOut: 0,
      spool: { bytes: 0, diskBytes: 0, entries: 0, oldestAgeMs: null, rejected: 0 },
      barLatenciesMs: [3],
    },
  };
}

function systemStatus(ingest: IngestStatus | null): SystemStatus {
  return { now: '2024-01-02 10:00:00 -05:00', store: 'pglite:memory', bus: 'memory', upstream: 'twelvedata', ingest };
}

interface StatusBody {
  source: string;
  note: string;
  publishedAt: string | null;
  system: { store: string; upstream: string } | null;
  ingest: {
    state: string;
    transitions: Array<{ to: string; at: string }>;
    symbols: Array<{ symbol: string; ticks: number; rejected: number; bars: number; emptySlots: number; lastTickAt: string | null; lastTickAgeSeconds: number | null }>;
    writer: Record<string, unknown>;
  } | null;
  keys: Array<{ id: string; minuteLeft: number; dayLeft: number; dayLimit: number }>;
  jobs: { lastRuns: Array<{ layer: string; id: number; status: string }>; openAlerts: number };
}

for (const target of databaseTargets()) {
  describe(`health and status routes on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db });
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    it('GET /health: degraded (still 200) while no process holds the ingest lease in market hours; database up, no Redis, version', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/health' });
      assert.equal(res.statusCode, 200);
      const body = res.json<HealthBody>();
      assert.equal(body.status, 'degraded');
      assert.deepEqual(body.degraded, ['no live ingest process holds the lease of USD/COP during its market hours']);
      assert.deepEqual(body.failed, []);
      assert.equal(body.version, '0.0.0-test');
      assert.equal(body.checks.database.ok, true);
      assert.equal(body.checks.redis, null);
      assert.deepEqual(body.checks.ingest, {
        ok: true,
        source: 'none',
        state: null,
        feed: null,
        note: 'unknown (no ingest process has reported)',
        holder: null,
        leases: [{ symbol: 'USD/COP', holder: null, epoch: null, expiresAt: null, live: false }],
        standbys: [],
      });
      assert.equal(body.market.open, true);
    });

    it('GET /health: ready while a live process holds the lease; degraded again when it expires or is released; ready when the market is closed', async () => {
      const name = 'ingest:USD/COP';
      const own = await startTestServer({ db });
      const now = own.clock.now();
      const epoch = await acquireLease(db, { name, holder: 'ingest-a', now, ttlMs: 30_000 });
      try {
        let body = (await own.app.inject({ method: 'GET', url: '/health' })).json<HealthBody>();
        assert.equal(body.status, 'ready');
        assert.deepEqual(body.degraded, []);
        assert.deepEqual(body.checks.ingest.leases, [{ symbol: 'USD/COP', holder: 'ingest-a', epoch, expiresAt: new Date(now + 30_000).toISOString(), live: true }]);
        await own.clock.advance(30_000);
        body = (await own.app.inject({ method: 'GET', url: '/health' })).json<HealthBody>();
        assert.equal(body.status, 'degraded', 'the holder stopped renewing: nobody writes');
        assert.equal(body.checks.ingest.leases[0]?.live, false);
        assert.equal(body.checks.ingest.leases[0]?.holder, 'ingest-a');
        await acquireLease(db, { name, holder: 'ingest-a', now: own.clock.now(), ttlMs: 30_000 });
        await releaseLease(db, name, 'ingest-a');
        assert.equal((await own.app.inject({ method: 'GET', url: '/health' })).json<HealthBody>().status, 'degraded', 'released: nobody writes');
        await own.clock.advance(8 * 3600_000); // 23:00 UTC, 18:00 in Bogota: the session is over
        const res = (await own.app.inject({ method: 'GET', url: '/health' })).json<HealthBody>();
        assert.equal(res.market.open, false);
        assert.equal(res.status, 'ready', 'no lease is needed while the market is closed');
      } finally {
        await releaseLease(db, name, 'ingest-a');
        await own.close();
      }
    });

    it('GET /health with an active and a standby ingest process: the lease holder\'s state, never the standby\'s; the standby listed apart', async () => {
      const name = 'ingest:USD/COP';
      const own = await startTestServer({ db });
      const clock = own.clock;
      await acquireLease(db, { name, holder: 'ingest-a', now: clock.now(), ttlMs: 30_000 });
      const aLeases = ['USD/COP'];
      let bLeases: string[] = [];
      let bState: IngestStatus['state'] = 'READY';
      const stopA = startStatusPublisher({ bus: own.deps.bus, clock, everyMs: 5000, status: () => systemStatus({ ...ingestStatus('ACTIVE', clock.now() - 1000), holder: 'ingest-a', leases: aLeases }) });
      const stopB = startStatusPublisher({ bus: own.deps.bus, clock, everyMs: 5000, status: () => systemStatus({ ...ingestStatus(bState, clock.now() - 1000), holder: 'ingest-b', leases: bLeases }) });
      try {
        for (let i = 0; i < 3; i++) {
          await clock.advance(5000);
          await acquireLease(db, { name, holder: 'ingest-a', now: clock.now(), ttlMs: 30_000 });
          const body = (await own.app.inject({ method: 'GET', url: '/health' })).json<HealthBody>();
          assert.equal(body.status, 'ready');
          assert.equal(body.checks.ingest.holder, 'ingest-a', 'always the holder, whichever published last');
          assert.equal(body.checks.ingest.state, 'ACTIVE');
          assert.deepEqual(
            body.checks.ingest.standbys.map((s) => [s.holder, s.state]),
            [['ingest-b', 'READY']],
          );
        }
        // a stops renewing (stalled, but still publishes that it holds the lease); b takes over.
        await clock.advance(30_000);
        await acquireLease(db, { name, holder: 'ingest-b', now: clock.now(), ttlMs: 30_000 });
        bLeases = ['USD/COP'];
        bState = 'ACTIVE';
        await clock.advance(5000);
        const body = (await own.app.inject({ method: 'GET', url: '/health' })).json<HealthBody>();
        assert.equal(body.checks.ingest.holder, 'ingest-b', 'the lease table decides, not the stale claim of a');
        assert.equal(body.checks.ingest.leases[0]?.epoch, 2);
        assert.deepEqual(
          body.checks.ingest.standbys.map((s) => s.holder),
          ['ingest-a'],
        );
      } finally {
        await stopA();
        await stopB();
        await releaseLease(db, name, 'ingest-b');
        await own.close();
      }
    });

    it('GET /status: says the ingest status is unknown when nothing has reported; credits, last runs and alerts from the database', async () => {
      await registerApiKeys(db, [{ id: 'k_0123456789', minuteLimit: 8, dayLimit: 800 }], OPEN_TIME);
      assert.ok(await takeApiKeyCredits(db, 'k_0123456789', 3, OPEN_TIME));
      const first = await startRun(db, { layer: 'L0', symbol: 'USD/COP', params: {}, at: OPEN_TIME - 3_600_000 });
      await finishRun(db, first, { status: 'completed', rowsIn: 10, rowsOut: 10, summary: {}, at: OPEN_TIME - 3_500_000 });
      const second = await startRun(db, { layer: 'L0', symbol: 'USD/COP', params: {}, at: OPEN_TIME - 600_000 });
      await finishRun(db, second, { status: 'failed', rowsIn: 0, rowsOut: 0, summary: {}, error: 'bad file', at: OPEN_TIME - 590_000 });
      const failsafe = await startRun(db, { layer: 'failsafe', symbol: 'USD/COP', params: {}, at: OPEN_TIME - 60_000 });
      await raiseAlert(db, { kind: 'stale', severity: 'warning', symbol: 'USD/COP', message: 'no tick', details: {}, dedupeKey: 'stale:USD/COP' });

      const res = await server.app.inject({ method: 'GET', url: '/status' });
      assert.equal(res.statusCode, 200);
      const body = res.json<StatusBody>();
      assert.equal(body.source, 'none');
      assert.equal(body.note, 'unknown (no ingest process has reported)');
      assert.equal(body.ingest, null);
      assert.equal(body.system, null);
      assert.equal(body.publishedAt, null);
      assert.deepEqual(
        body.keys.map((k) => ({ id: k.id, minuteLeft: k.minuteLeft, dayLeft: k.dayLeft })),
        [{ id: 'k_0123456789', minuteLeft: 5, dayLeft: 797 }],
      );
      assert.deepEqual(
        body.jobs.lastRuns.map((r) => [r.layer, r.id, r.status]),
        [
          ['L0', second, 'failed'],
          ['failsafe', failsafe, 'running'],
        ],
      );
      assert.equal(body.jobs.openAlerts, 1);
    });

    it('GET /status and /health: read the snapshot the ingest process publishes, until it expires', async () => {
      const stop = startStatusPublisher({ bus: server.deps.bus, clock: server.clock, status: () => systemStatus(ingestStatus('ACTIVE', server.clock.now() - 4000)), everyMs: 5000 });
      try {
        await server.clock.advance(0);
        assert.ok(await server.deps.bus.getLatest(INGEST_STATUS_KEY));
        let body = (await server.app.inject({ method: 'GET', url: '/status' })).json<StatusBody>();
        assert.equal(body.source, 'ingest_process');
        assert.equal(body.publishedAt, new Date(OPEN_TIME).toISOString());
        assert.equal(body.system?.upstream, 'twelvedata');
        assert.equal(body.ingest?.state, 'ACTIVE');
        assert.deepEqual(body.ingest?.symbols, [
          { symbol: 'USD/COP', ticks: 120, rejected: 3, rejectedByReason: { absurd_jump: 2, stale: 1 }, bars: 11, emptySlots: 1, publishFailures: 0, lastTickAt: new Date(OPEN_TIME - 4000).toISOString(), lastTickAgeSeconds: 4 },
        ]);
        // Republished on its period: the snapshot moves with the clock.
        await server.clock.advance(5000);
        body = (await server.app.inject({ method: 'GET', url: '/status' })).json<StatusBody>();
        assert.equal(body.publishedAt, new Date(OPEN_TIME + 5000).toISOString());
        const health = (await server.app.inject({ method: 'GET', url: '/health' })).json<HealthBody>();
        assert.deepEqual(
          { ...health.checks.ingest, leases: undefined },
          {
            ok: true,
            source: 'ingest_process',
            state: 'ACTIVE',
            feed: 'connected',
            note: `snapshot published by the ingest process at ${new Date(OPEN_TIME + 5000).toISOString()}`,
            holder: null,
            leases: undefined,
            standbys: [],
          },
        );
      } finally {
        await stop();
      }
      // Three missed periods: the snapshot expires and the status is unknown again.
      await server.clock.advance(15_001);
      const body = (await server.app.inject({ method: 'GET', url: '/status' })).json<StatusBody>();
      assert.equal(body.source, 'none');
      assert.equal(body.ingest, null);
    });

    it('GET /status from this process: counters, last tick age, transitions; /health fails on a local ERROR', async () => {
      let state: IngestStatus['state'] = 'ACTIVE';
      const local = await startTestServer({ db, clock: server.clock, deps: { localStatus: () => systemStatus(ingestStatus(state, server.clock.now() - 2500)) } });
      try {
        const body = (await local.app.inject({ method: 'GET', url: '/status' })).json<StatusBody>();
        assert.equal(body.source, 'local');
        assert.equal(body.note, 'ingestion runs in this process');
        assert.equal(body.ingest?.symbols[0]?.lastTickAgeSeconds, 2.5);
        assert.equal(body.ingest?.symbols[0]?.ticks, 120);
        assert.deepEqual(
          body.ingest?.transitions.map((t) => t.to),
          ['WAITING_L0', 'ACTIVE'],
        );
        assert.equal(body.ingest?.writer['ticksWritten'], 117);
        assert.equal(body.ingest?.writer['barLatenciesMs'], undefined);
        state = 'ERROR';
        const res = await local.app.inject({ method: 'GET', url: '/health' });
        assert.equal(res.statusCode, 503);
        const health = res.json<HealthBody>();
        assert.equal(health.status, 'not_ready');
        assert.deepEqual(health.failed, ['ingest']);
        assert.equal(health.checks.ingest.state, 'ERROR');
      } finally {
        await local.close();
      }
    });

    it('GET /health: 503 naming the database when it is closed', async () => {
      const own = await target.open();
      const broken = await startTestServer({ db: own });
      try {
        await own.close();
        const res = await broken.app.inject({ method: 'GET', url: '/health' });
        assert.equal(res.statusCode, 503);
        const body = res.json<HealthBody>();
        assert.equal(body.status, 'not_ready');
        assert.deepEqual(body.failed, ['database']);
        assert.equal(body.checks.database.ok, false);
        assert.ok(body.checks.database.error);
      } finally {
        await broken.close();
      }
    });
  });
}

const redis = redisTarget();
if (redis !== null) {
  describe('health on Redis', () => {
    let db: Db;
    before(async () => {
      db = await databaseTargets()[0]!.open();
    });
    after(async () => {
      await db?.close();
      await cleanupRedis();
    });

    it('GET /health checks Redis with a cache round trip, and is 503 naming redis when it is gone', async () => {
      const scope = await redis.scope();
      const bus = await scope.open();
      const server = await startTestServer({ db, bus, clock: scope.clock });
      try {
        let res = await server.app.inject({ method: 'GET', url: '/health' });
        assert.equal(res.statusCode, 200);
        assert.equal(res.json<HealthBody>().checks.redis?.ok, true);
        await bus.close();
        res = await server.app.inject({ method: 'GET', url: '/health' });
        assert.equal(res.statusCode, 503);
        const body = res.json<HealthBody>();
        assert.deepEqual(body.failed, ['redis']);
        assert.equal(body.checks.redis?.ok, false);
      } finally {
        await server.close();
        await scope.close();
      }
    });
  });
}
