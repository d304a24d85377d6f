/**
 * The embedded driver: PGlite (PostgreSQL in WASM, one connection) behind the `Db` interface.
 * Every top-level statement and transaction takes the `gate`, which the socket server's clients
 * take for their own statements and transactions too (pglite-server.ts), so the two never mix.
 */
import { mkdir } from 'node:fs/promises';
import { Mutex, PGlite, type Transaction } from '@electric-sql/pglite';
import { TasaError, errorMessage } from '../errors.ts';
import type { Db, ListenHandlers, Listening } from './db.ts';
import { servePglite, type PgliteServer, type ServeOptions, type StoreEndpoint } from './pglite-server.ts';
import { copyStatement, csvRows, quoteIdent, wireParam } from './sql-text.ts';

const OID_INT8 = 20;
const OID_DATE = 1082;

/** Same result types as the postgres driver (see db.ts): int8 as number, date as 'YYYY-MM-DD'. */
const PARSERS = {
  [OID_INT8]: (x: string) => Number(x),
  [OID_DATE]: (x: string) => x,
};

/** A PGlite Db that can also snapshot itself (tests clone one migrated database many times). */
export interface PgliteDb extends Db {
  /** The whole data directory as an uncompressed tarball, for `openPglite({ loadDataDir })`. */
  dump(): Promise<Blob>;
  /**
   * A consistent backup while serving: `inspect` reads the database and the data directory is
   * dumped in one hold of the gate, so no statement of this process or a socket client runs in
   * between and the facts describe exactly the dumped bytes.
   */
  snapshot<T>(inspect: (db: Db) => Promise<T>): Promise<{ tarball: Blob; facts: T }>;
  /** Serves this database to other processes on a local socket, until the server or the Db is closed. */
  serve(where: StoreEndpoint, opts?: ServeOptions): Promise<PgliteServer>;
}

export interface PgliteOptions {
  /** Absolute data directory; omitted = in memory. */
  dataDir?: string;
  /** Start from a `dump()` instead of an empty cluster (much faster than initdb). */
  loadDataDir?: Blob;
}

/**
 * PostgreSQL's default of 128MB of shared buffers is all touched (zeroed) when PGlite starts, and
 * stays resident in its WebAssembly memory: about 120 MB of the embedded process's idle RSS. The
 * store's files sit in the OS page cache behind it anyway, so a small pool costs little: measured
 * in docs/benchmarks.md (idle RSS, import, candles).
 */
const SHARED_BUFFERS = '32MB';

export async function openPglite(opts: PgliteOptions): Promise<PgliteDb> {
  const target = opts.dataDir === undefined ? 'pglite:memory' : `pglite:${opts.dataDir}`;
  try {
    if (opts.dataDir !== undefined) await mkdir(opts.dataDir, { recursive: true });
    const pg = await PGlite.create({
      dataDir: opts.dataDir,
      loadDataDir: opts.loadDataDir,
      parsers: PARSERS,
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
    });
    const gate = new Mutex();
    const servers: PgliteServer[] = [];
    const channels = new Channels();
    pg.onNotification(channels.dispatch);
    const top = wrap(pg, target, gate);
    return {
      ...top,
      listen: (channel, handlers) => listenIn(top, channels, channel, handlers),
      close: async () => {
        await Promise.all(servers.splice(0).map((s) => s.close()));
        await pg.close();
      },
      dump: () => pg.dumpDataDir('none'),
      snapshot: (inspect) =>
        gate.runExclusive(async () => {
          const facts = await inspect(wrap(pg, target, null));
          return { tarball: await pg.dumpDataDir('none'), facts };
        }),
      serve: async (where, serveOpts) => {
        const server = await servePglite(pg, gate, where, { ...serveOpts, onNotification: channels.dispatch });
        servers.push(server);
        return server;
      },
    };
  } catch (err) {
    throw new TasaError('database_unreachable', `Cannot open the embedded database at ${target}: ${errorMessage(err)}.`, {
      input: target,
      hint: 'Another Tasa process may be using it, or the directory is damaged; move it away to start afresh.',
    });
  }
}

