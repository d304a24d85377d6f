/**
 * Databases for tests. Every store test runs against each target:
 * - `pglite`: always; an in-memory PGlite loaded from a migrated snapshot (~0.5 s instead of
 *   ~3-4 s for initdb + migrate). The snapshot is cached in the OS temp dir, keyed by the
 *   migrations and the PGlite version, so test files (separate processes) share it.
 * - `postgres`: when TEST_DATABASE_URL is set; each open() creates a fresh `tasa_t_<random>`
 *   database on that server, migrates it, and close() drops it. In CI an unset
 *   TEST_DATABASE_URL fails the postgres suites instead of skipping them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Db } from '../../src/store/db.ts';
import { loadMigrations, migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite-driver.ts';
import { openPostgres } from '../../src/store/postgres-driver.ts';

export interface OpenTestDbOptions {
  /** An empty database without the schema (migration tests). Default: migrated. */
  blank?: boolean;
}

export interface DatabaseTarget {
  name: 'pglite' | 'postgres';
  open(opts?: OpenTestDbOptions): Promise<Db>;
}

let skipNoticePrinted = false;

export function databaseTargets(): DatabaseTarget[] {
  const targets: DatabaseTarget[] = [{ name: 'pglite', open: openTestPglite }];
  const url = process.env['TEST_DATABASE_URL'];
  if (url !== undefined && url !== '') {
    targets.push({ name: 'postgres', open: (opts) => openTestPostgres(url, opts) });
  } else if (process.env['CI'] !== undefined && process.env['CI'] !== '') {
    targets.push({ name: 'postgres', open: failMissingUrl });
  } else if (!skipNoticePrinted) {
    skipNoticePrinted = true;
    process.stderr.write('skipped: PostgreSQL suites (set TEST_DATABASE_URL)\n');
  }
  return targets;
}

function failMissingUrl(): Promise<Db> {
  return Promise.reject(new Error('CI is set but TEST_DATABASE_URL is not: the PostgreSQL suites must run in CI, not be skipped.'));
}

// ---- PGlite ----

interface Snapshots {
  blank: Blob;
  migrated: Blob;
}

let snapshots: Promise<Snapshots> | undefined;

async function openTestPglite(opts: OpenTestDbOptions = {}): Promise<Db> {
  snapshots ??= loadOrBuildSnapshots();
  const snap = await snapshots;
  return openPglite({ loadDataDir: opts.blank === true ? snap.blank : snap.migrated });
}

async function loadOrBuildSnapshots(): Promise<Snapshots> {
  const base = join(tmpdir(), `tasa-pglite-test-${await snapshotKey()}`);
  try {
    const [blank, migrated] = await Promise.all([readFile(`${base}-blank.tar`), readFile(`${base}-migrated.tar`)]);
    return { blank: new Blob([blank]), migrated: new Blob([migrated]) };
  } catch {
    const built = await buildSnapshots();
    await Promise.all([saveAtomically(`${base}-blank.tar`, built.blank), saveAtomically(`${base}-migrated.tar`, built.migrated)]);
    return built;
  }
}

async function buildSnapshots(): Promise<Snapshots> {
  const db = await openPglite({});
  try {
    const blank = await db.dump();
    await migrate(db);
    return { blank, migrated: await db.dump() };
  } finally {
    await db.close();
  }
}

/** Another test process may write the same file at the same moment: write aside, then rename. */
async function saveAtomically(path: string, blob: Blob): Promise<void> {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(aside, Buffer.from(await blob.arrayBuffer()));
  await rename(aside, path);
}

/** Changes whenever a migration or the PGlite version does. */
async function snapshotKey(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pkg = await readFile(join(dirname(entry), '..', 'package.json'), 'utf8');
  const version = (JSON.parse(pkg) as { version: string }).version;
  const checksums = (await loadMigrations()).map((m) => m.checksum).join(',');
  return createHash('sha256').update(`${version}|${checksums}`).digest('hex').slice(0, 16);
}

// ---- PostgreSQL ----

export interface ScratchPostgres {
  /** Connected to the new, empty (not migrated) database; close() also drops it. */
  db: Db;
  /** URL of the new database, e.g. for a child process (`DATABASE_URL`). */
  url: string;
}

/** Creates a fresh `tasa_t_<random>` database on the server at `url` (benchmarks, CLI tests). */
export async function openScratchPostgres(url: string): Promise<ScratchPostgres> {
  const admin = await openPostgres(url);
  const name = `tasa_t_${randomBytes(6).toString('hex')}`;
  try {
    await admin.exec(`CREATE DATABASE ${name}`);
    const scratchUrl = withDatabase(url, name);
    const db = await openPostgres(scratchUrl);
    return { db: { ...db, close: () => closeAndDrop(db, admin, name) }, url: scratchUrl };
  } catch (err) {
    await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.close();
    throw err;
  }
}

async function openTestPostgres(url: string, opts: OpenTestDbOptions = {}): Promise<Db> {
  const { db } = await openScratchPostgres(url);
  try {
    if (opts.blank !== true) await migrate(db);
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}

async function closeAndDrop(db: Db, admin: Db, name: string): Promise<void> {
  try {
    await db.close();
    await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.close();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
