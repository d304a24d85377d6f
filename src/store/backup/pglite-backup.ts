/**
 * Embedded store backup and restore through PGlite's data-directory dump (a tarball).
 *
 * Backup opens the store as its owner (the lock of embedded-store.ts): a store another process
 * owns is never read behind its back, so `tasa backup` refuses while `tasa up` runs on it. The
 * counts and the dump are taken in one hold of the store's gate (`snapshot`), so clients served
 * on the socket meanwhile cannot slip a write in between. Restore loads the tarball into a fresh
 * directory beside `pgdata`, checks it, and only then renames it into place: never half a store.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, openAsBlob } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { TasaError } from '../../errors.ts';
import type { Db } from '../db.ts';
import { openEmbeddedStore } from '../embedded-store.ts';
import { openPglite, type PgliteDb } from '../pglite-driver.ts';
import type { StoreFacts } from './backup-manifest.ts';
import { storeFacts } from './store-facts.ts';

export const PGLITE_DUMP_FILE = 'pgdata.tar';

/** Owns the embedded store of `dataDir` for the backup, or says who does. */
export async function openEmbeddedForBackup(dataDir: string): Promise<PgliteDb> {
  let db: Db;
  try {
    db = await openEmbeddedStore({ dataDir, requireOwner: true });
  } catch (err) {
    if (!(err instanceof TasaError) || err.code !== 'conflict') throw err;
    throw new TasaError('conflict', `Cannot back up the embedded store now: ${err.message}`, {
      input: err.input ?? dataDir,
      hint: 'Stop that process and run `tasa backup` again (the embedded store has one owner); PostgreSQL (DATABASE_URL) is backed up while it runs.',
    });
  }
  if (!isPgliteDb(db)) {
    await db.close();
    throw new TasaError('internal', `${db.target} did not open as its owner.`);
  }
  return db;
}

function isPgliteDb(db: Db): db is PgliteDb {
  return 'snapshot' in db && typeof db.snapshot === 'function';
}

/** Dumps the data directory into `<dir>/pgdata.tar`; returns the facts of the dumped state. */
export async function dumpPglite(db: PgliteDb, dir: string): Promise<StoreFacts> {
  const { tarball, facts } = await db.snapshot(storeFacts);
  await pipeline(Readable.fromWeb(tarball.stream() as WebReadableStream<Uint8Array>), createWriteStream(join(dir, PGLITE_DUMP_FILE)));
  return facts;
}

/**
 * Loads `<dir>/pgdata.tar` into `<dataDir>/pgdata`, which must not hold a database. `check` runs
 * on the loaded store before it is moved into place (a throw discards it).
 */
export async function restorePglite(dataDir: string, dir: string, check: (db: Db) => Promise<void>): Promise<void> {
  const target = join(dataDir, 'pgdata');
  await assertNoEmbeddedStore(dataDir, target);
  const staging = `${target}.restoring-${randomBytes(6).toString('hex')}`;
  try {
    const db = await openPglite({ dataDir: staging, loadDataDir: await openAsBlob(join(dir, PGLITE_DUMP_FILE)) });
    try {
      await check(db);
    } finally {
      await db.close();
    }
    await rename(staging, target);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function assertNoEmbeddedStore(dataDir: string, target: string): Promise<void> {
  const inUse = existsSync(join(dataDir, 'store.lock'));
  const holds = existsSync(target) && (await readdir(target)).length > 0;
  if (inUse || holds) {
    throw new TasaError('conflict', `${target} already holds a database${inUse ? ' (and a process has it open)' : ''}; a restore goes into a new data directory.`, {
      input: target,
      hint: 'Set TASA_DATA_DIR to a new, empty directory (or move the old one away).',
    });
  }
}
