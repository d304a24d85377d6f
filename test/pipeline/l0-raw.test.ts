/**
 * L0's inventory of raw_bars goes by the months L1 files bars by: the month of each row's session
 * date in the symbol's market. EUR/USD's session dated 1 April opens at 17:00 New York on 31 March,
 * so raw rows of that evening are April's, not March's (as a Bogota or New York wall date says).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';
import { l0Spec, rawSourceState } from '../../src/pipeline/layers/l0-raw.ts';
import { timeRange } from '../../src/pipeline/layers/l1-standardized.ts';
import type { Db } from '../../src/store/db.ts';
import { insertRawBars } from '../../src/store/raw-bars-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const SYMBOL = 'EUR/USD';
const eurUsd = new MarketCalendar({}, shippedInstrument(SYMBOL));
/** 16:55 New York (EDT) on 03-31: the session dated 03-31; 18:30 and the next morning: the one dated 04-01. */
const TIMES = ['2026-03-31T20:55:00Z', '2026-03-31T22:30:00Z', '2026-04-01T10:00:00Z'].map(Date.parse);

async function storeRaw(db: Db): Promise<void> {
  const rows = TIMES.map((time, i) => ({
    lineNo: i + 1,
    raw: `${new Date(time).toISOString()},1.08`,
    parsed: { time, open: 1.08, high: 1.081, low: 1.079, close: 1.0805, volume: null, sourceLabel: null, lineNo: i + 1 },
    sourceLabel: null,
  }));
  await insertRawBars(db, SYMBOL, { name: 'eurusd.csv', sha256: 'e'.repeat(64) }, rows);
}

for (const target of databaseTargets()) {
  describe(`L0 inventory on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
      await storeRaw(db);
    });
    after(async () => db?.close());

    it("files EUR/USD's raw rows by the month of their session date", async () => {
      const range = timeRange(eurUsd, '2026-03-30', '2026-04-01');
      const output = await l0Spec(db, SYMBOL, eurUsd, range, await rawSourceState(db, SYMBOL, range), false).compute();
      const files = output.tables.map((t) => [t.key, t.columns.find((c) => c.name === 'rows')?.values[0], t.columns.find((c) => c.name === 'first_time')?.values[0]]);
      assert.deepEqual(files, [
        ['L0/EURUSD/2026/2026-03.parquet', 1, TIMES[0]],
        ['L0/EURUSD/2026/2026-04.parquet', 2, TIMES[1]],
      ]);
      assert.equal(output.rowsIn, 3);
    });
  });
}
