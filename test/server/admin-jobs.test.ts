/**
 * The admin API and the workers through real pg-boss: a backfill queued over HTTP (by an API-only
 * sender, as `tasa serve` beside `tasa worker`) is run by a worker started with startJobs.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { openJobSender, startJobs, type RunningJobs } from '../../src/jobs/boss.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { createLogger } from '../../src/log.ts';
import { createApiToken } from '../../src/store/api-tokens-repo.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { calendar, count, restSource, startSim, type SimSetup } from '../jobs/support/jobs-fixtures.ts';
import { databaseTargets, openScratchPostgres, type DatabaseTarget } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

interface Json {
  [key: string]: unknown;
}

for (const target of databaseTargets()) {
  describe(`admin jobs on pg-boss, ${target.name}`, () => {
    /** 2024-01-03 10:00 Bogota: the session of 2024-01-02 is over and due. */
    const NOW = Date.UTC(2024, 0, 3, 15, 0);
    let store: { db: Db; databaseUrl?: string };
    let sim: SimSetup;
    let worker: RunningJobs;
    let sender: Pick<RunningJobs, 'send' | 'stop'>;
    let server: TestServer;
    let admin: { token: string; id: string };

    before(async () => {
      store = await openStore(target);
      sim = await startSim(NOW);
      const logger = createLogger('silent');
      const { source } = restSource(store.db, sim);
      const handlers = jobHandlers({ db: store.db, calendar, clock: sim.clock, source, bus: null, symbols: ['USD/COP'] });
      worker = await startJobs({ ...store, clock: sim.clock, calendar, logger, handlers, pollingIntervalSeconds: 0.5 });
      // The API process only sends; the worker above runs the jobs (as `tasa serve` beside `tasa worker`).
      sender = await openJobSender({ ...store, logger });
      server = await startTestServer({ db: store.db, clock: sim.clock, deps: { jobs: sender } });
      const created = await createApiToken(store.db, { name: 'ops', role: 'admin' });
      admin = { token: created.token, id: created.info.id };
    });
    after(async () => {
      await server.close();
      await sender.stop();
      await worker.stop();
      await sim.sim.close();
      await store.db.close();
    });

    const jobState = async (queue: string, id: string) => worker.boss.getJobById(queue, id);
    async function until(what: string, done: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
      for (let waited = 0; !(await done()); waited += 100) {
        if (waited > timeoutMs) assert.fail(`timed out waiting until ${what}`);
        await delay(100);
      }
    }

    it('runs a backfill queued over HTTP: the session is filled and audited', async () => {
      const res = await server.app.inject({
        method: 'POST',
        url: '/api/admin/backfill',
        headers: { 'x-api-key': admin.token },
        payload: { symbol: 'USD/COP', from: '2024-01-02', to: '2024-01-02' },
      });
      assert.equal(res.statusCode, 202, res.body);
      const jobId = res.json<{ jobId: string }>().jobId;
      await until('the backfill job completed', async () => (await jobState('backfill', jobId))?.state === 'completed');
      const output = (await jobState('backfill', jobId))?.output as Json;
      assert.deepEqual([output['symbol'], output['from'], output['to'], output['missingBefore'], output['filledBars'], output['missingAfter']], ['USD/COP', '2024-01-02', '2024-01-02', 60, 60, 0]);
      const stored = await count(store.db, `SELECT count(*)::int AS n FROM bars WHERE symbol = 'USD/COP' AND time >= '2024-01-02T13:00:00Z' AND time < '2024-01-02T18:00:00Z' AND 'backfilled' = ANY(flags)`);
      assert.equal(stored, 60);
      const fills = await listAudit(store.db, { action: 'backfill.fill', limit: 10 });
      assert.ok(fills.length > 0);
      assert.ok(fills.every((f) => f.actor === admin.id), 'fills name who asked for them');
      const [queued] = await listAudit(store.db, { action: 'admin.backfill', limit: 1 });
      assert.equal(queued?.entity, `job:backfill:${jobId}`);
    });

    it('fails a pipeline job in a worker without a pipeline handler, saying so', async () => {
      const res = await server.app.inject({ method: 'POST', url: '/api/admin/pipeline/run', headers: { 'x-api-key': admin.token }, payload: { layers: ['L2'] } });
      assert.equal(res.statusCode, 202, res.body);
      const jobId = res.json<{ jobId: string }>().jobId;
      await until('the pipeline job failed', async () => (await jobState('pipeline', jobId))?.state === 'failed');
      assert.equal(((await jobState('pipeline', jobId))?.output as Json)['message'], 'no pipeline handler in this worker');
    });
  });
}

/** pg-boss on PostgreSQL gets the connection string (its own pool); on PGlite it runs over our Db. */
async function openStore(target: DatabaseTarget): Promise<{ db: Db; databaseUrl?: string }> {
  const url = process.env['TEST_DATABASE_URL'];
  if (target.name !== 'postgres' || url === undefined || url === '') return { db: await target.open() };
  const scratch = await openScratchPostgres(url);
  await migrate(scratch.db);
  return { db: scratch.db, databaseUrl: scratch.url };
}
