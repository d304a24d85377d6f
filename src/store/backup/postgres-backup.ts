/**
 * PostgreSQL backup and restore through pg_dump and pg_restore (custom format).
 *
 * Consistent while ingest writes: a REPEATABLE READ transaction exports its snapshot, counts
 * every table in it, and pg_dump dumps that same snapshot (`--snapshot`), so the manifest's
 * counts are exactly the dump's rows. Restore turns the dump into SQL (pg_restore) that psql
 * runs in one transaction stopping at the first error, with the caller's check last, before the
 * commit: a failed restore, or one that differs from its backup, leaves the target as it was.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

/**
 * Restores `<dir>/store.pgdump` into the (empty) database of `url`, all or nothing: `checkSql`
 * runs in the restore's transaction after the data, and an error it raises rolls everything back.
 */
export async function restorePostgres(url: string, dir: string, checkSql: string): Promise<void> {
  const script = spawnPgTool('pg_restore', ['--no-owner', '--file=-', join(dir, PG_DUMP_FILE)], ['ignore', 'pipe', 'pipe']);
  const psql = spawnPgTool('psql', ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--single-transaction', '--file=-', `--dbname=${withoutPassword(url)}`], ['pipe', 'ignore', 'pipe'], url);
  script.child.stdout?.pipe(psql.child.stdin!, { end: false });
  // A script pg_restore did not finish must not be committed: psql then runs an error, not the check.
  const ending = script.done.then(
    () => checkSql,
    () => `DO $abort$ BEGIN RAISE EXCEPTION 'pg_restore failed'; END $abort$;`,
  );
  void ending.then((last) => psql.child.stdin?.end(`\n${last}\n`));
  // psql may stop (an error) before pg_restore has written everything: its closed input is not the error to report.
  psql.child.stdin?.on('error', () => undefined);
  const [restored, ran] = await Promise.allSettled([script.done, psql.done]);
  if (restored.status === 'rejected') throw restored.reason;
  if (ran.status === 'rejected') throw ran.reason;
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

type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

/** Runs pg_dump against `url`. */
function runPgTool(tool: PgTool, args: string[], url: string): Promise<void> {
  return spawnPgTool(tool, [...args, `--dbname=${withoutPassword(url)}`], ['ignore', 'ignore', 'pipe'], url).done;
}

/** `url` without its password, which goes in the environment instead, never on the command line. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** Starts a PostgreSQL client tool (connecting to `url` when given); `done` settles with its exit, failing with the end of its stderr. */
function spawnPgTool(tool: PgTool, args: string[], stdio: ['ignore' | 'pipe', 'ignore' | 'pipe', 'pipe'], url?: string): { child: ChildProcess; done: Promise<void> } {
  const password = url === undefined ? '' : decodeURIComponent(new URL(url).password);
  const env = { ...process.env, ...(password === '' ? {} : { PGPASSWORD: password }) };
  const child = spawn(pgToolPath(tool), args, { env, stdio });
  const done = new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', (err) => reject(new TasaError('internal', `${tool} could not be started: ${err.message}.`, { hint: 'Install the PostgreSQL client tools (Debian: postgresql-client).' })));
    // 'close': the exit and the end of its output, all of it read.
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new TasaError('internal', `${tool} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
  return { child, done };
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
