import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import type { Db } from '../../src/store/db.ts';
import { barRevisions, barsBetween, barTimesBetween, storedBarsSummary, streamBars, upsertBars } from '../../src/store/bars-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { bar, barSeries, T0, withoutCopy } from '../support/store-fixtures.ts';

const DAY = 24 * 60 * 60_000;

async function collect(pages: AsyncIterable<Bar[]>): Promise<Bar[][]> {
  const out: Bar[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

for (const target of databaseTargets()) {
  describe(`bars-repo on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('inserts, then leaves identical bars untouched, then revises changed ones', async () => {
      const symbol = 'A/COP';
      const bars = barSeries(T0, 5, { symbol });
      assert.deepEqual(await upsertBars(db, bars), { inserted: 5, updated: 0, unchanged: 0 });
      assert.deepEqual(await upsertBars(db, bars), { inserted: 0, updated: 0, unchanged: 5 });

      const changed = bars.map((b, i) => (i === 1 ? { ...b, close: b.close + 1, high: b.high + 1, flags: ['repaired' as const] } : b));
      const extra = bar(T0 + 5 * BAR_MS, 4100, { symbol });
      assert.deepEqual(await upsertBars(db, [...changed, extra]), { inserted: 1, updated: 1, unchanged: 4 });

      const stored = await barsBetween(db, symbol, T0, T0 + DAY);
      assert.equal(stored.length, 6);
      assert.deepEqual(stored[1], { ...changed[1], revision: 2 });
      assert.deepEqual(stored[0], { ...bars[0], revision: 1 });
      const history = await barRevisions(db, symbol, T0 + BAR_MS);
      assert.equal(history.length, 1);
      assert.deepEqual({ ...history[0], replacedAt: 0 }, { ...bars[1], revision: 1, replacedAt: 0 });
    });

    it('ignores flag order and duplicates; the last of two inputs for one time wins', async () => {
      const symbol = 'B/COP';
      const first = bar(T0, 4000, { symbol, flags: ['repaired', 'flat'] });
      assert.deepEqual(await upsertBars(db, [first]), { inserted: 1, updated: 0, unchanged: 0 });
      assert.deepEqual(await upsertBars(db, [{ ...first, flags: ['flat', 'repaired', 'flat'] }]), { inserted: 0, updated: 0, unchanged: 1 });
      const twice = [bar(T0 + BAR_MS, 1, { symbol }), bar(T0 + BAR_MS, 4001, { symbol, volume: null, tickCount: 12, source: 'twelvedata_ws' })];
      assert.deepEqual(await upsertBars(db, twice), { inserted: 1, updated: 0, unchanged: 0 });
      const [, second] = await barsBetween(db, symbol, T0, T0 + DAY);
      assert.deepEqual(second, { ...twice[1], revision: 1 });
      assert.deepEqual((await barsBetween(db, symbol, T0, T0 + 1))[0]?.flags, ['flat', 'repaired']);
    });

    it('revises a bar again and again, keeping every earlier version', async () => {
      const symbol = 'C/COP';
      for (const close of [4000, 4001, 4002]) await upsertBars(db, [bar(T0, close, { symbol })]);
      const [current] = await barsBetween(db, symbol, T0, T0 + 1);
      assert.equal(current?.revision, 3);
      assert.equal(current?.close, 4002);
      const history = await barRevisions(db, symbol, T0);
      assert.deepEqual(history.map((h) => [h.revision, h.close]), [[1, 4000], [2, 4001]]);
    });

    it('rejects bars that break OHLC integrity and writes nothing of the batch', async () => {
      const symbol = 'D/COP';
      const good = bar(T0, 4000, { symbol });
      const cases: Array<Partial<Bar>> = [{ high: 3990 }, { low: 4010 }, { open: 0, low: 0 }, { close: Number.NaN }, { high: Infinity }];
      for (const [i, bad] of cases.entries()) {
        await assert.rejects(upsertBars(db, [good, bar(T0 + (i + 1) * BAR_MS, 4000, { symbol, ...bad })]), /check constraint/, JSON.stringify(bad));
      }
      assert.deepEqual(await barsBetween(db, symbol, T0, T0 + DAY), []);
    });

    it('merges through unnest when the driver has no COPY', async () => {
      const symbol = 'E/COP';
      const plain = withoutCopy(db);
      const bars = barSeries(T0, 4, { symbol });
      assert.deepEqual(await upsertBars(plain, bars), { inserted: 4, updated: 0, unchanged: 0 });
      const next = [...bars.slice(0, 3), { ...bars[3]!, close: 5000, high: 5002, flags: ['flat' as const] }];
      assert.deepEqual(await upsertBars(plain, next), { inserted: 0, updated: 1, unchanged: 3 });
      assert.deepEqual((await barsBetween(db, symbol, T0, T0 + DAY)).at(-1), { ...next[3], revision: 2 });
    });

    it('streams [from, to) in keyset pages of batchSize', async () => {
      const symbol = 'F/COP';
      const bars = barSeries(T0, 25, { symbol });
      await upsertBars(db, bars);
      const pages = await collect(streamBars(db, symbol, T0, T0 + DAY, 10));
      assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
      assert.deepEqual(pages.flat(), await barsBetween(db, symbol, T0, T0 + DAY));
      const exact = await collect(streamBars(db, symbol, T0, T0 + 20 * BAR_MS, 10));
      assert.deepEqual(exact.map((p) => p.length), [10, 10]);
      assert.deepEqual(exact.flat().map((b) => b.time), bars.slice(0, 20).map((b) => b.time));
      const inner = await collect(streamBars(db, symbol, T0 + 3 * BAR_MS, T0 + 7 * BAR_MS, 3));
      assert.deepEqual(inner.flat().map((b) => b.close), [4003, 4004, 4005, 4006]);
      assert.deepEqual(await collect(streamBars(db, symbol, T0 + DAY, T0 + 2 * DAY, 10)), []);
    });

    it('lists bar times and summarises what is stored', async () => {
      const symbol = 'G/COP';
      assert.deepEqual(await storedBarsSummary(db, symbol), { count: 0, first: null, last: null });
      await upsertBars(db, barSeries(T0, 3, { symbol }));
      assert.deepEqual(await barTimesBetween(db, symbol, T0, T0 + 2 * BAR_MS), [T0, T0 + BAR_MS]);
      assert.deepEqual(await storedBarsSummary(db, symbol), { count: 3, first: T0, last: T0 + 2 * BAR_MS });
    });

    it('upserts 80k bars in one call: all new, then all unchanged', async () => {
      const symbol = 'H/COP';
      const bars = barSeries(Date.UTC(2020, 0, 2, 13), 80_000, { symbol });
      assert.deepEqual(await upsertBars(db, bars), { inserted: 80_000, updated: 0, unchanged: 0 });
      assert.deepEqual(await upsertBars(db, bars), { inserted: 0, updated: 0, unchanged: 80_000 });
      const [row] = await db.query<{ n: number; closes: number }>('SELECT count(*) AS n, sum(close) AS closes FROM bars WHERE symbol = $1', [symbol]);
      assert.deepEqual(row, { n: 80_000, closes: bars.reduce((s, b) => s + b.close, 0) });
    });
  });
}
