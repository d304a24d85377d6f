/**
 * `tasa backup` and `tasa restore` of the 5.5-year store (the 2020-01..2025-06 history imported),
 * each against a reference measured in the same run on the same data:
 * - PostgreSQL: backup vs a raw `pg_dump --format=custom` of the same database (what backup adds:
 *   the snapshot transaction, per-table counts, the SHA-256, the manifest, the audit entry);
 *   restore vs a raw `pg_restore --single-transaction` of that dump into another empty database
 *   (what restore adds: manifest and checksum verification, the emptiness check, counts, audit).
 * - Embedded (PGlite): backup and restore vs a file copy of the same tarball's bytes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '../src/clock.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { importBarFile } from '../src/pipeline/import-bars.ts';
import { backupStore, restoreStore } from '../src/store/backup/backup.ts';
import { PGLITE_DUMP_FILE } from '../src/store/backup/pglite-backup.ts';
import { openEmbeddedStore } from '../src/store/embedded-store.ts';
import { migrate } from '../src/store/migrate.ts';
import { openScratchPostgres, type ScratchPostgres } from '../test/support/test-db.ts';
import { REAL_FILE } from './foundation-bench.ts';
import { against, formatMs, record, timed } from './harness.ts';

const AREA = 'backup';
const run = promisify(execFile);

export async function benchBackup(): Promise<void> {
  const url = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];
  if (!existsSync(REAL_FILE)) return record(AREA, 'all figures', 'skipped', `${REAL_FILE} is absent`);
  const dir = mkdtempSync(join(tmpdir(), 'tasa-bench-backup-'));
  try {
    if (url) await benchPostgres(url, dir);
    else record(AREA, 'PostgreSQL figures', 'skipped', 'set BENCH_DATABASE_URL or TEST_DATABASE_URL');
    if (process.env['BENCH_BACKUP_EMBEDDED'] !== '0') await benchEmbedded(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchPostgres(url: string, dir: string): Promise<void> {
  const dbs: ScratchPostgres[] = [];
  const scratch = async (): Promise<ScratchPostgres> => {
    const s = await openScratchPostgres(url);
    dbs.push(s);
    return s;
  };
  try {
    const source = await scratch();
    await migrate(source.db);
    await importBarFile(source.db, new MarketCalendar(), REAL_FILE, { symbol: 'USD/COP' });
    const rawDump = join(dir, 'raw.pgdump');
    const raw = await timed(() => run('pg_dump', ['--format=custom', '--compress=6', `--file=${rawDump}`, `--dbname=${source.url}`]));
    const backup = await timed(() => backupStore({ store: { databaseUrl: source.url }, dir: join(dir, 'pg-backup'), clock: systemClock, actor: 'bench' }));
    const rows = Object.values(backup.result.tables).reduce((a, b) => a + b, 0);
    const bytes = backup.result.files[0]?.bytes ?? 0;
    record(AREA, 'PostgreSQL: tasa backup, 5.5-year store', formatMs(backup.ms), `${rows} rows, ${(bytes / 1e6).toFixed(1)} MB dump`, against('raw pg_dump -Fc, same DB', backup.ms, raw.ms));

    const rawTarget = await scratch();
    const rawRestore = await timed(() => run('pg_restore', ['--single-transaction', '--exit-on-error', '--no-owner', `--dbname=${rawTarget.url}`, rawDump]));
    const target = await scratch();
    const restore = await timed(() => restoreStore({ store: { databaseUrl: target.url }, dir: join(dir, 'pg-backup'), clock: systemClock, actor: 'bench' }));
    record(AREA, 'PostgreSQL: tasa restore, 5.5-year store', formatMs(restore.ms), 'checksums, restore in one transaction, every table counted', against('raw pg_restore --single-transaction, same dump', restore.ms, rawRestore.ms));
  } finally {
    for (const s of dbs.reverse()) await s.db.close().catch(() => undefined);
  }
}

async function benchEmbedded(dir: string): Promise<void> {
  const dataDir = join(dir, 'embedded');
  const db = await openEmbeddedStore({ dataDir, requireOwner: true });
  try {
    await migrate(db);
    await importBarFile(db, new MarketCalendar(), REAL_FILE, { symbol: 'USD/COP' });
  } finally {
    await db.close();
  }
  const backupDir = join(dir, 'pglite-backup');
  const backup = await timed(() => backupStore({ store: { dataDir }, dir: backupDir, clock: systemClock, actor: 'bench' }));
  const bytes = backup.result.files[0]?.bytes ?? 0;
  await mkdir(join(dir, 'copy'));
  const copy = await timed(() => copyFile(join(backupDir, PGLITE_DUMP_FILE), join(dir, 'copy', PGLITE_DUMP_FILE)));
  record(AREA, 'embedded: tasa backup, 5.5-year store', formatMs(backup.ms), `${(bytes / 1e6).toFixed(1)} MB tarball`, against('file copy of the same tarball', backup.ms, copy.ms));
  const restore = await timed(() => restoreStore({ store: { dataDir: join(dir, 'restored') }, dir: backupDir, clock: systemClock, actor: 'bench' }));
  record(AREA, 'embedded: tasa restore, 5.5-year store', formatMs(restore.ms), 'checksum, load into a new directory, every table counted, rename', against('file copy of the same tarball', restore.ms, copy.ms));
}
