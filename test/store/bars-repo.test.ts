import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import type { Db } from '../../src/store/db.ts';
import { barRevisions, barsBetween, barTimesBetween, storedBarsSummary, streamBars, upsertBars, upsertBarsDetail } from '../../src/store/bars-repo.ts';
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

    describe('the replacement rule (migration 008)', () => {
      const live = (close: number, o: Partial<Bar> = {}): Bar => bar(T0, close, { source: 'twelvedata_ws', tickCount: 40, coverage: 1, volume: null, ...o });
      const partial = (close: number, o: Partial<Bar> = {}): Bar => live(close, { flags: ['partial'], coverage: 0.8, tickCount: 25, ...o });
      const backfill = (close: number): Bar => bar(T0, close, { source: 'twelvedata_rest', flags: ['backfilled'], coverage: 1, volume: null });
      const stored = async (symbol: string): Promise<Bar | undefined> => (await barsBetween(db, symbol, T0, T0 + 1))[0];

      it('a backfill replaces a partial bar: a new revision, the partial one kept in the history', async () => {
        const symbol = 'R1/COP';
        await upsertBars(db, [partial(4000, { symbol })]);
        const detail = await upsertBarsDetail(db, [{ ...backfill(4003), symbol }]);
        assert.deepEqual(detail, { inserted: 0, updated: 1, unchanged: 0, refused: 0, written: [T0] });
        assert.deepEqual(await stored(symbol), { ...backfill(4003), symbol, revision: 2 });
        const [old] = await barRevisions(db, symbol, T0);
        assert.deepEqual([old?.revision, old?.close, old?.flags, old?.coverage, old?.tickCount], [1, 4000, ['partial'], 0.8, 25]);
      });

      it('a backfill never replaces a complete live bar, an import or another backfill', async () => {
        for (const [symbol, first] of [['R2/COP', live(4000)], ['R3/COP', bar(T0, 4000)], ['R4/COP', backfill(4000)]] as const) {
          await upsertBars(db, [{ ...first, symbol }]);
          assert.deepEqual(await upsertBarsDetail(db, [{ ...backfill(4003), symbol }]), { inserted: 0, updated: 0, unchanged: 1, refused: 1, written: [] }, symbol);
          assert.deepEqual(await stored(symbol), { ...first, symbol, revision: 1 }, symbol);
          assert.deepEqual(await barRevisions(db, symbol, T0), [], `${symbol}: nothing replaced, no history`);
        }
      });

      it('a partial bar never replaces a complete one built from more ticks, nor a backfilled one', async () => {
        const symbol = 'R5/COP';
        await upsertBars(db, [live(4000, { symbol })]);
        assert.equal((await upsertBarsDetail(db, [partial(4001, { symbol })])).refused, 1);
        assert.equal((await stored(symbol))?.close, 4000);
        const repaired = 'R6/COP';
        await upsertBars(db, [partial(4000, { symbol: repaired })]);
        await upsertBars(db, [{ ...backfill(4003), symbol: repaired }]);
        assert.equal((await upsertBarsDetail(db, [partial(4001, { symbol: repaired, tickCount: 500 })])).refused, 1, 'a late partial revision after the repair');
        assert.deepEqual(await stored(repaired), { ...backfill(4003), symbol: repaired, revision: 2 });
      });

      it('a partial bar revises a partial one, and downgrades a complete one holding no more ticks', async () => {
        const symbol = 'R7/COP';
        await upsertBars(db, [partial(4000, { symbol })]);
        assert.equal((await upsertBarsDetail(db, [partial(4001, { symbol, tickCount: 26 })])).updated, 1);
        const downgraded = 'R8/COP';
        await upsertBars(db, [live(4000, { symbol: downgraded })]);
        assert.equal((await upsertBarsDetail(db, [live(4000, { symbol: downgraded, flags: ['partial'], coverage: 0.6 })])).updated, 1);
        assert.deepEqual((await stored(downgraded))?.flags, ['partial']);
      });

      it('a complete live bar replaces a partial or a backfilled one', async () => {
        for (const [symbol, first] of [['R9/COP', partial(4000)], ['R10/COP', backfill(4000)]] as const) {
          await upsertBars(db, [{ ...first, symbol }]);
          assert.equal((await upsertBarsDetail(db, [live(4002, { symbol })])).updated, 1, symbol);
          assert.deepEqual(await stored(symbol), { ...live(4002, { symbol }), revision: 2 }, symbol);
        }
      });

      it('stores coverage exactly, so rewriting the same bar is no change', async () => {
        const symbol = 'R11/COP';
        const bars = [partial(4000, { symbol, coverage: 0.8 }), partial(4000, { symbol, time: T0 + BAR_MS, coverage: 1 / 3 })];
        await upsertBars(db, bars);
        assert.deepEqual(await upsertBars(db, bars), { inserted: 0, updated: 0, unchanged: 2 });
        assert.deepEqual((await barsBetween(db, symbol, T0, T0 + DAY)).map((b) => b.coverage), [0.8, 1 / 3]);
      });
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
