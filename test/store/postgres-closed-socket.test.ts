/**
 * The postgres.js driver (3.4.9) throws an uncatchable TypeError from a deferred write when its
 * connection closed underneath it (upstream porsager/postgres#1154, #1208): one killed backend could
 * take an ingest process down while PostgreSQL restarts. `patches/postgres+3.4.9.patch` (applied by
 * patch-package on install) makes such a write settle its queries with CONNECTION_CLOSED instead.
 * This reproduces the crash deterministically: a reserved connection whose backend is terminated.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';

const url = process.env['TEST_DATABASE_URL'];
const required = process.env['CI'] !== undefined && process.env['CI'] !== '';

/** The unpatched driver never settles such a query: time out rather than hang the suite. */
function settledWithin<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`query still pending after ${ms} ms`), { code: 'HANG' })), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Kills the backend of a reserved connection and sends two queries on it: 'rejected' when both
 * settle with a connection error (the path the patch fixes), 'hang' when the close was processed
 * first and the driver waits to reconnect the reserved connection (it has no query timeout).
 */
async function killAndQuery(url: string): Promise<'rejected' | 'hang'> {
  const sql = postgres(url, { max: 2, onnotice: () => undefined });
  const killer = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const reserved = await sql.reserve();
    const [row] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`;
    assert.ok(row);
    await killer`select pg_terminate_backend(${row.pid})`;
    // Two queries: the first meets the closing socket, the second a connection with no socket (the crash).
    for (let attempt = 0; attempt < 2; attempt++) {
      const outcome = await settledWithin(reserved`select 1`, 3_000).then(
        () => assert.fail('a query on a killed backend answered'),
        (err: Error & { code?: string }) => String(err.code ?? err.message),
      );
      if (outcome === 'HANG') return 'hang';
      assert.match(outcome, /CONNECTION_CLOSED|CONNECTION_ENDED|ECONNRESET|57P01/);
    }
    // The pool itself still works: a fresh connection answers.
    const [fresh] = await sql<{ one: number }[]>`select 1 as one`;
    assert.equal(fresh?.one, 1);
    reserved.release();
    return 'rejected';
  } finally {
    await Promise.all([sql.end({ timeout: 1 }), killer.end({ timeout: 1 })]);
  }
}

describe('postgres.js after its backend is killed', { skip: url === undefined && !required ? 'set TEST_DATABASE_URL' : false }, () => {
  it('rejects the queries of a dead connection instead of crashing the process', async () => {
    assert.ok(url, 'CI needs TEST_DATABASE_URL');
    const uncaught: unknown[] = [];
    const record = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', record);
    try {
      // Which comes first, the socket's close or the next write, is a race: a run where the close
      // won (the reserved connection waits to reconnect) is tried again; the crash is caught either way.
      const outcomes: string[] = [];
      for (let run = 0; run < 3 && outcomes.at(-1) !== 'rejected'; run++) outcomes.push(await killAndQuery(url));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(uncaught, [], 'no exception escaped the driver');
      assert.equal(outcomes.at(-1), 'rejected', `the queries of a killed backend were rejected in one of ${outcomes.length} runs (${outcomes.join(', ')})`);
    } finally {
      process.off('uncaughtException', record);
    }
  });
});
