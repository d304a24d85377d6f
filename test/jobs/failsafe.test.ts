import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bar } from '../../src/domain/bar.ts';
import { HOUR_MS } from '../../src/domain/time.ts';
import { COVERAGE_ALERT_KIND, runFailsafe, type FailsafeOptions } from '../../src/jobs/failsafe.ts';
import { RECONCILE_ACTION } from '../../src/jobs/reconcile.ts';
import { listAlerts } from '../../src/store/alerts-repo.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { barRevisions, barsBetween, upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { listRuns } from '../../src/store/pipeline-runs-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { calendar, count, liveBar, restSource, sessionOf, simulatorBars, startSim, SYMBOL, type SimBar, type SimSetup } from './support/jobs-fixtures.ts';

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
      // The five sessions have closed: fetched whole in the fill's one request, and every bar now matches.
      assert.deepEqual([result.gapFill?.requests, result.gapFill?.sessionsReconciled, result.gapFill?.barsCompared, result.gapFill?.barsReconciled], [1, 5, 288, 0]);
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
      const hole = HOLE.map((i) => liveBar(session.open + i * 300_000));
      await upsertBars(db, hole);
      const result = await runFailsafe(options(db, setup));
      assert.deepEqual(result.alerts, { raised: 0, repeated: 0, resolved: 1 });
      assert.equal((await listAlerts(db, { kind: COVERAGE_ALERT_KIND, openOnly: true })).length, 0);
      // The new bars changed the session: reconciled again. The vendor lacks those 12 bars: ours are kept, and reported.
      assert.deepEqual([result.gapFill?.sessionsReconciled, result.gapFill?.vendorMissingBars, result.gapFill?.barsReconciled], [1, 12, 0]);
      const [entry] = await listAudit(db, { action: RECONCILE_ACTION, entity: 'bars:USD/COP:2024-03-06', newestFirst: true, limit: 1 });
      assert.deepEqual([entry?.details['compared'], entry?.details['vendorMissing'], entry?.details['replaced']], [48, 12, 0]);
      assert.deepEqual(entry?.details['vendorMissingTimes'], hole.map((b) => new Date(b.time).toISOString()));
      const kept = await barsBetween(db, SYMBOL, session.open, session.close);
      assert.deepEqual(kept.filter((b) => b.source === 'twelvedata_ws'), hole, 'the bars the vendor lacks are untouched');
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

/** A complete live bar (simulated feed) with the vendor's values, unless told otherwise. */
function liveCopy(ref: SimBar, overrides: Partial<Bar> = {}): Bar {
  const { time, open, high, low, close } = ref;
  return { symbol: SYMBOL, time, open, high, low, close, volume: null, tickCount: 12, source: 'simulator', revision: 1, flags: [], coverage: 1, ...overrides };
}

/** Another price inside the bar's range (the bar's high or low): what a tie broken the other way could give. */
function otherPrice(bar: SimBar, price: number): number {
  const other = price === bar.low ? bar.high : bar.low;
  assert.notEqual(other, price, `the bar at ${new Date(bar.time).toISOString()} is not flat`);
  return other;
}

function vendorOf(reference: ReadonlyMap<number, SimBar>, time: number): SimBar {
  const bar = reference.get(time);
  assert.ok(bar, `the simulator has a bar at ${new Date(time).toISOString()}`);
  return bar;
}

