import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bar } from '../../src/domain/bar.ts';
import { MINUTE_MS } from '../../src/domain/time.ts';
import { fillGaps, type GapFillOptions } from '../../src/jobs/gap-fill.ts';
import type { HistorySource } from '../../src/jobs/history-source.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { barsBetween, upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { listRuns } from '../../src/store/pipeline-runs-repo.ts';
import { sessionsBetween } from '../../src/store/sessions-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { calendar, count, liveBar, restSource, sessionOf, sessionSlotsExcept, simulatorBars, startSim, SYMBOL, type SimSetup } from './support/jobs-fixtures.ts';

/** Friday 2024-03-08 22:00Z (17:00 Bogota): the week's five sessions are over. */
const NOW = Date.UTC(2024, 2, 8, 22, 0);

/** Stores live bars for every slot of the sessions from..to except the listed grid indexes. */
async function seedSessions(db: Db, from: string, to: string, missing: Record<string, number[]> = {}): Promise<void> {
  const bars: Bar[] = [];
  for (const session of calendar.sessionsBetween(from, to)) {
    for (const time of sessionSlotsExcept(session, missing[session.date] ?? [])) bars.push(liveBar(time));
  }
  await upsertBars(db, bars);
}

function options(db: Db, setup: SimSetup, from: string, to: string, extra: Partial<GapFillOptions> = {}): GapFillOptions {
  return { db, calendar, source: restSource(db, setup).source, symbol: SYMBOL, from, to, clock: setup.clock, ...extra };
}

