import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bar } from '../../src/domain/bar.ts';
import { HOUR_MS } from '../../src/domain/time.ts';
import { COVERAGE_ALERT_KIND, runFailsafe, type FailsafeOptions } from '../../src/jobs/failsafe.ts';
import { listAlerts } from '../../src/store/alerts-repo.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { barRevisions, barsBetween, upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { listRuns } from '../../src/store/pipeline-runs-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { calendar, count, liveBar, restSource, sessionOf, simulatorBars, startSim, SYMBOL, type SimSetup } from './support/jobs-fixtures.ts';

/** Friday 2024-03-08 19:00Z = 14:00 Bogota, an hour after the close. */
const AFTER_CLOSE = Date.UTC(2024, 2, 8, 19, 0);
/** Grid indexes of 2024-03-06 the replayed history has no bar for: 12 of 60 (80 % coverage). */
const HOLE = [...Array(12).keys()].map((i) => 20 + i);

/** What the simulator replays: every session slot from 2024-03-01 to 2024-03-08, except the hole. */
function replayHistory(): Bar[] {
  const bars: Bar[] = [];
  for (const session of calendar.sessionsBetween('2024-03-01', '2024-03-08')) {
    calendar.barGrid(session).forEach((time, i) => {
      if (session.date === '2024-03-06' && HOLE.includes(i)) return;
      bars.push({ ...liveBar(time, 3950 + i), source: 'import' });
    });
  }
  return bars;
}

function options(db: Db, setup: SimSetup): FailsafeOptions {
  return { db, calendar, source: restSource(db, setup).source, symbol: SYMBOL, clock: setup.clock };
}

for (const target of databaseTargets()) {
  describe(`runFailsafe on ${target.name}`, () => {
    let db: Db;
    let setup: SimSetup;
    before(async () => {
      db = await target.open();
      setup = await startSim(AFTER_CLOSE, { source: { kind: 'replay', bars: replayHistory() } });
    });
    after(async () => {
      await setup.sim.close();
      await db.close();
    });

    it('backfills the last five sessions and raises one alert for the session still below target', async () => {
      const result = await runFailsafe(options(db, setup));
      assert.equal(result.status, 'completed');
      assert.deepEqual(result.coverage.map((c) => [c.date, c.present, c.due]), [
        ['2024-03-04', 60, 60],
        ['2024-03-05', 60, 60],
        ['2024-03-06', 48, 60],
        ['2024-03-07', 60, 60],
        ['2024-03-08', 60, 60],
      ]);
      assert.deepEqual([result.gapFill?.missingBefore, result.gapFill?.filledBars, result.gapFill?.missingAfter], [300, 288, 12]);
      assert.deepEqual(result.alerts, { raised: 1, repeated: 0, resolved: 0 });
      const [alert, ...others] = await listAlerts(db, { kind: COVERAGE_ALERT_KIND });
      assert.equal(others.length, 0);
      assert.equal(alert?.dedupeKey, 'coverage_below_target:USD/COP:2024-03-06');
      assert.equal(alert?.severity, 'warning');
      assert.match(alert?.message ?? '', /2024-03-06: 48 of 60 due bars stored complete \(80\.0 %\).*95\.0 % target/);
      assert.equal(alert?.details['target'], 0.95);
      const [run] = await listRuns(db, { layer: 'failsafe' });
      assert.deepEqual([run?.status, run?.rowsOut], ['completed', 288]);
    });

    it('does not repeat the alert when the next run finds the same hole', async () => {
      await setup.clock.advance(HOUR_MS);
      const result = await runFailsafe(options(db, setup));
      assert.deepEqual(result.alerts, { raised: 0, repeated: 1, resolved: 0 });
      assert.equal(result.gapFill?.filledBars, 0);
      const alerts = await listAlerts(db, { kind: COVERAGE_ALERT_KIND });
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]?.occurrences, 2);
      assert.equal(alerts[0]?.lastSeenAt, AFTER_CLOSE + HOUR_MS);
    });

    it('resolves the alert once the session reaches the target', async () => {
      const session = sessionOf('2024-03-06');
      await upsertBars(db, HOLE.map((i) => liveBar(session.open + i * 300_000)));
      const result = await runFailsafe(options(db, setup));
      assert.deepEqual(result.alerts, { raised: 0, repeated: 0, resolved: 1 });
      assert.equal((await listAlerts(db, { kind: COVERAGE_ALERT_KIND, openOnly: true })).length, 0);
    });

    it('still checks coverage and alerts when the backfill itself fails', async () => {
      const empty = await target.open();
      try {
        const unreachable = { barSource: 'twelvedata_rest' as const, timeSeries: () => Promise.reject(new Error('TwelveData unreachable')) };
        const result = await runFailsafe({ ...options(empty, setup), source: unreachable });
        assert.equal(result.fillError, 'TwelveData unreachable');
        assert.deepEqual(result.alerts, { raised: 5, repeated: 0, resolved: 0 });
        const alerts = await listAlerts(empty, { kind: COVERAGE_ALERT_KIND });
        assert.deepEqual(new Set(alerts.map((a) => a.severity)), new Set(['critical']));
        assert.equal(alerts[0]?.details['fillError'], 'TwelveData unreachable');
        const [run] = await listRuns(empty, { layer: 'failsafe' });
        assert.deepEqual([run?.status, run?.error], ['failed', 'TwelveData unreachable']);
      } finally {
        await empty.close();
      }
    });

    it('does nothing on a holiday, whatever the cron says', async () => {
      // Monday 2024-03-25, San José: no session.
      const holiday = await startSim(Date.UTC(2024, 2, 25, 16, 0), { source: { kind: 'replay', bars: replayHistory() } });
      try {
        const runsBefore = await count(db, 'SELECT count(*)::int AS n FROM pipeline_runs');
        const result = await runFailsafe(options(db, holiday));
        assert.deepEqual([result.status, result.reason], ['skipped', 'non_trading_day']);
        assert.equal(holiday.sim.stats().restRequests, 0);
        assert.equal(await count(db, 'SELECT count(*)::int AS n FROM pipeline_runs'), runsBefore);
      } finally {
        await holiday.sim.close();
      }
    });
  });
}

