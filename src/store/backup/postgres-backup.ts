/**
 * PostgreSQL backup and restore through pg_dump and pg_restore (custom format).
 *
 * Consistent while ingest writes: a REPEATABLE READ transaction exports its snapshot, counts
 * every table in it, and pg_dump dumps that same snapshot (`--snapshot`), so the manifest's
 * counts are exactly the dump's rows. Restore runs pg_restore in one transaction that stops at
 * the first error: a failed restore leaves the target database as it was.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TasaError } from '../../errors.ts';
import type { Db } from '../db.ts';
import { openPostgres } from '../postgres-driver.ts';
import type { StoreFacts } from './backup-manifest.ts';
import { storeFacts } from './store-facts.ts';

export const PG_DUMP_FILE = 'store.pgdump';

/** Dumps the database of `url` into `<dir>/store.pgdump`; returns the facts of the dumped snapshot. */
export async function dumpPostgres(db: Db, url: string, dir: string): Promise<StoreFacts> {
  return db.transaction(async (tx) => {
    await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const [row] = await tx.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
    const facts = await storeFacts(tx);
    // The snapshot stays importable while this transaction is open, i.e. until pg_dump has finished.
    await runPgTool('pg_dump', ['--format=custom', '--compress=6', `--snapshot=${row?.snapshot ?? ''}`, `--file=${join(dir, PG_DUMP_FILE)}`], url);
    return facts;
  });
}

/** Restores `<dir>/store.pgdump` into the (empty) database of `url`, all or nothing. */
export async function restorePostgres(url: string, dir: string): Promise<void> {
  await runPgTool('pg_restore', ['--single-transaction', '--exit-on-error', '--no-owner', join(dir, PG_DUMP_FILE)], url);
}

/** The target must hold no Tasa schema: a restore never merges into live data. */
export async function assertEmptyPostgres(url: string, target: string): Promise<void> {
  const db = await openPostgres(url);
  try {
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`);
    if ((row?.n ?? 0) > 0) {
      throw new TasaError('conflict', `${target} already holds ${row?.n} tables; a restore goes into a new, empty database.`, {
        input: target,
        hint: 'Create an empty database (createdb) and point DATABASE_URL at it.',
      });
    }
  } finally {
    await db.close();
  }
}

/** Runs pg_dump/pg_restore against `url`; the password goes in the environment, never on the command line. */
function runPgTool(tool: 'pg_dump' | 'pg_restore', args: string[], url: string): Promise<void> {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  const env = { ...process.env, ...(password === '' ? {} : { PGPASSWORD: password }) };
  return new Promise((resolve, reject) => {
    const child = spawn(pgToolPath(tool), [...args, `--dbname=${parsed.toString()}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', (err) => reject(new TasaError('internal', `${tool} could not be started: ${err.message}.`, { hint: 'Install the PostgreSQL client tools (Debian: postgresql-client).' })));
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new TasaError('internal', `${tool} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

/** PATH's tool (Debian's wrapper picks the server's version), else the newest under /usr/lib/postgresql. */
function pgToolPath(tool: string): string {
  const onPath = (process.env.PATH ?? '').split(':').map((d) => join(d, tool)).find((p) => existsSync(p));
  if (onPath !== undefined) return onPath;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin', tool)).find((p) => existsSync(p));
  return found ?? tool;
}
