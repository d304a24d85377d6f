import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TasaError } from '../../src/errors.ts';
import type { Db } from '../../src/store/db.ts';
import { openDb } from '../../src/store/open-db.ts';
import { databaseTargets } from '../support/test-db.ts';

const AWKWARD_TEXT = ['a,b', 'q"uote', 'back\\slash', '{braces}', 'NULL', '', ' padded ', 'line\nbreak', 'ñandú €'];

for (const target of databaseTargets()) {
  describe(`Db on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('returns the same JS types on every driver', async () => {
      const [row] = await db.query(`
        SELECT 42::int8 AS big, count(*) AS counted, 7::int AS int4, 1.25::float8 AS f8, 1.5::numeric AS num, true AS flag,
               '2024-01-02T13:00:00.123Z'::timestamptz AS ts, '2024-02-29'::date AS d, ARRAY['2024-01-01'::date] AS ds,
               '{"a":[1,"x",null]}'::jsonb AS j, ARRAY['flat','repaired']::text[] AS flags, '{}'::text[] AS none,
               ARRAY[1.5, NULL]::float8[] AS prices, ARRAY[1, 2]::int8[] AS bigs, NULL::text AS nothing,
               'infinity'::timestamptz AS forever, current_setting('TimeZone') AS zone, '2024-01-02T03:00:00Z'::timestamptz::date AS utc_day
        FROM (VALUES (1), (2)) v(x)`);
      assert.deepEqual(row, {
        big: 42,
        counted: 2,
        int4: 7,
        f8: 1.25,
        num: '1.5',
        flag: true,
        ts: new Date('2024-01-02T13:00:00.123Z'),
        d: '2024-02-29',
        ds: ['2024-01-01'],
        j: { a: [1, 'x', null] },
        flags: ['flat', 'repaired'],
        none: [],
        prices: [1.5, null],
        bigs: [1, 2],
        nothing: null,
        forever: Infinity,
        zone: 'UTC',
        utc_day: '2024-01-02',
      });
    });

    it('round-trips array parameters with nulls and awkward text through unnest', async () => {
      const times = [new Date('2024-01-02T13:00:00Z'), '2024-01-02T13:05:00.250Z', null];
      const rows = await db.query<{ n: number; price: number | null; t: Date | null; label: string | null }>(
        `SELECT n::int AS n, price, t, label
         FROM unnest($1::float8[], $2::timestamptz[], $3::text[]) WITH ORDINALITY AS u(price, t, label, n) ORDER BY n`,
        [[4000.5, null, -1e-7], times, ['x', null, 'NULL']],
      );
      assert.deepEqual(rows, [
        { n: 1, price: 4000.5, t: new Date('2024-01-02T13:00:00Z'), label: 'x' },
        { n: 2, price: null, t: new Date('2024-01-02T13:05:00.250Z'), label: null },
        { n: 3, price: -1e-7, t: null, label: 'NULL' },
      ]);
      const [echo] = await db.query<{ texts: string[] }>('SELECT $1::text[] AS texts', [AWKWARD_TEXT]);
      assert.deepEqual(echo?.texts, AWKWARD_TEXT);
    });

    it('accepts jsonb as an object or as JSON text, and int8 / timestamptz scalars', async () => {
      const [row] = await db.query('SELECT $1::jsonb AS a, $2::text::jsonb AS b, $3::int8 + 1 AS c, $4::timestamptz AS d', [
        { k: [1, 2] },
        '{"k":[1,2]}',
        2 ** 40,
        new Date(0),
      ]);
      assert.deepEqual(row, { a: { k: [1, 2] }, b: { k: [1, 2] }, c: 2 ** 40 + 1, d: new Date(0) });
    });

    it('commits a transaction, rolls back on throw, and nests with savepoints', async () => {
      await db.exec('CREATE TABLE tx_probe (v int)');
      await db.transaction((tx) => tx.query('INSERT INTO tx_probe VALUES (1)'));
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO tx_probe VALUES (2)');
          throw new Error('boom');
        }),
        /boom/,
      );
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (3)');
        await assert.rejects(tx.transaction(async (inner) => {
          await inner.query('INSERT INTO tx_probe VALUES (4)');
          await inner.query('SELECT 1/0');
        }));
        await tx.transaction((inner) => inner.query('INSERT INTO tx_probe VALUES (5)'));
      });
      const rows = await db.query<{ v: number }>('SELECT v FROM tx_probe ORDER BY v');
      assert.deepEqual(rows.map((r) => r.v), [1, 3, 5]);
    });

    it('copies rows with awkward values through copyRows', async () => {
      assert.ok(db.copyRows !== undefined, 'both drivers implement copyRows');
      await db.exec('CREATE TABLE copy_probe (n int, label text, t timestamptz, tags text[], doc jsonb, x float8)');
      const rows: unknown[][] = AWKWARD_TEXT.map((label, n) => [n, label, new Date(Date.UTC(2024, 0, 2, 13, n)), [label, 'b'], { label }, n / 3]);
      rows.push([99, null, null, [], null, null]);
      await db.copyRows('copy_probe', ['n', 'label', 't', 'tags', 'doc', 'x'], rows);
      const back = await db.query('SELECT n, label, t, tags, doc, x FROM copy_probe ORDER BY n');
      assert.deepEqual(
        back,
        rows.map(([n, label, t, tags, doc, x]) => ({ n, label, t, tags, doc, x })),
      );
    });
  });
}

describe('openDb', () => {
  it('fails fast with database_unreachable and never shows the password', async () => {
    const started = performance.now();
    const err = await openDb({ databaseUrl: 'postgres://tasa:s3cr3t-pw@127.0.0.1:1/tasa' }).then(
      () => assert.fail('connected to port 1'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TasaError);
    assert.equal(err.code, 'database_unreachable');
    assert.match(err.message, /^Cannot reach PostgreSQL at postgres:\/\/tasa:\*\*\*@127\.0\.0\.1:1\/tasa: .+\.$/);
    assert.doesNotMatch(`${err.message} ${err.hint ?? ''} ${err.input ?? ''}`, /s3cr3t-pw/);
    assert.ok(performance.now() - started < 6_000);
  });

  it('keeps an embedded database on disk under <dataDir>/pgdata', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasa-db-'));
    try {
      const first = await openDb({ dataDir: dir });
      assert.equal(first.driver, 'pglite');
      assert.equal(first.target, `pglite:${join(dir, 'pgdata')}`);
      await first.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
      await first.close();
      const second = await openDb({ dataDir: dir });
      assert.deepEqual(await second.query('SELECT v FROM kept'), [{ v: 'still here' }]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
