import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ParsedRawBar } from '../../src/domain/raw-bar.ts';
import type { Db } from '../../src/store/db.ts';
import { insertRawBars, originImported, rawBarsBetween, type RawBarInput } from '../../src/store/raw-bars-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { T0, withoutCopy } from '../support/store-fixtures.ts';

const MIN = 60_000;

function parsed(lineNo: number, time: number, close: number): ParsedRawBar {
  return { lineNo, time, open: close, high: close + 1, low: close - 1, close, volume: 0, sourceLabel: 'twelvedata' };
}

/** A CSV-like file: line 1 is the header, so data starts at line 2; every 10th row is unparseable. */
function fileRows(count: number, start = T0): RawBarInput[] {
  return Array.from({ length: count }, (_, i) => {
    const lineNo = i + 2;
    const bad = i % 10 === 9;
    return {
      lineNo,
      raw: bad ? `garbage,"quoted, text",${i}` : `${new Date(start + i * 5 * MIN).toISOString()},USD/COP,${4000 + i}`,
      parsed: bad ? null : parsed(lineNo, start + i * 5 * MIN, 4000 + i),
      sourceLabel: bad ? null : 'twelvedata',
    };
  });
}

for (const target of databaseTargets()) {
  describe(`raw-bars-repo on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('stores every row once; importing the same file again inserts nothing', async () => {
      const rows = fileRows(30);
      const origin = { name: 'a.csv', sha256: 'sha-a' };
      assert.equal(await originImported(db, 'sha-a'), 0);
      assert.equal(await insertRawBars(db, 'USD/COP', origin, rows), 30);
      assert.equal(await insertRawBars(db, 'USD/COP', origin, rows), 0);
      assert.equal(await originImported(db, 'sha-a'), 30);
      const stored = await db.query<{ raw: string; time: Date | null; open: number | null }>(
        "SELECT raw, time, open FROM raw_bars WHERE origin_sha256 = 'sha-a' ORDER BY line_no",
      );
      assert.equal(stored[9]?.raw, 'garbage,"quoted, text",9');
      assert.equal(stored[9]?.time, null);
      assert.equal(stored[9]?.open, null);
      assert.deepEqual(stored[0]?.time, new Date(T0));
    });

    it('adds only the missing lines when part of a file is already stored', async () => {
      const rows = fileRows(20, T0 + 30 * 24 * 60 * MIN);
      const origin = { name: 'b.csv', sha256: 'sha-b' };
      assert.equal(await insertRawBars(db, 'USD/COP', origin, rows.slice(0, 8)), 8);
      assert.equal(await insertRawBars(db, 'USD/COP', origin, rows), 12);
      assert.equal(await originImported(db, 'sha-b'), 20);
    });

    it('falls back from COPY to a merge when the input itself repeats a line (first copy wins)', async () => {
      const rows = fileRows(6, T0 + 45 * 24 * 60 * MIN);
      const repeated = [...rows, { ...rows[2]!, raw: 'second copy of line 4' }];
      assert.equal(await insertRawBars(db, 'USD/COP', { name: 'dup.csv', sha256: 'sha-dup' }, repeated), 6);
      const [line4] = await db.query<{ raw: string }>("SELECT raw FROM raw_bars WHERE origin_sha256 = 'sha-dup' AND line_no = 4");
      assert.equal(line4?.raw, rows[2]?.raw);
    });

    it('takes the unnest path without COPY, with the same result', async () => {
      const plain = withoutCopy(db);
      const rows = fileRows(15, T0 + 60 * 24 * 60 * MIN);
      assert.equal(await insertRawBars(plain, 'USD/COP', { name: 'c.csv', sha256: 'sha-c' }, rows), 15);
      assert.equal(await insertRawBars(plain, 'USD/COP', { name: 'c.csv', sha256: 'sha-c' }, rows), 0);
      const back = await rawBarsBetween(db, 'USD/COP', T0 + 60 * 24 * 60 * MIN, T0 + 61 * 24 * 60 * MIN);
      assert.deepEqual(back, rows.flatMap((r) => (r.parsed ? [r.parsed] : [])));
    });

    it('reads parsed rows in [from, to) by time then line, optionally leaving one file out', async () => {
      const day = T0 + 90 * 24 * 60 * MIN;
      const fileX = [
        { lineNo: 2, raw: 'x2', parsed: parsed(2, day + 10 * MIN, 4010), sourceLabel: null },
        { lineNo: 3, raw: 'x3', parsed: parsed(3, day, 4000), sourceLabel: null },
        { lineNo: 4, raw: 'x4', parsed: null, sourceLabel: null },
      ];
      const fileY = [{ lineNo: 7, raw: 'y7', parsed: parsed(7, day, 4001), sourceLabel: 'twelvedata_backfill' }];
      await insertRawBars(db, 'USD/COP', { name: 'x.csv', sha256: 'sha-x' }, fileX);
      await insertRawBars(db, 'USD/COP', { name: 'y.csv', sha256: 'sha-y' }, fileY);
      const all = await rawBarsBetween(db, 'USD/COP', day, day + 10 * MIN + 1);
      assert.deepEqual(all.map((r) => [r.time - day, r.lineNo]), [[0, 3], [0, 7], [10 * MIN, 2]]);
      assert.deepEqual(all[1], { ...parsed(7, day, 4001), sourceLabel: 'twelvedata_backfill' });
      const halfOpen = await rawBarsBetween(db, 'USD/COP', day, day + 10 * MIN);
      assert.equal(halfOpen.length, 2);
      const withoutY = await rawBarsBetween(db, 'USD/COP', day, day + MIN, { excludeOriginSha256: 'sha-y' });
      assert.deepEqual(withoutY.map((r) => r.lineNo), [3]);
      assert.deepEqual(await rawBarsBetween(db, 'EUR/COP', day, day + MIN), []);
    });

    it('is append-only: UPDATE, DELETE and TRUNCATE raise', async () => {
      await assert.rejects(db.query("UPDATE raw_bars SET raw = 'changed' WHERE origin_sha256 = 'sha-a'"), /append-only/);
      await assert.rejects(db.query("DELETE FROM raw_bars WHERE origin_sha256 = 'sha-a'"), /append-only/);
      await assert.rejects(db.exec('TRUNCATE raw_bars'), /append-only/);
      assert.equal(await originImported(db, 'sha-a'), 30);
    });

    it('stores 100k rows in one call, every value intact', async () => {
      const start = Date.UTC(2020, 0, 2, 13);
      const rows = fileRows(100_000, start);
      assert.equal(await insertRawBars(db, 'USD/COP', { name: 'big.csv', sha256: 'sha-big' }, rows), 100_000);
      const [sums] = await db.query<{ n: number; parsed: number; lines: number; closes: number }>(
        `SELECT count(*) AS n, count(time) AS parsed, sum(line_no)::float8 AS lines, sum(close) AS closes
         FROM raw_bars WHERE origin_sha256 = 'sha-big'`,
      );
      const good = rows.filter((r) => r.parsed !== null);
      assert.deepEqual(sums, {
        n: 100_000,
        parsed: good.length,
        lines: rows.reduce((s, r) => s + r.lineNo, 0),
        closes: good.reduce((s, r) => s + (r.parsed?.close ?? 0), 0),
      });
      const sample = await rawBarsBetween(db, 'USD/COP', start + 99_990 * 5 * MIN, start + 100_000 * 5 * MIN);
      assert.deepEqual(sample, good.slice(-9).map((r) => r.parsed));
    });
  });
}
