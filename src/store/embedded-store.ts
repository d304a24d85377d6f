/**
 * One owner of the embedded store. PGlite runs inside one process; a second process that opened
 * the same directory would write behind the first one's back and corrupt it. So the first
 * process to open `<dataDir>/pgdata` takes `<dataDir>/store.lock` (an exclusive create) and
 * serves the database on a local socket (pglite-server.ts); every other process that finds the
 * lock of a live owner reaches the same data through that socket, with the postgres driver.
 *
 * - The lock holds the owner's pid, host, endpoint (null while it is still starting), start time
 *   and command. It is removed on a clean close. A lock whose pid is dead on this host (a crash,
 *   `kill -9`) is stale: it is cleared, with one line saying so, and the directory opened.
 * - The socket is `<dataDir>/.s.PGSQL.5432`, the name libpq looks for, so `psql -h <dataDir>`
 *   reaches the store too; on a path too long for a Unix socket, a TCP port on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../clock.ts';
import { TasaError, errorMessage } from '../errors.ts';
import type { Db } from './db.ts';
import { openPglite } from './pglite-driver.ts';
import type { StoreEndpoint } from './pglite-server.ts';
import { openPostgres } from './postgres-driver.ts';

export interface EmbeddedStoreOptions {
  /** Absolute TASA_DATA_DIR: the database in `pgdata/`, the lock and the socket beside it. */
  dataDir: string;
  /**
   * Refuse to run on another process's store (long-running roles: a short command that owns
   * the store would take it away when it exits).
   */
  requireOwner?: boolean;
}

interface StoreLock {
  pid: number;
  host: string;
  endpoint: StoreEndpoint | null;
  startedAt: string;
  command: string;
  /** Tells this lock from a later one of the same pid. */
  nonce: string;
}

const LOCK_FILE = 'store.lock';
const SOCKET_FILE = '.s.PGSQL.5432';
/** sun_path holds 108 bytes on Linux, 104 on macOS. */
const MAX_SOCKET_PATH_BYTES = 100;
/**
 * How long to wait for an owner that has just taken the lock to serve, or for a lock to settle.
 * A live owner creating a new store runs every migration first: 12-15 s on an idle 2-core
 * machine, and over 15 s under load (seen in CI), so wait a minute before calling it stuck.
 */
const SETTLE_MS = 60_000;
const POLL_MS = 100;
/** PGlite ignores the user and database names; the postgres driver needs some. */
const SERVED_URL = 'postgres://postgres@localhost/postgres';

export async function openEmbeddedStore(o: EmbeddedStoreOptions): Promise<Db> {
  await mkdir(o.dataDir, { recursive: true });
  const lockPath = join(o.dataDir, LOCK_FILE);
  const deadline = systemClock.now() + SETTLE_MS;
  let unanswered: { holder: StoreLock; reason: string } | null = null;
  while (systemClock.now() < deadline) {
    const mine = await claim(lockPath);
    if (mine !== null) return openAsOwner(o.dataDir, lockPath, mine);
    const holder = await readLock(lockPath);
    if (holder === null) continue; // released (or being replaced) just now
    if (isStale(holder)) {
      await clearStale(lockPath, holder);
      // On stderr, like the CLI's other notices: stdout may be a CSV being piped somewhere.
      process.stderr.write(`${describe(o.dataDir)}: cleared a stale lock of pid ${holder.pid} (${holder.command}, started ${holder.startedAt}), which is no longer running.\n`);
      continue;
    }
    if (o.requireOwner === true) throw inUse(o.dataDir, holder);
    // No endpoint yet: the owner is still opening the database. No answer: it may be stopping.
    if (holder.endpoint !== null) {
      const served = await connect(o.dataDir, holder, holder.endpoint);
      if (!(served instanceof Error)) return served;
      unanswered = { holder, reason: errorMessage(served) };
    }
    await systemClock.sleep(POLL_MS);
  }
  const who = unanswered === null ? 'another process' : `pid ${unanswered.holder.pid} (${unanswered.holder.command})`;
  const why = unanswered === null ? 'never started serving it' : `does not answer: ${unanswered.reason}`;
  throw new TasaError('database_unreachable', `${describe(o.dataDir)} is held by ${who}, which ${why}.`, {
    input: lockPath,
    hint: 'Check that process; if no Tasa process is running, remove the lock file and try again.',
  });
}