for (const target of databaseTargets()) {
  describe(`runFailsafe reconciles a closed session with the vendor's bars on ${target.name}`, () => {
    const session = sessionOf('2024-03-08');
    const grid = calendar.barGrid(session);
    /** Slots whose complete live bar differs from the vendor's: an open tie (3) and a close tie (40) broken otherwise. */
    const OPEN_TIE = 3;
    const CLOSE_TIE = 40;
    let db: Db;
    let setup: SimSetup;
    let opts: FailsafeOptions;
    const requests = () => setup.sim.stats().restRequests;
    const reconcileEntries = () => listAudit(db, { action: RECONCILE_ACTION, entity: 'bars:USD/COP:2024-03-08', limit: 100 });
    before(async () => {
      db = await target.open();
      setup = await startSim(MID_SESSION);
      opts = { ...options(db, setup), sessions: 1 };
    });
    after(async () => {
      await setup.sim.close();
      await db.close();
    });

    it('does not reconcile the session while it is open', async () => {
      const reference = await simulatorBars(setup.sim, session.open, session.close);
      const due = grid.filter((t) => t + 300_000 <= MID_SESSION - 2 * 60_000);
      await upsertBars(db, due.map((t, i) => {
        const ref = vendorOf(reference, t);
        return i === OPEN_TIE ? liveCopy(ref, { open: otherPrice(ref, ref.open) }) : liveCopy(ref);
      }));
      const spent = requests();

      const result = await runFailsafe(opts);

      assert.deepEqual([result.gapFill?.requests, result.gapFill?.sessionsReconciled], [0, 0]);
      assert.equal(requests(), spent, 'no request for a session still open');
      assert.equal((await reconcileEntries()).length, 0);
      const [tie] = await barsBetween(db, SYMBOL, grid[OPEN_TIE] ?? 0, (grid[OPEN_TIE] ?? 0) + 1);
      assert.deepEqual([tie?.revision, tie?.flags], [1, []], 'the live bar stands until the close');
    });

    it("replaces every bar unlike the vendor's after the close, as a new revision, with one request", async () => {
      await setup.clock.advance(AFTER_CLOSE - MID_SESSION);
      const reference = await simulatorBars(setup.sim, session.open, session.close);
      const stored = await barsBetween(db, SYMBOL, session.open, session.close);
      const rest = grid.slice(stored.length).map((t, i) => {
        const ref = vendorOf(reference, t);
        return stored.length + i === CLOSE_TIE ? liveCopy(ref, { close: otherPrice(ref, ref.close) }) : liveCopy(ref);
      });
      await upsertBars(db, rest);
      const live = await barsBetween(db, SYMBOL, session.open, session.close);
      assert.equal(live.length, 60);
      const spent = requests();

      const result = await runFailsafe(opts);

      assert.equal(requests() - spent, 1, 'one request for the session');
      assert.deepEqual(
        [result.gapFill?.requests, result.gapFill?.sessionsReconciled, result.gapFill?.barsCompared, result.gapFill?.barsReconciled, result.gapFill?.vendorMissingBars],
        [1, 1, 60, 2, 0],
      );
      const bars = await barsBetween(db, SYMBOL, session.open, session.close);
      for (const [i, bar] of bars.entries()) {
        const ref = vendorOf(reference, bar.time);
        assert.deepEqual([bar.open, bar.high, bar.low, bar.close], [ref.open, ref.high, ref.low, ref.close], `slot ${i} is the vendor's bar`);
        if (i !== OPEN_TIE && i !== CLOSE_TIE) {
          assert.deepEqual(bar, live[i], `slot ${i}: the matching live bar is untouched`);
          continue;
        }
        assert.deepEqual(
          [bar.source, bar.flags.filter((f) => f !== 'flat'), bar.tickCount, bar.coverage, bar.revision],
          ['simulator', ['reconciled'], null, 1, 2],
          `slot ${i}: reconciled as revision 2`,
        );
        const history = await barRevisions(db, SYMBOL, bar.time);
        assert.deepEqual(history.map(({ replacedAt: _, ...old }) => old), [live[i]], 'the live bar kept in the history');
      }
      const [entry, ...more] = await reconcileEntries();
      assert.equal(more.length, 0);
      assert.deepEqual(
        [entry?.actor, entry?.at, entry?.details['compared'], entry?.details['replaced'], entry?.details['vendorMissing'], entry?.details['source']],
        ['failsafe', AFTER_CLOSE, 60, 2, 0, 'simulator'],
      );
      assert.deepEqual(entry?.details['replacedTimes'], [OPEN_TIE, CLOSE_TIE].map((i) => new Date(grid[i] ?? 0).toISOString()));
    });

    it('spends no request on a reconciled session, and a late live revision cannot undo the vendor bar', async () => {
      await setup.clock.advance(HOUR_MS);
      const spent = requests();
      const again = await runFailsafe(opts);
      assert.deepEqual([again.gapFill?.requests, again.gapFill?.sessionsReconciled], [0, 0]);

      const time = grid[OPEN_TIE] ?? 0;
      const [vendor] = await barsBetween(db, SYMBOL, time, time + 1);
      assert.ok(vendor);
      const late = await upsertBars(db, [liveCopy(vendor, { open: otherPrice(vendor, vendor.open), tickCount: 13 })]);
      assert.deepEqual(late, { inserted: 0, updated: 0, unchanged: 1 }, 'the replacement rule keeps the reconciled bar');
      const thirdRun = await runFailsafe(opts);
      assert.equal(thirdRun.gapFill?.requests, 0);
      assert.equal(requests(), spent, 'no credit spent on a session already reconciled');
      assert.equal((await reconcileEntries()).length, 1);
    });

    it('reconciles the session again after a later revision of its bars', async () => {
      const time = grid[10] ?? 0;
      const reference = await simulatorBars(setup.sim, time, time + 300_000);
      const ref = vendorOf(reference, time);
      // An operator's import replaces any bar, a reconciled one too: the session has changed.
      await upsertBars(db, [{ ...liveCopy(ref, { close: otherPrice(ref, ref.close) }), source: 'import', tickCount: null, coverage: null }]);
      const spent = requests();

      const result = await runFailsafe(opts);

      assert.equal(requests() - spent, 1);
      assert.deepEqual([result.gapFill?.sessionsReconciled, result.gapFill?.barsReconciled], [1, 1]);
      const [bar] = await barsBetween(db, SYMBOL, time, time + 1);
      assert.deepEqual([bar?.close, bar?.flags.filter((f) => f !== 'flat'), bar?.revision], [ref.close, ['reconciled'], 3]);
      assert.equal((await reconcileEntries()).length, 2);
    });
  });
}
