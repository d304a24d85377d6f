/**
 * Versioned schema migrations: `migrations/NNN_name.sql`, applied in order, each in its own
 * transaction, recorded in `schema_migrations` with a checksum. Concurrent `migrate` calls
 * (several processes starting at once) serialise on a transaction-level advisory lock.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const MIGRATION_FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;
/** Arbitrary constant key shared by every Tasa process migrating the same database. */
const MIGRATION_LOCK_KEY = 7_324_101;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  from: number;
  to: number;
  /** File names applied by this call, in order; empty when the schema was current. */
  applied: string[];
}

/** The migrations shipped with this build, in version order. */
export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => MIGRATION_FILE.test(f)).sort();
  return Promise.all(
    files.map(async (name) => {
      const sql = await readFile(new URL(name, MIGRATIONS_DIR), 'utf8');
      const version = Number(MIGRATION_FILE.exec(name)?.[1]);
      return { version, name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/** The version this build migrates to: the highest numbered file in migrations/. */
export function latestSchemaVersion(): number {
  const versions = readdirSync(MIGRATIONS_DIR).flatMap((f) => {
    const match = MIGRATION_FILE.exec(f);
    return match ? [Number(match[1])] : [];
  });
  return Math.max(0, ...versions);
}

/** The highest applied migration version; 0 for an empty database. */
export async function schemaVersion(db: Db): Promise<number> {
  const [table] = await db.query<{ exists: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`);
  if (!table?.exists) return 0;
  const [row] = await db.query<{ version: number }>('SELECT coalesce(max(version), 0)::int AS version FROM schema_migrations');
  return row?.version ?? 0;
}

/**
 * Applies every migration not yet applied. Safe to call on every start and from several processes.
 * Opening a current database costs one query: the applied versions and checksums are read at once
 * and compared with the files; only a database missing a migration takes the locked path.
 */
export async function migrate(db: Db): Promise<MigrateResult> {
  const migrations = await loadMigrations();
  const applied = await appliedChecksums(db);
  if (applied !== null && migrations.every((m) => applied.has(m.version))) {
    for (const m of migrations) assertUnchanged(m, applied.get(m.version)!);
    const version = Math.max(0, ...applied.keys());
    return { from: version, to: version, applied: [] };
  }
  return migrateLocked(db, migrations);
}

/** Checksum by applied version; null when schema_migrations does not exist yet. */
async function appliedChecksums(db: Db): Promise<Map<number, string> | null> {
  try {
    const rows = await db.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
    return new Map(rows.map((r) => [r.version, r.checksum]));
  } catch (err) {
    if (isUndefinedTable(err)) return null;
    throw err;
  }
}

function isUndefinedTable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '42P01';
}

async function migrateLocked(db: Db, migrations: readonly Migration[]): Promise<MigrateResult> {
  await db.transaction(async (tx) => {
    await lockMigrations(tx);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const from = await schemaVersion(db);
  const applied: string[] = [];
  for (const migration of migrations) {
    if (await applyOnce(db, migration)) applied.push(migration.name);
  }
  return { from, to: await schemaVersion(db), applied };
}

async function lockMigrations(tx: Db): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
}

/** Applies one migration unless it is recorded; a recorded one must not have been edited since. */
async function applyOnce(db: Db, migration: Migration): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockMigrations(tx);
    const [done] = await tx.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = $1', [migration.version]);
    if (done) {
      assertUnchanged(migration, done.checksum);
      return false;
    }
    await tx.exec(migration.sql);
    await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      migration.version,
      migration.name,
      migration.checksum,
    ]);
    return true;
  });
}

function assertUnchanged(migration: Migration, appliedChecksum: string): void {
  if (appliedChecksum === migration.checksum) return;
  throw new TasaError('conflict', `Migration ${migration.name} was edited after it was applied to this database.`, {
    input: migration.name,
    hint: 'Never edit an applied migration; add a new numbered migration instead.',
  });
}
