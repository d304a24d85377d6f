/**
 * `tasa backtest` and `tasa pipeline run` over real history followed by simulated bars: a range
 * holding both is refused with the counts; a range of one provenance runs, warmed up on bars of its
 * own provenance only; the pipeline's default range is the real history when there is any.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { TasaError } from '../../src/errors.ts';
import { backtestOverRange } from '../../src/pipeline/ad-hoc-backtest.ts';
import { assertOneProvenance, barSourceState, resolveRange, timeRange } from '../../src/pipeline/layers/l1-standardized.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { sessionBars } from '../server/seed-bars.ts';

const calendar = new MarketCalendar();
const SYMBOL = 'USD/COP';
const clock = new ManualClock(Date.parse('2024-03-01T00:00:00Z'));

for (const target of databaseTargets()) {
  describe(`tasa backtest and provenance on ${target.name}`, () => {
    let db: Db;
    /** The same simulated bars with no real history before them. */
    let simulatedOnly: Db;
    before(async () => {
      db = await target.open();
      simulatedOnly = await target.open();
      // January real (imported); February the simulator's (say, backfilled by a demo).
      const simulate = (b: Bar): Bar => ({ ...b, source: 'simulator', flags: ['backfilled'] });
      const real = calendar.sessionsBetween('2024-01-02', '2024-01-31').flatMap((s) => sessionBars(calendar, s.date, { base: 4000 }));
      const simulated = calendar.sessionsBetween('2024-02-01', '2024-02-29').flatMap((s) => sessionBars(calendar, s.date, { base: 4300 }).map(simulate));
      await upsertBars(db, [...real, ...simulated]);
      await upsertBars(simulatedOnly, simulated);
    });
    after(async () => {
      await db?.close();
      await simulatedOnly?.close();
    });

    it('refuses a range that holds simulated and real bars, saying how many of each', async () => {
      await assert.rejects(backtestOverRange({ db, calendar, clock, symbol: SYMBOL, policyId: 'always-long', from: '2024-01-22', to: '2024-02-09' }), (err: unknown) => {
        assert.ok(err instanceof TasaError);
        assert.equal(err.code, 'bad_argument');
        assert.match(err.message, /2024-01-22\.\.2024-02-09 of USD\/COP holds 420 simulated bars \(source simulator\) and 480 real ones/);
        return true;
      });
    });

    it('runs over one provenance, its warm-up never reaching back into the other', async () => {
      const run = await backtestOverRange({ db, calendar, clock, symbol: SYMBOL, policyId: 'sma-crossover', from: '2024-02-01', to: '2024-02-16' });
      assert.equal(run.evaluation.from, '2024-02-01');
      assert.equal(run.evaluation.to, '2024-02-16');
      const alone = await backtestOverRange({ db: simulatedOnly, calendar, clock, symbol: SYMBOL, policyId: 'sma-crossover', from: '2024-02-01', to: '2024-02-16' });
      assert.deepEqual(run.evaluation.metrics, alone.evaluation.metrics, 'the real January before it changes nothing');
      const real = await backtestOverRange({ db, calendar, clock, symbol: SYMBOL, policyId: 'always-long', from: '2024-01-08', to: '2024-01-19' });
      assert.equal(real.evaluation.to, '2024-01-19');
    });

    it('the pipeline takes the real history as its default range, the simulated bars only when there is none', async () => {
      const real = await resolveRange(db, calendar, SYMBOL, undefined, undefined);
      assert.deepEqual([real.from, real.to], ['2024-01-02', '2024-01-31']);
      const simulated = await resolveRange(simulatedOnly, calendar, SYMBOL, undefined, undefined);
      assert.deepEqual([simulated.from, simulated.to], ['2024-02-01', '2024-02-29']);
    });

    it('the pipeline refuses an L1 range that holds both, and accepts one of either', async () => {
      const mixed = timeRange(calendar, '2024-01-29', '2024-02-02');
      const state = await barSourceState(db, SYMBOL, mixed);
      assert.deepEqual([state.bars, state.simulated], [5 * 60, 2 * 60]);
      assert.throws(() => assertOneProvenance(SYMBOL, mixed, state), /holds 120 simulated bars \(source simulator\) and 180 real ones; a pipeline run uses one of the two/);
      for (const range of [timeRange(calendar, '2024-01-02', '2024-01-31'), timeRange(calendar, '2024-02-01', '2024-02-29')]) {
        assert.doesNotThrow(() => assertOneProvenance(SYMBOL, range, { bars: 1, simulated: 0, revisions: 1, first: null, last: null }));
      }
      const february = await barSourceState(db, SYMBOL, timeRange(calendar, '2024-02-01', '2024-02-29'));
      assert.equal(february.simulated, february.bars);
      assert.doesNotThrow(() => assertOneProvenance(SYMBOL, timeRange(calendar, '2024-02-01', '2024-02-29'), february));
    });
  });
}
