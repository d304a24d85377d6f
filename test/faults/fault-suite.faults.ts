/**
 * The fault suite (`npm run test:faults`): one whole simulated session per fault, against a
 * private PostgreSQL cluster and a private Redis server (never the machine's shared ones), with
 * `tasa ingest` and `tasa serve` as real processes and the seeded simulator as the ground truth.
 * Each session serves three symbols over one feed socket (USD/COP, USD/BRL, EUR/USD). Each fault
 * is its own test; each asserts, for every symbol, 0 ticks lost, 0 duplicates, every bar equal to
 * the simulator's after the failsafe, and every hole in a WebSocket client's seq announced by a
 * `gap` frame. The fault table (one line per fault and symbol) goes to artifacts/fault-table.json
 * (and is printed at the end).
 *
 * Not part of `npm test` (the file name does not end in .test.ts): `.ci/run` runs it after.
 * FAULTS=name,name runs a subset (names as in the table, case-insensitive substrings).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPrivatePostgres } from '../support/private-postgres.ts';
import { startPrivateRedis } from '../support/private-redis.ts';
import { runFaultSession, type FaultResult, type FaultSpec, type World } from './support/fault-session.ts';
import { brokenRow, failedChecks, faultTableMarkdown, toRow, writeFaultTable, type FaultRow } from './support/fault-table.ts';

/** A fast clock: a session (5 h) in 30 s. The database outage runs slower so that 30 real seconds stay inside the session. */
const FAST = 600;

const FAULTS: FaultSpec[] = [
  {
    fault: 'PostgreSQL stopped 30 s',
    injected: 'pg_ctl stop -m fast at 09:00, start 30 real s (150 simulated min) later',
    speed: 300,
    seed: 101,
    async inject(ctx) {
      await ctx.until(ctx.afterOpen(60));
      ctx.note('stopping PostgreSQL');
      await ctx.world.pg.stop();
      await sleep(30_000);
      await ctx.world.pg.start();
      ctx.note('PostgreSQL started again');
    },
  },
  {
    fault: 'Redis stopped, restarted empty',
    injected: 'SIGKILL at 09:00, a new empty server 5 real s (50 simulated min) later',
    speed: FAST,
    seed: 102,
    async inject(ctx) {
      await ctx.until(ctx.afterOpen(60));
      ctx.note('killing Redis');
      await ctx.world.redis.stop();
      await sleep(5_000);
      await ctx.world.redis.start();
      ctx.note('Redis started again, empty');
    },
  },
  {
    fault: 'ingest kill -9, no standby',
    injected: 'kill -9 of the only ingest at 09:00, restarted 3 real s later on its data directory',
    speed: FAST,
    seed: 103,
    async inject(ctx) {
      await ctx.until(ctx.afterOpen(60));
      const victim = await ctx.activeIngest();
      await ctx.kill9(victim);
      await sleep(3_000);
      ctx.startIngest(victim);
      await ctx.waitActive();
    },
  },
  {
    fault: 'ingest kill -9, standby takes over',
    injected: 'kill -9 of the lease holder at 09:00 with a standby running; the dead one restarted 3 real s later',
    speed: FAST,
    seed: 104,
    standby: true,
    async inject(ctx) {
      await ctx.until(ctx.afterOpen(60));
      const victim = await ctx.activeIngest();
      await ctx.kill9(victim);
      await ctx.waitActive();
      ctx.note('the standby is ACTIVE');
      await sleep(3_000);
      ctx.startIngest(victim);
    },
  },
  {
    fault: 'stalled socket',
    injected: 'the simulator sends nothing for 20 simulated min from 09:00; the socket stays open',
    speed: FAST,
    seed: 105,
    async inject(ctx) {
      await ctx.until(ctx.afterOpen(60));
      ctx.sim.faults.stall(20 * 60_000);
      ctx.note('stall');
    },
  },
  {
    fault: 'dropped socket',
    injected: 'every connection reset (no close frame) at 09:00 and 10:30',
    speed: FAST,
    seed: 106,
    async inject(ctx) {
      await ctx.until(ctx.afterOpen(60));
      ctx.note(`dropped ${ctx.sim.faults.dropAll()} connections`);
      await ctx.until(ctx.afterOpen(150));
      ctx.note(`dropped ${ctx.sim.faults.dropAll()} connections`);
    },
  },
  {
    fault: '429 bursts',
    injected: 'a dropped socket at 09:00 (bars to repair) with 5 REST answers 429, 10 more just before the failsafe',
    speed: FAST,
    seed: 107,
    async inject(ctx) {
      await ctx.until(ctx.afterOpen(60));
      ctx.sim.faults.dropAll();
      ctx.sim.faults.burst429(5);
      ctx.note('dropped the socket; the next 5 REST requests get 429');
    },
    beforeFailsafe(ctx) {
      // The REST client waits out up to 20 answers 429 per request (a minute each), then gives up until the next run.
      ctx.sim.faults.burst429(10);
      ctx.note('the next 10 REST requests get 429');
      return Promise.resolve();
    },
  },
  {
    fault: 'malformed frames',
    injected: '5 % of price events preceded by a truncated JSON frame, the whole session',
    speed: FAST,
    seed: 108,
    async inject(ctx) {
      ctx.sim.faults.setRates({ malformedRate: 0.05 });
      await ctx.until(ctx.afterOpen(1));
    },
  },
];

const only = (process.env['FAULTS'] ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .filter((s) => s.length > 0);
const selected = FAULTS.filter((f) => only.length === 0 || only.some((o) => f.fault.toLowerCase().includes(o)));

describe('fault suite: whole sessions with one fault each', { timeout: 15 * 60_000 }, () => {
  let world: World | null = null;
  const results: FaultResult[] = [];
  const rows: FaultRow[] = [];
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tasa-faults-'));
    const pg = await startPrivatePostgres();
    const redis = await startPrivateRedis().catch(async (err: unknown) => {
      await pg.destroy();
      throw err;
    });
    world = { pg, redis, dir };
  });
  after(async () => {
    // A fault that timed out never got to write its row: it is in the table all the same.
    for (const spec of selected) if (!rows.some((r) => r.fault === spec.fault)) rows.push(brokenRow(spec, new Error('did not finish (timed out or cancelled)'), 0));
    const path = writeFaultTable(rows, results, selected.length < FAULTS.length);
    console.log(`\n${faultTableMarkdown(rows)}\n\n(written to ${path})`);
    await world?.redis.destroy().catch(() => undefined);
    await world?.pg.destroy().catch(() => undefined);
    // Logs of a failing run are kept for reading; a clean run leaves nothing behind.
    if (world && rows.every((r) => r.survived)) await rm(world.dir, { recursive: true, force: true });
    else if (world) console.log(`logs of the run: ${world.dir}`);
  });

  selected.forEach((spec, i) => {
    it(spec.fault, { timeout: 4 * 60_000 }, async () => {
      assert.ok(world, 'the private servers started');
      // A fault that left a server down must not fail the next one.
      await world.pg.start();
      await world.redis.start();
      const started = performance.now();
      const result = await runFaultSession(world, spec, i + 1).catch((err: unknown) => {
        rows.push(brokenRow(spec, err, (performance.now() - started) / 1000));
        throw err;
      });
      results.push(result);
      rows.push(toRow(result));
      const failures = failedChecks(result);
      assert.deepEqual(failures, [], `${spec.fault}: ${failures.join('; ')}\nevents: ${result.notes.join(' | ')}\nlogs: ${result.logDir}`);
    });
  });
});