for (const target of databaseTargets()) {
  describe(`fillGaps on ${target.name}`, () => {
    let db: Db;
    let setup: SimSetup;
    before(async () => {
      db = await target.open();
      setup = await startSim(NOW);
    });
    after(async () => {
      await setup.sim.close();
      await db.close();
    });

    it('fills exactly the missing slots with the simulator values and never touches a stored bar', async () => {
      await seedSessions(db, '2024-03-04', '2024-03-08', { '2024-03-04': [0, 1, 2, 30], '2024-03-05': [59], '2024-03-07': [...Array(60).keys()] });
      const before = await barsBetween(db, SYMBOL, sessionOf('2024-03-04').open, sessionOf('2024-03-08').close);

      const summary = await fillGaps(options(db, setup, '2024-03-04', '2024-03-08'));

      assert.equal(summary.sessions, 5);
      assert.equal(summary.expectedBars, 300);
      assert.equal(summary.missingBefore, 65);
      assert.deepEqual([summary.requestsPlanned, summary.requests, summary.filledBars, summary.missingAfter], [1, 1, 65, 0]);
      assert.equal(summary.budgetExhausted, false);

      const after = await barsBetween(db, SYMBOL, sessionOf('2024-03-04').open, sessionOf('2024-03-08').close);
      const reference = await simulatorBars(setup.sim, sessionOf('2024-03-04').open, sessionOf('2024-03-08').close);
      const live = new Set(before.map((b) => b.time));
      assert.equal(after.length, 300);
      for (const bar of after) {
        if (live.has(bar.time)) {
          assert.deepEqual([bar.close, bar.source, bar.flags], [3900, 'twelvedata_ws', []], 'a stored bar was overwritten');
          continue;
        }
        const ref = reference.get(bar.time);
        assert.ok(ref, `the simulator has a bar at ${new Date(bar.time).toISOString()}`);
        assert.deepEqual([bar.open, bar.high, bar.low, bar.close], [ref.open, ref.high, ref.low, ref.close]);
        assert.equal(bar.source, 'simulator', 'a bar the simulator filled is stored as simulated, never as vendor data');
        assert.ok(bar.flags.includes('backfilled'));
        assert.equal(bar.revision, 1);
      }
    });

    it('keeps the REST answer in L0 with its provenance, never the key', async () => {
      const rows = await db.query<{ origin: string; origin_sha256: string; n: number; with_key: number }>(
        `SELECT origin, origin_sha256, count(*)::int AS n, count(*) FILTER (WHERE raw LIKE '%jobs-test-key%' OR origin LIKE '%jobs-test-key%')::int AS with_key
         FROM raw_bars GROUP BY origin, origin_sha256`,
      );
      assert.equal(rows.length, 1);
      const [row] = rows;
      assert.equal(row?.origin, 'simulator:time_series:USD/COP:2024-03-04T13:00:00.000Z..2024-03-07T18:00:00.000Z');
      const labels = await db.query<{ source_label: string | null }>('SELECT DISTINCT source_label FROM raw_bars');
      assert.deepEqual(labels, [{ source_label: 'simulator' }]);
      assert.match(row?.origin_sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.ok((row?.n ?? 0) > 65, 'the whole answer is kept, nights included');
      assert.equal(row?.with_key, 0);
    });

    it('writes one audit entry per filled gap, the run, and the session quality', async () => {
      const audit = await listAudit(db, { action: 'backfill.fill', limit: 100 });
      assert.deepEqual(
        audit.map((a) => [a.entity, a.details['filled']]),
        [
          ['bars:USD/COP:2024-03-04', 3],
          ['bars:USD/COP:2024-03-04', 1],
          ['bars:USD/COP:2024-03-05', 1],
          ['bars:USD/COP:2024-03-07', 60],
        ],
      );
      assert.equal(audit[0]?.actor, 'backfill');
      assert.ok(audit.every((a) => a.details['source'] === 'simulator'));
      const [run] = await listRuns(db, { layer: 'backfill' });
      assert.equal(run?.status, 'completed');
      assert.equal(run?.rowsOut, 65);
      assert.equal(run?.summary['filledBars'], 65);
      assert.equal(run?.startedAt, NOW);
      const sessions = await sessionsBetween(db, SYMBOL, '2024-03-04', '2024-03-08');
      assert.deepEqual(sessions.map((s) => [s.date, s.present, s.status]), [
        ['2024-03-04', 60, 'complete'],
        ['2024-03-05', 60, 'complete'],
        ['2024-03-06', 60, 'complete'],
        ['2024-03-07', 60, 'complete'],
        ['2024-03-08', 60, 'complete'],
      ]);
    });

    it('fills nothing and asks nothing when run again', async () => {
      const requestsBefore = setup.sim.stats().restRequests;
      const summary = await fillGaps(options(db, setup, '2024-03-04', '2024-03-08'));
      assert.deepEqual([summary.missingBefore, summary.requestsPlanned, summary.requests, summary.filledBars], [0, 0, 0, 0]);
      assert.equal(setup.sim.stats().restRequests, requestsBefore);
      assert.equal(await count(db, 'SELECT count(*)::int AS n FROM raw_bars'), await count(db, `SELECT count(*)::int AS n FROM raw_bars WHERE origin LIKE '%2024-03-07T18%'`));
    });
  });

  describe(`fillGaps from a source configured as TwelveData on ${target.name}`, () => {
    it('stores the same answers as twelvedata_rest: the label comes from the configuration', async () => {
      const db = await target.open();
      const setup = await startSim(NOW);
      try {
        await seedSessions(db, '2024-03-04', '2024-03-04', { '2024-03-04': [5, 6] });
        const summary = await fillGaps({ ...options(db, setup, '2024-03-04', '2024-03-04'), source: restSource(db, setup, undefined, false).source });
        assert.equal(summary.filledBars, 2);
        const filled = (await barsBetween(db, SYMBOL, sessionOf('2024-03-04').open, sessionOf('2024-03-04').close)).filter((b) => b.flags.includes('backfilled'));
        assert.deepEqual(filled.map((b) => b.source), ['twelvedata_rest', 'twelvedata_rest']);
        assert.equal(await count(db, `SELECT count(*)::int AS n FROM raw_bars WHERE origin NOT LIKE 'twelvedata_rest:time_series:%' OR source_label <> 'twelvedata_rest'`), 0);
      } finally {
        await setup.sim.close();
        await db.close();
      }
    });
  });

  describe(`fillGaps resumes and keeps to the budget on ${target.name}`, () => {
    /** Far enough apart (over 5000 slots) to need two requests. */
    const GAPS = { '2024-02-01': [10, 11, 12], '2024-03-07': [40, 41] };

    async function partlyFilledDb(): Promise<Db> {
      const db = await target.open();
      await seedSessions(db, '2024-02-01', '2024-03-07', GAPS);
      return db;
    }

    it('stops at maxRequests and a rerun completes the rest', async () => {
      const db = await partlyFilledDb();
      const setup = await startSim(NOW);
      try {
        const first = await fillGaps(options(db, setup, '2024-02-01', '2024-03-07', { maxRequests: 1 }));
        assert.deepEqual([first.requestsPlanned, first.requests, first.filledBars, first.missingAfter, first.stoppedAtMaxRequests], [2, 1, 3, 2, true]);
        const second = await fillGaps(options(db, setup, '2024-02-01', '2024-03-07'));
        assert.deepEqual([second.missingBefore, second.requestsPlanned, second.filledBars, second.missingAfter], [2, 1, 2, 0]);
        const third = await fillGaps(options(db, setup, '2024-02-01', '2024-03-07'));
        assert.equal(third.requestsPlanned, 0);
      } finally {
        await setup.sim.close();
        await db.close();
      }
    });

    it('leaves what an interrupted run stored consistent, and the rerun fills the rest', async () => {
      const db = await partlyFilledDb();
      const setup = await startSim(NOW);
      try {
        const real = restSource(db, setup).source;
        let calls = 0;
        const failsOnSecond: HistorySource = {
          barSource: real.barSource,
          timeSeries: (q) => (++calls === 2 ? Promise.reject(new Error('connection reset')) : real.timeSeries(q)),
        };
        await assert.rejects(fillGaps({ ...options(db, setup, '2024-02-01', '2024-03-07'), source: failsOnSecond }), /connection reset/);
        const [failed] = await listRuns(db, { layer: 'backfill' });
        assert.equal(failed?.status, 'failed');
        assert.match(failed?.error ?? '', /connection reset/);
        const [february] = await sessionsBetween(db, SYMBOL, '2024-02-01', '2024-02-01');
        assert.deepEqual([february?.present, february?.status], [60, 'complete'], 'the first window is stored with its session quality');
        assert.equal((await listAudit(db, { action: 'backfill.fill', limit: 10 })).length, 1);

        const rerun = await fillGaps(options(db, setup, '2024-02-01', '2024-03-07'));
        assert.deepEqual([rerun.missingBefore, rerun.requests, rerun.filledBars, rerun.missingAfter], [2, 1, 2, 0]);
      } finally {
        await setup.sim.close();
        await db.close();
      }
    });

    it('stops cleanly when the pool has no credit left for the day', async () => {
      const db = await partlyFilledDb();
      const setup = await startSim(NOW);
      try {
        const { source } = restSource(db, setup, { perMinute: 8, perDay: 1 });
        const summary = await fillGaps({ ...options(db, setup, '2024-02-01', '2024-03-07'), source });
        assert.deepEqual([summary.requests, summary.filledBars, summary.missingAfter, summary.budgetExhausted], [1, 3, 2, true]);
        assert.equal(setup.sim.stats().restRequests, 1);
        assert.ok(setup.clock.now() - NOW < MINUTE_MS, 'it did not wait for credits');
        const [run] = await listRuns(db, { layer: 'backfill' });
        assert.deepEqual([run?.status, run?.summary['budgetExhausted']], ['completed', true]);
      } finally {
        await setup.sim.close();
        await db.close();
      }
    });

    it('stops cleanly when the server says the day is spent', async () => {
      const db = await partlyFilledDb();
      const setup = await startSim(NOW, { plan: { perMinute: 8, perDay: 1 } });
      try {
        const summary = await fillGaps(options(db, setup, '2024-02-01', '2024-03-07'));
        assert.deepEqual([summary.requests, summary.filledBars, summary.budgetExhausted], [1, 3, true]);
        assert.equal(setup.sim.stats().restRequests, 2, 'one answered, one refused for the day');
      } finally {
        await setup.sim.close();
        await db.close();
      }
    });

    it('waits out per-minute 429s on the clock', async () => {
      const db = await partlyFilledDb();
      const setup = await startSim(NOW);
      try {
        setup.sim.faults.burst429(2);
        const summary = await fillGaps(options(db, setup, '2024-02-01', '2024-03-07'));
        assert.deepEqual([summary.requests, summary.filledBars, summary.missingAfter, summary.budgetExhausted], [2, 5, 0, false]);
        assert.equal(setup.sim.stats().faults.rest429, 2);
        assert.ok(setup.clock.now() >= NOW + 2 * MINUTE_MS, 'each 429 cost a wait for the next minute');
      } finally {
        await setup.sim.close();
        await db.close();
      }
    });
  });
}
