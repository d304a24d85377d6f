/** The PostgreSQL driver (postgres.js): a connection pool behind the `Db` interface. */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { redactUrl } from '../config.ts';
import { TasaError, errorMessage } from '../errors.ts';
import type { Db, ListenHandlers, Listening } from './db.ts';
import type { StoreEndpoint } from './pglite-server.ts';
import { copyStatement, csvRows, parseArrayLiteral, quoteIdent, wireParam } from './sql-text.ts';

const CONNECT_TIMEOUT_S = 5;
/**
 * Reconnect delay after a failed connection, seconds. postgres.js's default grows to 20 s after a
 * few failures, so after an outage a query could wait 20 s for a server that is already back
 * (ingest's lease renewal and spool drain among them); capped at 1 s here.
 */
const reconnectBackoffS = (retries: number): number => Math.min(0.05 * 2 ** retries, 1);
const COPY_CHUNK_ROWS = 5_000;

/**
 * Types that make results match PGlite's (see db.ts): int8 as number, date as its 'YYYY-MM-DD'
 * text, a string given for json/jsonb taken as JSON text (postgres.js would otherwise encode it
 * again as a JSON string literal), and arrays parsed with NULL elements as null.
 */
const SCALAR_TYPES = {
  bigint: { to: 20, from: [20], serialize: (x: number | bigint) => String(x), parse: (x: string) => Number(x) },
  date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x },
  // postgres.js would re-parse text timestamps with JS Date (losing 'infinity' and microseconds)
  timestamptz: { to: 1184, from: [1184], serialize: (x: Date | string) => (typeof x === 'string' ? x : x.toISOString()), parse: parseTimestamptz },
  json: {
    to: 114,
    from: [114, 3802],
    serialize: (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x)),
    parse: (x: string): unknown => JSON.parse(x),
  },
};

/** Like PGlite: ±infinity become ±Infinity (numbers), everything else a Date. */
function parseTimestamptz(x: string): Date | number {
  if (x === 'infinity') return Infinity;
  if (x === '-infinity') return -Infinity;
  return new Date(x);
}

const asText = (x: string): string => x;
const asNumber = (x: string): number => Number(x);
/** Array type oid -> element parser, for the array types Tasa uses. */
const ARRAY_ELEMENT_PARSERS: Record<number, (raw: string) => unknown> = {
  1000: (x) => x === 't', // bool[]
  1005: asNumber, // int2[]
  1007: asNumber, // int4[]
  1016: asNumber, // int8[]
  1021: asNumber, // float4[]
  1022: asNumber, // float8[]
  1009: asText, // text[]
  1015: asText, // varchar[]
  1231: asText, // numeric[] (exact, as text like scalar numeric)
  1182: asText, // date[]
  1185: parseTimestamptz, // timestamptz[]
  3807: (x) => JSON.parse(x) as unknown, // jsonb[]
};

const TYPES: Record<string, postgres.PostgresType> = {
  ...SCALAR_TYPES,
  ...Object.fromEntries(
    Object.entries(ARRAY_ELEMENT_PARSERS).map(([oid, parseElement]) => [
      `array_${oid}`,
      { to: Number(oid), from: [Number(oid)], serialize: (x: unknown) => x, parse: (x: string) => parseArrayLiteral(x, parseElement) },
    ]),
  ),
};

type Conn = postgres.Sql<typeof TYPES> | postgres.TransactionSql<typeof TYPES>;
type WireParam = postgres.ParameterOrJSON<never>;

/**
 * Opens a pool and checks it can reach the server, failing within ~5 s with a redacted message.
 * `served`: the embedded database served by the process that owns it (pglite-server.ts), reached
 * on one connection, with unnamed statements only and without COPY FROM STDIN.
 */
export async function openPostgres(url: string, served?: StoreEndpoint): Promise<Db> {
  const target = redactUrl(url);
  let sql: postgres.Sql<typeof TYPES> | undefined;
  const options: Options = {
    connect_timeout: CONNECT_TIMEOUT_S,
    backoff: reconnectBackoffS,
    onnotice: () => {},
    types: TYPES,
    // Same session settings as PGlite, whatever the server's defaults: UTC for any
    // time-zone-dependent SQL (::date, date_trunc) and shortest-exact float8 text.
    connection: { application_name: 'tasa', TimeZone: 'UTC', extra_float_digits: 1 },
    ...(served === undefined ? {} : servedStoreOptions(served)),
  };
  try {
    sql = postgres(url, options);
    await withDeadline(sql.unsafe('select 1'), CONNECT_TIMEOUT_S * 1000 + 500, `no answer within ${CONNECT_TIMEOUT_S} s`);
  } catch (err) {
    void sql?.end({ timeout: 0 }).catch(() => {});
    throw unreachable(url, target, err);
  }
  const pool = sql;
  const listenings = new Set<Listening>();
  const close = async (): Promise<void> => {
    await Promise.all([...listenings].map((l) => l.close()));
    await pool.end({ timeout: 5 });
  };
  const db = wrap(pool, target, close, served === undefined);
  // A served store's clients share one session: a LISTEN there would be everyone's.
  if (served === undefined) {
    db.listen = async (channel, handlers) => {
      const listening = await listenOn(url, options, channel, handlers);
      listenings.add(listening);
      const stop = (): Promise<void> => {
        listenings.delete(listening);
        return listening.close();
      };
      return { caughtUp: () => listening.caughtUp(), close: stop };
    };
  }
  return db;
}

