/**
 * `tasa backup <dir>` and `tasa restore <dir>` for either store. A backup writes its data file,
 * then the manifest (so a directory without one is an unfinished backup), then audits
 * `store.backup` in the source store. A restore verifies the manifest and checksums first, restores
 * all or nothing into an empty store, compares every table's row count with the manifest inside
 * the restore (a difference rolls it back), and audits `store.restore` in the restored store.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Clock } from '../../clock.ts';
import { redactUrl } from '../../config.ts';
import { TasaError } from '../../errors.ts';
import { TASA_VERSION } from '../../version.ts';
import { appendAudit } from '../audit-repo.ts';
import type { Db } from '../db.ts';
import { latestSchemaVersion } from '../migrate.ts';
import { openPostgres } from '../postgres-driver.ts';
import { describeFile, readManifest, verifyBackup, writeManifest, type BackupManifest, type StoreFacts } from './backup-manifest.ts';
import { dumpPglite, openEmbeddedForBackup, PGLITE_DUMP_FILE, restorePglite } from './pglite-backup.ts';
import { assertEmptyPostgres, dumpPostgres, PG_DUMP_FILE, restorePostgres } from './postgres-backup.ts';
import { restoreCheckSql } from './store-facts.ts';

/** The configured store: a PostgreSQL URL, or the embedded store's data directory. */
export type StoreLocation = { databaseUrl: string } | { dataDir: string };

export interface BackupRequest {
  store: StoreLocation;
  dir: string;
  clock: Clock;
  actor: string;
}

export async function backupStore(r: BackupRequest): Promise<BackupManifest> {
  const dir = resolve(r.dir);
  await prepareEmptyDir(dir);
  if ('databaseUrl' in r.store) {
    const url = r.store.databaseUrl;
    const db = await openPostgres(url);
    try {
      return await finishBackup(db, dir, r, 'postgres', PG_DUMP_FILE, await dumpPostgres(db, url, dir));
    } finally {
      await db.close();
    }
  }
  const db = await openEmbeddedForBackup(resolve(r.store.dataDir));
  try {
    return await finishBackup(db, dir, r, 'pglite', PGLITE_DUMP_FILE, await dumpPglite(db, dir));
  } finally {
    await db.close();
  }
}

async function finishBackup(db: Db, dir: string, r: BackupRequest, store: Db['driver'], file: string, facts: StoreFacts): Promise<BackupManifest> {
  const createdAt = new Date(r.clock.now()).toISOString();
  const manifest = await writeManifest(dir, { store, ...facts, createdAt, tasaVersion: TASA_VERSION, files: [await describeFile(dir, file)] });
  const rows = Object.values(facts.tables).reduce((a, b) => a + b, 0);
  await appendAudit(db, [{ actor: r.actor, action: 'store.backup', entity: `backup:${dir}`, details: { schemaVersion: facts.schemaVersion, rows, bytes: manifest.files[0]?.bytes ?? 0 }, at: r.clock.now() }]);
  return manifest;
}

/** A backup goes into a new or empty directory: never over another backup. */
async function prepareEmptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) {
    throw new TasaError('conflict', `${dir} is not empty; a backup goes into a new or empty directory.`, { input: dir, hint: 'Name a new directory, e.g. one per date.' });
  }
}

export interface RestoreRequest {
  store: StoreLocation;
  dir: string;
  clock: Clock;
  actor: string;
}

export async function restoreStore(r: RestoreRequest): Promise<BackupManifest> {
  const dir = resolve(r.dir);
  const manifest = await readManifest(dir);
  const kind = 'databaseUrl' in r.store ? 'postgres' : 'pglite';
  await verifyBackup(dir, manifest, { store: kind, latestSchema: latestSchemaVersion() });
  // Row counts before the restore's own audit entry; any difference is reported table by table.
  const checkSql = restoreCheckSql(manifest);
  const audit = async (db: Db): Promise<void> => {
    const details = { schemaVersion: manifest.schemaVersion, createdAt: manifest.createdAt, tasaVersion: manifest.tasaVersion };
    await appendAudit(db, [{ actor: r.actor, action: 'store.restore', entity: `backup:${dir}`, details, at: r.clock.now() }]);
  };
  if ('dataDir' in r.store) {
    await restorePglite(resolve(r.store.dataDir), dir, async (db) => {
      await db.exec(checkSql);
      await audit(db);
    });
    return manifest;
  }
  const url = r.store.databaseUrl;
  await assertEmptyPostgres(url, redactUrl(url));
  await restorePostgres(url, dir, checkSql);
  const db = await openPostgres(url);
  try {
    await audit(db);
  } finally {
    await db.close();
  }
  return manifest;
}