/** Creates the lock only if there is none: written to a private file, then hard-linked into place (atomic). */
async function claim(lockPath: string): Promise<StoreLock | null> {
  const lock: StoreLock = {
    pid: process.pid,
    host: hostname(),
    endpoint: null,
    startedAt: new Date(systemClock.now()).toISOString(),
    command: `tasa ${process.argv.slice(2).join(' ')}`.trim(),
    nonce: randomBytes(8).toString('hex'),
  };
  const draft = `${lockPath}.${lock.nonce}`;
  await writeFile(draft, JSON.stringify(lock));
  try {
    await link(draft, lockPath);
    return lock;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw err;
  } finally {
    await rm(draft, { force: true });
  }
}

async function openAsOwner(dataDir: string, lockPath: string, lock: StoreLock): Promise<Db> {
  try {
    const db = await openPglite({ dataDir: join(dataDir, 'pgdata') });
    const server = await db.serve(endpointFor(dataDir)).catch(async (err: unknown) => {
      await db.close();
      throw err;
    });
    await replaceLock(lockPath, { ...lock, endpoint: server.endpoint });
    return {
      ...db,
      close: async () => {
        await db.close();
        await releaseLock(lockPath, lock);
      },
    };
  } catch (err) {
    await releaseLock(lockPath, lock);
    throw err;
  }
}

function endpointFor(dataDir: string): StoreEndpoint {
  const path = join(dataDir, SOCKET_FILE);
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES ? { path } : { port: 0 };
}

/** Connects to the owner; the error when it does not answer (it may be stopping: the caller looks again). */
async function connect(dataDir: string, holder: StoreLock, endpoint: StoreEndpoint): Promise<Db | Error> {
  try {
    const db = await openPostgres(SERVED_URL, endpoint);
    return { ...db, driver: 'pglite', target: `pglite:${join(dataDir, 'pgdata')} (served by pid ${holder.pid}, ${holder.command}, on ${endpointText(endpoint)})` };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function inUse(dataDir: string, holder: StoreLock): TasaError {
  return new TasaError('conflict', `${describe(dataDir)} is in use by pid ${holder.pid} (${holder.command}, since ${holder.startedAt}).`, {
    input: join(dataDir, LOCK_FILE),
    hint: 'Stop that process first (short commands such as `tasa import` can run while it runs); for several long-running processes, use PostgreSQL (DATABASE_URL).',
  });
}

async function readLock(lockPath: string): Promise<StoreLock | null> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text) as StoreLock;
  } catch {
    throw new TasaError('database_unreachable', `The embedded store's lock ${lockPath} is unreadable.`, {
      input: lockPath,
      hint: 'If no Tasa process is running, remove that file and try again.',
    });
  }
}

/** Rewrites our own lock (with the endpoint once it serves): rename over it, so readers never see half a file. */
async function replaceLock(lockPath: string, lock: StoreLock): Promise<void> {
  const draft = `${lockPath}.${lock.nonce}`;
  await writeFile(draft, JSON.stringify(lock));
  await rename(draft, lockPath);
}

async function releaseLock(lockPath: string, lock: StoreLock): Promise<void> {
  const now = await readLock(lockPath).catch(() => null);
  if (now?.nonce === lock.nonce) await rm(lockPath, { force: true });
}

/** Only a lock of this host can be checked: its pid is not running (signal 0 tests without sending). */
function isStale(lock: StoreLock): boolean {
  if (lock.host !== hostname()) return false;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Moves the stale lock aside, then checks it is the one that was judged stale: if another
 * process replaced it in between with its own, live lock, that one goes back.
 */
async function clearStale(lockPath: string, stale: StoreLock): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(8).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readLock(aside).catch(() => null);
  if (moved !== null && moved.nonce !== stale.nonce) await link(aside, lockPath).catch(() => undefined);
  await rm(aside, { force: true });
}

function describe(dataDir: string): string {
  return `The embedded database at ${join(dataDir, 'pgdata')}`;
}

function endpointText(endpoint: StoreEndpoint): string {
  return 'path' in endpoint ? endpoint.path : `127.0.0.1:${endpoint.port}`;
}