type Options = postgres.Options<typeof TYPES>;

/**
 * LISTENs on a connection of its own, LISTENing again after that connection is lost (and telling
 * `restart`). Caught up = one round trip on that connection: PostgreSQL signals a listening
 * backend when a transaction commits, before the committer is answered, and the backend sends
 * pending notifications before it reads its next command; postgres.js reads the messages in
 * order, so every notification committed before the round trip began is handled before it ends.
 */
async function listenOn(url: string, options: Options, channel: string, handlers: ListenHandlers): Promise<Listening> {
  let listening: Promise<unknown> | null = null;
  let closing = false;
  const listenOptions: Options & { onnotify: (channel: string, payload: string) => void } = {
    ...options,
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    // postgres.js 3.4.9 reads this option (its own `listen` uses it) without declaring it.
    onnotify: (c, payload) => {
      if (c === channel) handlers.notify(payload);
    },
    onclose: () => {
      listening = null;
      if (!closing) handlers.restart();
    },
  };
  const conn = postgres(url, listenOptions);
  const listen = (): Promise<unknown> => {
    const started = conn.unsafe(`LISTEN ${quoteIdent(channel)}`);
    listening = started;
    started.catch(() => {
      if (listening === started) listening = null;
    });
    return started;
  };
  try {
    await listen();
  } catch (err) {
    await conn.end({ timeout: 0 });
    throw err;
  }
  return {
    caughtUp: async () => {
      if (listening === null) return void (await listen());
      await listening;
      await conn.unsafe('SELECT 1');
    },
    close: async () => {
      closing = true;
      await conn.end({ timeout: 5 });
    },
  };
}

/** The served store has one session for every client: no named statements may be left in it. */
function servedStoreOptions(served: StoreEndpoint): postgres.Options<typeof TYPES> {
  const where = 'path' in served ? { path: served.path } : { host: '127.0.0.1', port: served.port };
  return { ...where, max: 1, prepare: false };
}

/**
 * postgres.js keeps retrying a query whose connection attempt timed out (the query waits in its
 * queue for ever), so the first query gets its own deadline.
 */
async function withDeadline<T>(work: Promise<T>, ms: number, reason: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(reason)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function unreachable(url: string, target: string, err: unknown): TasaError {
  return new TasaError('database_unreachable', `Cannot reach PostgreSQL at ${target}: ${withoutSecrets(failureReason(err), url)}.`, {
    input: target,
    hint: 'Check that the server runs and DATABASE_URL is right, or unset DATABASE_URL to use the embedded database.',
  });
}

/** Node reports some connect failures as an AggregateError with an empty message. */
function failureReason(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') return err.errors.map(errorMessage).join('; ');
  const message = errorMessage(err).replace(/\.$/, '');
  if (message !== '') return message;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'unknown error';
}

function withoutSecrets(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // an unparseable URL has no password we can find; remove the whole URL below
  }
  let out = text.split(url).join('<url>');
  if (password !== '') out = out.split(password).join('***');
  return out;
}

function wrap(conn: Conn, target: string, close: () => Promise<void>, canCopy: boolean): Db {
  const db: Db = {
    driver: 'postgres',
    target,
    async query<T extends object>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      const rows = await conn.unsafe(text, params.map(wireParam) as WireParam[], { prepare: params.length > 0 });
      return Array.from(rows) as unknown as T[];
    },
    async exec(text: string): Promise<void> {
      await conn.unsafe(text);
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      const run = (tx: postgres.TransactionSql<typeof TYPES>) => fn(wrap(tx, target, async () => {}, canCopy));
      const result = 'savepoint' in conn ? conn.savepoint(run) : conn.begin(run);
      return (await result) as T;
    },
    async copyRows(table: string, columns: string[], rows: readonly (readonly unknown[])[]): Promise<void> {
      const pending = conn.unsafe(copyStatement(table, columns, 'STDIN'));
      const sink = await pending.writable();
      forwardLateError(pending, sink);
      await pipeline(Readable.from(csvChunks(rows)), sink);
    },
    close,
  };
  // Without copyRows, callers insert through unnest (staging.ts).
  if (!canCopy) delete db.copyRows;
  return db;
}

/**
 * postgres.js 3.4.9 loses an error that the server reports after the last COPY chunk (e.g. a
 * CHECK violation): the query promise was already resolved with the stream, and the stream's
 * final callback is never called, so the load would hang for ever. The error still reaches the
 * query's `reject`; hand it to the stream so the pipeline fails with it.
 */
function forwardLateError(pending: object, sink: Writable): void {
  const query = pending as { reject?: unknown };
  const reject = query.reject;
  if (typeof reject !== 'function') throw new Error('postgres.js internals changed: Query.reject is missing (copyRows)');
  query.reject = (err: unknown) => {
    sink.destroy(err instanceof Error ? err : new Error(String(err)));
    (reject as (err: unknown) => void)(err);
  };
}

function* csvChunks(rows: readonly (readonly unknown[])[]): Generator<string> {
  for (let i = 0; i < rows.length; i += COPY_CHUNK_ROWS) yield csvRows(rows.slice(i, i + COPY_CHUNK_ROWS));
}
