/**
 * `tasa backup` / `tasa restore` round trips on real stores.
 *
 * PostgreSQL: ingest runs a simulated session against a scratch database; a backup is taken while
 * it writes ticks and bars, then another after it stopped. Each is restored into a new database:
 * the mid-session one holds exactly the manifest's counts and only rows the source has (the
 * source moved on after the snapshot); the stopped one equals the source in every row of every
 * table. A backup with one flipped byte, and one whose manifest claims a newer schema, are refused
 * and leave the target database empty. Every backup and restore is in the audit log.
 *
 * Embedded: a store another process owns is refused; an unowned one round-trips into a new data
 * directory, and a restore over an existing store is refused.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { createLogger } from '../../src/log.ts';
import { backupStore, restoreStore } from '../../src/store/backup/backup.ts';
import { MANIFEST_FILE, readManifest } from '../../src/store/backup/backup-manifest.ts';
import { PG_DUMP_FILE } from '../../src/store/backup/postgres-backup.ts';
import { listTables } from '../../src/store/backup/store-facts.ts';
import type { Db } from '../../src/store/db.ts';
import { openEmbeddedStore } from '../../src/store/embedded-store.ts';
import { latestSchemaVersion, migrate } from '../../src/store/migrate.ts';
import { startSystem, type RunningSystem } from '../../src/system.ts';
import { openScratchPostgres, type ScratchPostgres } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';

const MIN = 60_000;
const calendar = new MarketCalendar();
const SESSION = calendar.sessionFor('2026-03-04');
/** The audit entries the backup and restore themselves write: present on one side only by design. */
const OWN_AUDIT = `action NOT IN ('store.backup', 'store.restore')`;

/** Every row of a table as JSON text, in a stable order (audit entries of backups themselves aside). */
async function rowsOf(db: Db, table: string): Promise<string[]> {
  const where = table === 'public.audit_log' ? `WHERE ${OWN_AUDIT}` : '';
  const rows = await db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${table} t ${where} ORDER BY 1`);
  return rows.map((r) => r.row);
}

async function count(db: Db, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${table}`);
  return row?.n ?? 0;
}

const url = process.env['TEST_DATABASE_URL'];
const needsPostgres = url === undefined || url === '' ? (process.env['CI'] ? false : 'set TEST_DATABASE_URL') : false;

