/**
 * The per-client rate limit over real sockets: over the limit a client gets 429 with Retry-After
 * and the standard error body, with the count in memory and in Redis; a Redis that goes away lets
 * requests through instead of answering 500.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../src/store/db.ts';
import { startPrivateRedis } from '../support/private-redis.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const LIMIT = 3;
const target = databaseTargets()[0];
const redisUrl = process.env['TEST_REDIS_URL'];

interface ErrorJson {
  error: { code: string; message: string };
}

async function get(url: string, token: string): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  const res = await fetch(`${url}/market/status`, { headers: { 'X-API-Key': token } });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

/** LIMIT requests pass, the next is a 429 in the standard shape with Retry-After in seconds. */
async function assertLimited(ts: TestServer): Promise<void> {
  const url = ts.url ?? assert.fail('not listening');
  // A fresh token: its own count, whatever other tests left in a shared Redis.
  const token = await ts.token('reader');
  for (let i = 0; i < LIMIT; i++) assert.equal((await get(url, token)).status, 200, `request ${i + 1} of ${LIMIT}`);
  const over = await get(url, token);
  assert.equal(over.status, 429);
  const seconds = Number(over.retryAfter);
  assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After: ${over.retryAfter}`);
  const body = over.body as ErrorJson;
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, 'rate_limited');
  assert.equal(body.error.message, `Rate limit of 3 requests per minute exceeded; retry in ${seconds} s (Retry-After).`);
  // /health stays reachable for probes.
  assert.equal((await fetch(`${url}/health`)).status < 500, true);
}

describe('rate limit', { concurrency: false }, () => {
  let db: Db;
  before(async () => {
    db = await (target ?? assert.fail('no database target')).open();
  });
  after(async () => {
    await db?.close();
  });

  it('answers 429 with Retry-After from the in-memory limiter', async () => {
    const ts = await startTestServer({ db, listen: true, env: { TASA_RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    try {
      await assertLimited(ts);
    } finally {
      await ts.close();
    }
  });

  it('answers 429 with Retry-After from the Redis limiter', { skip: redisUrl === undefined ? 'set TEST_REDIS_URL' : false }, async () => {
    const ts = await startTestServer({ db, listen: true, env: { TASA_RATE_LIMIT_PER_MINUTE: String(LIMIT), REDIS_URL: redisUrl ?? '' } });
    try {
      await assertLimited(ts);
    } finally {
      await ts.close();
    }
  });

  it('lets requests through (no 500) while its Redis is down', async () => {
    const redis = await startPrivateRedis();
    const ts = await startTestServer({ db, listen: true, env: { TASA_RATE_LIMIT_PER_MINUTE: String(LIMIT), REDIS_URL: redis.url } });
    try {
      await assertLimited(ts);
      await redis.stop();
      const token = await ts.token('reader');
      for (let i = 0; i < LIMIT + 2; i++) assert.equal((await get(ts.url ?? '', token)).status, 200, `request ${i + 1} with Redis down`);
    } finally {
      await ts.close();
      await redis.destroy();
    }
  });
});