/** Friday 2024-03-08 16:00Z = 11:00 Bogota: the session is in progress (35 slots due with the grace). */
const MID_SESSION = Date.UTC(2024, 2, 8, 16, 0);

for (const target of databaseTargets()) {
  describe(`runFailsafe repairs partial bars on ${target.name}`, () => {
    let db: Db;
    let setup: SimSetup;
    before(async () => {
      db = await target.open();
      setup = await startSim(MID_SESSION);
    });
    after(async () => {
      await setup.sim.close();
      await db.close();
    });

    it('replaces each partial bar with the vendor (simulator) bar as a new revision, never a complete one', async () => {
      const session = sessionOf('2024-03-08');
      const grid = calendar.barGrid(session);
      const due = grid.filter((t) => t + 300_000 <= MID_SESSION - 2 * 60_000);
      assert.equal(due.length, 35);
      // The live path stored every due bar of today and the four sessions before; some only partly
      // covered: a start mid-slot (0), a 60 s disconnect (10), a stall found late (11), a takeover (34).
      const partialAt = new Map([[0, 0.4], [10, 0.8], [11, 0.55], [34, 0.1]]);
      const earlier = calendar.sessionsBetween('2024-03-04', '2024-03-07').flatMap((s) => calendar.barGrid(s).map((t) => liveBar(t)));
      const today = due.map((t, i) => {
        const coverage = partialAt.get(i);
        return coverage === undefined ? { ...liveBar(t), coverage: 1 } : { ...liveBar(t, 3800 + i), flags: ['partial' as const], coverage };
      });
      await upsertBars(db, [...earlier, ...today]);

      const result = await runFailsafe(options(db, setup));

      assert.deepEqual([result.gapFill?.missingBefore, result.gapFill?.partialBefore], [0, 4]);
      assert.deepEqual([result.gapFill?.filledBars, result.gapFill?.repairedBars, result.gapFill?.partialAfter], [4, 4, 0]);
      assert.equal(result.gapFill?.requests, 1, 'the four slots fit one request window');
      const reference = await simulatorBars(setup.sim, session.open, session.close);
      const stored = await barsBetween(db, SYMBOL, session.open, session.close);
      assert.equal(stored.length, due.length);
      for (const [i, bar] of stored.entries()) {
        if (!partialAt.has(i)) {
          assert.deepEqual(bar, { ...today[i], revision: 1 }, `the complete live bar ${i} is untouched`);
          continue;
        }
        const ref = reference.get(bar.time);
        assert.ok(ref, `the simulator has a bar for slot ${i}`);
        assert.deepEqual(
          [bar.open, bar.high, bar.low, bar.close, bar.source, bar.flags.filter((f) => f !== 'flat'), bar.coverage, bar.revision],
          [ref.open, ref.high, ref.low, ref.close, 'simulator', ['backfilled'], 1, 2],
          `slot ${i}: the vendor's bar, as revision 2`,
        );
        const [replaced] = await barRevisions(db, SYMBOL, bar.time);
        assert.deepEqual([replaced?.close, replaced?.flags, replaced?.coverage], [3800 + i, ['partial'], partialAt.get(i)], 'the partial bar kept in the history');
      }
      assert.deepEqual(result.coverage.at(-1), { date: '2024-03-08', due: due.length, present: due.length, partial: 0, missing: 0, coverage: 1 });
      const audit = await listAudit(db, { action: 'backfill.fill', limit: 100 });
      assert.deepEqual(audit.map((a) => [a.details['filled'], a.details['repairedPartial']]).sort(), [[1, 1], [1, 1], [2, 2]].sort());

      const again = await runFailsafe(options(db, setup));
      assert.deepEqual([again.gapFill?.partialBefore, again.gapFill?.requests], [0, 0], 'nothing left to repair: no credit spent');
    });
  });
}
