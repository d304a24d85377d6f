import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TasaError } from '../../src/errors.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { latestSchemaVersion, loadMigrations, migrate, schemaVersion } from '../../src/store/migrate.ts';
import { syncReferenceData } from '../../src/store/reference-data.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';

/** The foundation's tables; later migrations add more. */
const TABLES = ['app_state', 'audit_log', 'bar_revisions', 'bars', 'holidays', 'pipeline_runs', 'raw_bars', 'schema_migrations', 'sessions', 'symbols', 'ticks', 'ticks_default'];

for (const target of databaseTargets()) {
  describe(`migrate on ${target.name}`, () => {
    it('applies every migration once; a second run applies nothing', async () => {
      const db = await target.open({ blank: true });
      try {
        assert.equal(await schemaVersion(db), 0);
        const names = (await loadMigrations()).map((m) => m.name);
        assert.deepEqual(await migrate(db), { from: 0, to: latestSchemaVersion(), applied: names });
        assert.deepEqual(await migrate(db), { from: latestSchemaVersion(), to: latestSchemaVersion(), applied: [] });
        assert.equal(await schemaVersion(db), latestSchemaVersion());
        const tables = await db.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
        );
        const present = new Set(tables.map((t) => t.name));
        assert.deepEqual(TABLES.filter((t) => !present.has(t)), [], 'missing tables');
      } finally {
        await db.close();
      }
    });

    it('checks a current schema with one query and no transaction', async () => {
      const db = await target.open();
      try {
        const calls: string[] = [];
        const counted: Db = {
          ...db,
          driver: db.driver,
          target: db.target,
          query: (text, params) => (calls.push(`query ${text}`), db.query(text, params)),
          exec: (text) => (calls.push('exec'), db.exec(text)),
          transaction: (fn) => (calls.push('transaction'), db.transaction(fn)),
          close: () => db.close(),
        };
        const version = await schemaVersion(db);
        assert.deepEqual(await migrate(counted), { from: version, to: version, applied: [] });
        assert.deepEqual(calls, ['query SELECT version, checksum FROM schema_migrations']);
      } finally {
        await db.close();
      }
    });

    it('lets concurrent callers race: the schema is applied exactly once', async () => {
      const db = await target.open({ blank: true });
      try {
        const results = await Promise.all([migrate(db), migrate(db), migrate(db)]);
        assert.equal(results.flatMap((r) => r.applied).length, (await loadMigrations()).length);
        const [row] = await db.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
        assert.equal(row?.n, latestSchemaVersion());
      } finally {
        await db.close();
      }
    });

    it('lets processes that start together on a new database build the reference data once', async () => {
      const db = await target.open({ blank: true });
      try {
        await migrate(db);
        const calendar = new MarketCalendar();
        // Without the lock the later inserts collided with the first: "holidays_pkey" killed ingest.
        await Promise.all([syncReferenceData(db, calendar.all()), syncReferenceData(db, calendar.all()), syncReferenceData(db, calendar.all())]);
        const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM holidays');
        const expected = new Set<string>();
        for (let year = 2015; year <= 2035; year++) for (const h of [...calendar.holidays(year), ...calendar.usHolidays(year)]) expected.add(`${h.date}/${h.market}`);
        assert.equal(row?.n, expected.size);
      } finally {
        await db.close();
      }
    });

    it('018 keeps the first receipt of a quote stored twice and makes the quote the key', async () => {
      const db = await target.open({ blank: true });
      try {
        const migrations = await loadMigrations();
        for (const m of migrations.filter((x) => x.version < 18)) await db.exec(m.sql);
        const quote = "'USD/COP', '2024-05-02T13:00:00Z', 4100.5, 4100, 4101";
        await db.exec(`INSERT INTO ticks (symbol, time, price, bid, ask, received_at, source) VALUES
          (${quote}, '2024-05-02T13:00:00.300Z', 'twelvedata_ws'),
          (${quote}, '2024-05-02T13:00:00.200Z', 'twelvedata_ws'),
          ('USD/COP', '2024-05-02T13:00:00Z', 4100.5, 4100, NULL, '2024-05-02T13:00:00.400Z', 'twelvedata_ws')`);
        const m18 = migrations.find((x) => x.version === 18);
        assert.ok(m18, 'migration 018 ships');
        await db.exec(m18.sql);
        const kept = await db.query<{ received: string; ask: number | null }>("SELECT to_char(received_at AT TIME ZONE 'UTC', 'SS.MS') AS received, ask FROM ticks ORDER BY received_at");
        assert.deepEqual(kept, [
          { received: '00.200', ask: 4101 },
          { received: '00.400', ask: null },
        ]);
        await assert.rejects(db.exec(`INSERT INTO ticks (symbol, time, price, bid, ask, received_at, source) VALUES (${quote}, '2024-05-02T13:00:01Z', 'twelvedata_ws')`), /ticks_dedup_key|duplicate key/);
      } finally {
        await db.close();
      }
    });

    it('refuses to run when an applied migration was edited', async () => {
      const db = await target.open();
      try {
        await db.query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
        await assert.rejects(migrate(db), (err: unknown) => err instanceof TasaError && err.code === 'conflict' && /001_foundation\.sql/.test(err.message));
      } finally {
        await db.close();
      }
    });
  });
}

describe('latestSchemaVersion', () => {
  it('is the highest numbered migration file', async () => {
    const versions = (await loadMigrations()).map((m) => m.version);
    assert.equal(latestSchemaVersion(), Math.max(...versions));
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b));
  });
});