describe('backup and restore, PostgreSQL, mid-session', { skip: needsPostgres }, () => {
  let source: ScratchPostgres;
  let system: RunningSystem | null = null;
  let work: string;
  const targets: ScratchPostgres[] = [];
  const newTarget = async (): Promise<ScratchPostgres> => {
    const t = await openScratchPostgres(url ?? '');
    targets.push(t);
    return t;
  };

  before(async () => {
    assert.ok(url, 'CI is set but TEST_DATABASE_URL is not');
    assert.ok(SESSION);
    work = await mkdtemp(join(tmpdir(), 'tasa-backup-'));
    source = await openScratchPostgres(url);
    const env = {
      DATABASE_URL: source.url,
      TASA_SIMULATOR_PORT: '0',
      TASA_HTTP_PORT: '0',
      TASA_CLOCK_START: new Date(SESSION.open + 10 * MIN).toISOString(),
      TASA_CLOCK_SPEED: '60',
      TASA_HISTORY_WAIT_MS: '0',
      TASA_LOG_LEVEL: 'silent',
    };
    const config = loadConfig(env);
    system = await startSystem({ config, calendar, logger: createLogger('silent'), roles: { ingest: true, jobs: false, api: false }, env });
  });

  after(async () => {
    await system?.stop();
    for (const t of targets) await t.db.close().catch(() => undefined);
    await source?.db.close();
    await rm(work, { recursive: true, force: true });
  });

  it('a backup taken while ingest writes restores to exactly its snapshot', async () => {
    await waitFor(async () => (await count(source.db, 'bars')) > 0 && (await count(source.db, 'ticks')) > 0, 'ticks and a bar stored', 90_000, 250);
    const dir = join(work, 'mid-session');
    const manifest = await backupStore({ store: { databaseUrl: source.url }, dir, clock: systemClock, actor: 'test' });
    assert.equal(manifest.schemaVersion, latestSchemaVersion());
    assert.ok((manifest.tables['public.ticks'] ?? 0) > 0);
    // Ingest keeps writing after the snapshot.
    const ticksAtBackup = manifest.tables['public.ticks'] ?? 0;
    await waitFor(async () => (await count(source.db, 'ticks')) > ticksAtBackup, 'ticks after the backup', 60_000, 250);

    const target = await newTarget();
    await restoreStore({ store: { databaseUrl: target.url }, dir, clock: systemClock, actor: 'test' });
    const sourceTicks = new Set(await rowsOf(source.db, 'public.ticks'));
    for (const table of await listTables(target.db)) {
      // The restore's own audit entry is the one row the snapshot did not have.
      const own = table === 'public.audit_log' ? 1 : 0;
      assert.equal(await count(target.db, table), (manifest.tables[table] ?? -1) + own, `${table} rows`);
    }
    // Ticks are insert-only: the snapshot's are a subset of what the source holds now.
    const restoredTicks = await rowsOf(target.db, 'public.ticks');
    assert.equal(restoredTicks.length, ticksAtBackup);
    assert.ok(restoredTicks.every((r) => sourceTicks.has(r)), 'every restored tick is a source tick');
  });

  it('after ingest stops, a restored copy equals the source in every table', async () => {
    await system?.stop();
    system = null;
    const dir = join(work, 'stopped');
    await backupStore({ store: { databaseUrl: source.url }, dir, clock: systemClock, actor: 'test' });
    const target = await newTarget();
    await restoreStore({ store: { databaseUrl: target.url }, dir, clock: systemClock, actor: 'test' });
    const tables = await listTables(source.db);
    assert.deepEqual(await listTables(target.db), tables);
    for (const table of tables) assert.deepEqual(await rowsOf(target.db, table), await rowsOf(source.db, table), table);
    const backups = await source.db.query(`SELECT 1 FROM audit_log WHERE action = 'store.backup' AND actor = 'test'`);
    assert.equal(backups.length, 2, 'both backups are audited in the source');
    const restores = await target.db.query<{ entity: string }>(`SELECT entity FROM audit_log WHERE action = 'store.restore'`);
    assert.deepEqual(restores.map((r) => r.entity), [`backup:${dir}`]);
  });

  it('refuses a damaged backup and leaves the target empty', async () => {
    const dir = join(work, 'stopped');
    const damaged = join(work, 'damaged');
    await backupCopy(dir, damaged);
    const dump = await readFile(join(damaged, PG_DUMP_FILE));
    const middle = Math.floor(dump.length / 2);
    dump.writeUInt8((dump.readUInt8(middle) ^ 0xff) & 0xff, middle);
    await writeFile(join(damaged, PG_DUMP_FILE), dump);
    const target = await newTarget();
    await assert.rejects(restoreStore({ store: { databaseUrl: target.url }, dir: damaged, clock: systemClock, actor: 'test' }), /is damaged: its SHA-256 or size differs/);
    assert.deepEqual(await listTables(target.db), []);
  });

  it('refuses a backup of a newer schema and leaves the target empty', async () => {
    const newer = join(work, 'newer');
    await backupCopy(join(work, 'stopped'), newer);
    const manifest = await readManifest(newer);
    await writeFile(join(newer, MANIFEST_FILE), JSON.stringify({ ...manifest, schemaVersion: latestSchemaVersion() + 1 }));
    const target = await newTarget();
    await assert.rejects(restoreStore({ store: { databaseUrl: target.url }, dir: newer, clock: systemClock, actor: 'test' }), /has schema version \d+ .*knows versions up to/);
    assert.deepEqual(await listTables(target.db), []);
  });

  it('rolls a restore back when its row counts differ from the manifest', async () => {
    const differing = join(work, 'differing');
    await backupCopy(join(work, 'stopped'), differing);
    const manifest = await readManifest(differing);
    const bars = manifest.tables['public.bars'] ?? 0;
    await writeFile(join(differing, MANIFEST_FILE), JSON.stringify({ ...manifest, tables: { ...manifest.tables, 'public.bars': bars + 1 } }));
    const target = await newTarget();
    await assert.rejects(
      restoreStore({ store: { databaseUrl: target.url }, dir: differing, clock: systemClock, actor: 'test' }),
      new RegExp(`differs from the backup: public\\.bars: ${bars + 1} in the backup, ${bars} restored`),
    );
    assert.deepEqual(await listTables(target.db), [], 'nothing of the restore was committed');
  });

  it('refuses to restore into a database that holds tables', async () => {
    await assert.rejects(restoreStore({ store: { databaseUrl: source.url }, dir: join(work, 'stopped'), clock: systemClock, actor: 'test' }), /already holds \d+ tables/);
  });
});

describe('backup and restore, embedded store', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tasa-backup-embedded-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('refuses while another process owns the store, round-trips once it is free, and never restores over a store', async () => {
    const dataDir = join(work, 'source');
    const owner = await openEmbeddedStore({ dataDir, requireOwner: true });
    await migrate(owner);
    await owner.query(`INSERT INTO audit_log (actor, action, entity, details) VALUES ('test', 'seed', 'x', '{}'::jsonb)`);
    await assert.rejects(backupStore({ store: { dataDir }, dir: join(work, 'refused'), clock: systemClock, actor: 'test' }), /Cannot back up the embedded store now: .* in use by pid/);
    const expected = new Map<string, string[]>();
    for (const table of await listTables(owner)) expected.set(table, await rowsOf(owner, table));
    await owner.close();

    const dir = join(work, 'backup');
    const manifest = await backupStore({ store: { dataDir }, dir, clock: systemClock, actor: 'test' });
    assert.equal(manifest.store, 'pglite');
    const restoredDir = join(work, 'restored');
    await restoreStore({ store: { dataDir: restoredDir }, dir, clock: systemClock, actor: 'test' });
    const restored = await openEmbeddedStore({ dataDir: restoredDir, requireOwner: true });
    try {
      for (const [table, rows] of expected) assert.deepEqual(await rowsOf(restored, table), rows, table);
      assert.equal((await restored.query(`SELECT 1 FROM audit_log WHERE action = 'store.restore'`)).length, 1);
    } finally {
      await restored.close();
    }
    await assert.rejects(restoreStore({ store: { dataDir: restoredDir }, dir, clock: systemClock, actor: 'test' }), /already holds a database/);
  });
});

async function backupCopy(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true });
}
