/**
 * Walk-forward with the spread "from-ticks": each fold's spread is the median of the quotes
 * stored before its test window's first session opens, so a fold never pays a spread estimated
 * from the window it is judged on (or any later one).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { IsoDate } from '../../src/domain/time.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { foldCosts } from '../../src/pipeline/walk-forward-run.ts';
import { resolveResearchConfig } from '../../src/research/research-config.ts';
import { planFolds } from '../../src/research/walk-forward.ts';
import type { Db } from '../../src/store/db.ts';
import { insertTicks } from '../../src/store/ticks-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const SYMBOL = 'USD/COP';
const calendar = new MarketCalendar();

/** The sessions of March 2024, in order. */
function marchSessions(): IsoDate[] {
  const dates: IsoDate[] = [];
  for (let day = 1; day <= 31; day++) {
    const date = `2024-03-${String(day).padStart(2, '0')}`;
    if (calendar.sessionFor(date) !== null) dates.push(date);
  }
  return dates;
}

/** A quote `minutes` after `date`'s open with half-spread `halfBps` around a mid of 4000. */
function quoteAt(date: IsoDate, minutes: number, halfBps: number): Tick {
  const time = calendar.sessionFor(date)!.open + minutes * 60_000;
  const half = (4000 * halfBps) / 1e4;
  return { symbol: SYMBOL, time, price: 4000, bid: 4000 - half, ask: 4000 + half, receivedAt: time + 100, source: 'twelvedata_ws' };
}

for (const target of databaseTargets()) {
  describe(`walk-forward spread per fold on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('estimates each fold from the quotes before its test window only', async () => {
      const sessions = marchSessions();
      const folds = planFolds(sessions, { enabled: true, mode: 'expanding', folds: 2, trainSessions: 4, validationSessions: 2, testSessions: 3, purgeSessions: 0 }, 0);
      const [first, second] = folds;
      const lastTest = second!.test.to;
      await insertTicks(db, [
        quoteAt(sessions[0]!, 5, 2.5), // train: both folds see it
        quoteAt(first!.test.from, 0, 10), // at fold 1's open: fold 2 sees it, fold 1 does not
        quoteAt(second!.test.from, 0, 50), // at fold 2's open: inside its test window
        quoteAt(lastTest, 30, 80), // late in fold 2's test window
      ]);
      const costs = resolveResearchConfig({}, { costs: { spreadBps: 'from-ticks', minSpreadTicks: 1, fallbackSpreadBps: 99 } }).config.costs;
      const [one, two] = await foldCosts({ db, calendar }, SYMBOL, costs, folds);
      assert.equal(one!.spreadBps, 2.5, 'fold 1: only the quote before its test window');
      assert.equal(two!.spreadBps, 6.25, 'fold 2: the median of the two quotes before its test window, none of its own');
      assert.equal(one!.feeBps, costs.feeBps);
    });
  });
}
