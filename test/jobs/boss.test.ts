import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { JOB_TIME_ZONE, startJobs, type JobContext, type RunningJobs } from '../../src/jobs/boss.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { databaseTargets, openScratchPostgres, type DatabaseTarget } from '../support/test-db.ts';
import { calendar } from './support/jobs-fixtures.ts';

/** Tuesday 2024-03-05 15:00Z, 10:00 Bogota: a trading day. */
const TRADING = Date.UTC(2024, 2, 5, 15, 0);
/** Monday 2024-03-25, San José: no session. */
const HOLIDAY = Date.UTC(2024, 2, 25, 15, 0);

interface Store {
  db: Db;
  databaseUrl?: string;
}

/** pg-boss on PostgreSQL gets the connection string (its own pool); on PGlite it runs over our Db. */
async function openStore(target: DatabaseTarget): Promise<Store> {
  const url = process.env['TEST_DATABASE_URL'];
  if (target.name !== 'postgres' || url === undefined || url === '') return { db: await target.open() };
  const scratch = await openScratchPostgres(url);
  await migrate(scratch.db);
  return { db: scratch.db, databaseUrl: scratch.url };
}

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  for (let waited = 0; !(await done()); waited += 100) {
    if (waited > timeoutMs) assert.fail(`timed out waiting until ${what}`);
    await delay(100);
  }
}

for (const target of databaseTargets()) {
  describe(`scheduled jobs on pg-boss, ${target.name}`, () => {
    let store: Store;
    let jobs: RunningJobs;
    const clock = new ManualClock(TRADING);
    const calls: JobContext[] = [];
    const ran = (queue: string) => calls.filter((c) => c.queue === queue).length;

    before(async () => {
      store = await openStore(target);
      const handler = (ctx: JobContext) => {
        calls.push(ctx);
        return Promise.resolve({ ran: ctx.job });
      };
      jobs = await startJobs({
        ...store,
        clock,
        calendar,
        logger: pino({ level: 'silent' }),
        handlers: { failsafe: handler, sync: handler },
        pollingIntervalSeconds: 0.5,
        cronCheckIntervalSeconds: 1,
      });
    });
    after(async () => {
      await jobs.stop();
      await store.db.close();
    });

    it('schedules the failsafe and sync crons in America/Bogota', async () => {
      const schedules = (await jobs.boss.getSchedules()) as unknown as Array<{ name: string; cron: string; timezone: string }>;
      assert.deepEqual(
        schedules.map((s) => [s.name, s.cron, s.timezone]).sort(),
        [
          ['failsafe', '0 * * * *', JOB_TIME_ZONE],
          ['failsafe-at-close', '5 13 * * 1-5', JOB_TIME_ZONE],
          ['sync', '*/5 * * * *', JOB_TIME_ZONE],
        ],
      );
      assert.equal(JOB_TIME_ZONE, 'America/Bogota');
    });

    it('runs the handler of a sent job and keeps its result', async () => {
      const id = await jobs.send('sync');
      assert.ok(id);
      await until('the sync handler ran', () => ran('sync') > 0);
      assert.deepEqual(calls.find((c) => c.queue === 'sync'), { queue: 'sync', job: 'sync', firedAt: TRADING });
      await until('the job is completed', async () => (await jobs.boss.getJobById('sync', id))?.state === 'completed');
      assert.deepEqual((await jobs.boss.getJobById('sync', id))?.output, { ran: 'sync' });
    });

    it('fires a cron in-process and dispatches it to the handler', async () => {
      await jobs.boss.schedule('failsafe-at-close', '* * * * *', {}, { tz: JOB_TIME_ZONE });
      await until('the cron fired', () => ran('failsafe-at-close') > 0, 20_000);
      assert.equal(calls.find((c) => c.queue === 'failsafe-at-close')?.job, 'failsafe');
      await jobs.boss.unschedule('failsafe-at-close');
    });

    it('does no work on a holiday even when a job fires', async () => {
      await clock.advanceTo(HOLIDAY);
      const before = calls.length;
      const id = await jobs.send('failsafe');
      assert.ok(id);
      await until('the job is completed', async () => (await jobs.boss.getJobById('failsafe', id))?.state === 'completed');
      assert.deepEqual((await jobs.boss.getJobById('failsafe', id))?.output, { skipped: 'non_trading_day', date: '2024-03-25' });
      assert.equal(calls.length, before);
    });
  });
}