/**
 * Listeners by channel. PGlite hands this process's notifications to `dispatch` as it reads the
 * COMMIT's answer, and the socket server hands over those of its clients' statements the same way
 * (pglite-server.ts), so a notification is dispatched before anyone learns of its commit.
 */
class Channels {
  private readonly handlers = new Map<string, Set<ListenHandlers>>();

  readonly dispatch = (channel: string, payload: string): void => {
    for (const h of this.handlers.get(channel) ?? []) h.notify(payload);
  };

  /** Whether it is the channel's first listener. */
  add(channel: string, h: ListenHandlers): boolean {
    const set = this.handlers.get(channel) ?? new Set();
    this.handlers.set(channel, set.add(h));
    return set.size === 1;
  }

  /** Whether it was the channel's last listener. */
  remove(channel: string, h: ListenHandlers): boolean {
    const set = this.handlers.get(channel);
    if (set?.delete(h) !== true || set.size > 0) return false;
    this.handlers.delete(channel);
    return true;
  }
}

/** Every notification is dispatched before its commit is answered (see Channels): caught up at any time. */
async function listenIn(db: Db, channels: Channels, channel: string, handlers: ListenHandlers): Promise<Listening> {
  if (channels.add(channel, handlers)) {
    await db.exec(`LISTEN ${quoteIdent(channel)}`).catch((err: unknown) => {
      channels.remove(channel, handlers);
      throw err;
    });
  }
  return {
    caughtUp: () => Promise.resolve(),
    close: async () => {
      if (channels.remove(channel, handlers)) await db.exec(`UNLISTEN ${quoteIdent(channel)}`);
    },
  };
}

/** The query surface shared by the PGlite instance and its transactions. */
type Conn = Pick<Transaction, 'query' | 'exec'>;

/** `gate` is set on the top level only: inside a transaction the caller already holds it. */
function wrap(conn: PGlite | Transaction, target: string, gate: Mutex | null, savepointDepth = 0): Db {
  const gated = <T>(work: () => Promise<T>): Promise<T> => (gate === null ? work() : gate.runExclusive(work));
  return {
    driver: 'pglite',
    target,
    async query<T extends object>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      return gated(async () => (await conn.query<T>(text, params.map(wireParam))).rows);
    },
    async exec(text: string): Promise<void> {
      await gated(async () => {
        if (conn instanceof PGlite) await execWhole(conn, text);
        else await conn.exec(text);
      });
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      if (conn instanceof PGlite) return gated(() => conn.transaction((tx) => fn(wrap(tx, target, null))));
      return inSavepoint(conn, `tasa_sp${savepointDepth}`, () => fn(wrap(conn, target, null, savepointDepth + 1)));
    },
    async copyRows(table: string, columns: string[], rows: readonly (readonly unknown[])[]): Promise<void> {
      const blob = new Blob([csvRows(rows)]);
      await gated(() => conn.query(copyStatement(table, columns, `'/dev/blob'`), [], { blob }));
    },
    close: async () => {},
  };
}

/**
 * A top-level text of several statements (`BEGIN; ...; COMMIT`) that fails half-way leaves the
 * one session inside its aborted transaction; roll it back before the gate lets anyone else in.
 */
async function execWhole(pg: PGlite, text: string): Promise<void> {
  try {
    await pg.exec(text);
  } catch (err) {
    if (pg.isInTransaction()) await pg.exec('ROLLBACK');
    throw err;
  }
}

async function inSavepoint<T>(conn: Conn, name: string, fn: () => Promise<T>): Promise<T> {
  await conn.exec(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await conn.exec(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (err) {
    await conn.exec(`ROLLBACK TO SAVEPOINT ${name}`);
    throw err;
  }
}
