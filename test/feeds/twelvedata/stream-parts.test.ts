import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../../src/feeds/twelvedata/backoff.ts';
import { BoundedEventQueue } from '../../../src/feeds/twelvedata/event-queue.ts';
import { classifyResponse } from '../../../src/feeds/twelvedata/td-errors.ts';

describe('backoffDelay', () => {
  const opts = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

  it('doubles from the initial delay and is capped', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, opts, () => 0.5)), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('jitters within ±20 % and never above the cap', () => {
    assert.equal(backoffDelay(1, opts, () => 0), 800);
    assert.equal(backoffDelay(1, opts, () => 0.999_999), 1200);
    assert.equal(backoffDelay(9, opts, () => 0.999_999), 30_000);
    assert.equal(backoffDelay(9, opts, () => 0), 24_000);
  });
});

describe('BoundedEventQueue', () => {
  it('delivers in order and ends after draining', async () => {
    const q = new BoundedEventQueue<number>(5, (n) => -n);
    [1, 2, 3].forEach((n) => q.push(n));
    q.end();
    q.push(4);
    const seen = [];
    for await (const n of q) seen.push(n);
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('drops the oldest when full and reports the loss before the rest', async () => {
    const q = new BoundedEventQueue<number>(3, (n) => -n);
    for (let n = 1; n <= 10; n++) q.push(n);
    q.end();
    const seen = [];
    for await (const n of q) seen.push(n);
    assert.deepEqual(seen, [-7, 8, 9, 10]);
    assert.equal(q.dropped, 7);
  });

  it('wakes a waiting consumer and calls back when it stops early', async () => {
    let returned = false;
    const q = new BoundedEventQueue<string>(2, () => 'lost', () => (returned = true));
    const iterator = q[Symbol.asyncIterator]();
    const pending = iterator.next();
    q.push('a');
    assert.deepEqual(await pending, { done: false, value: 'a' });
    await iterator.return?.();
    assert.equal(returned, true);
  });
});

describe('classifyResponse', () => {
  const body = (code: number, message: string): string => JSON.stringify({ code, message, status: 'error' });

  it('reads the error from the body whatever the HTTP status', () => {
    for (const http of [200, 429]) {
      assert.deepEqual(classifyResponse(http, body(429, 'You have run out of API credits for the current minute. 12 API credits were used')), {
        kind: 'rate_limited',
        scope: 'minute',
        status: 429,
        message: 'You have run out of API credits for the current minute. 12 API credits were used',
      });
    }
    assert.equal(classifyResponse(200, body(429, 'You have run out of API credits for the day. 800 API credits were used')).kind, 'rate_limited');
    assert.equal((classifyResponse(200, body(429, 'You have run out of API credits for the day.')) as { scope: string }).scope, 'day');
    assert.equal(classifyResponse(200, body(401, '**apikey** parameter is incorrect')).kind, 'bad_key');
  });

  it('tells a refused key from a symbol the plan lacks', () => {
    assert.equal(classifyResponse(403, body(403, 'This endpoint is available starting with the Grow plan')).kind, 'bad_key');
    assert.deepEqual(classifyResponse(200, body(403, '**symbol** WTI/USD is not available with your plan.')), {
      kind: 'fatal',
      error: 'forbidden',
      status: 403,
      message: '**symbol** WTI/USD is not available with your plan.',
    });
  });

  it('no data is an empty answer, 5xx and unreadable bodies are retryable, 400/404 are fatal', () => {
    assert.equal(classifyResponse(400, body(400, 'No data is available on the specified dates. Try setting different start/end dates.')).kind, 'no_data');
    assert.equal(classifyResponse(502, '<html>Bad Gateway</html>').kind, 'retryable');
    assert.equal(classifyResponse(200, 'not json').kind, 'retryable');
    assert.equal(classifyResponse(500, body(500, 'Internal error')).kind, 'retryable');
    assert.deepEqual(classifyResponse(200, body(404, '**symbol** or **figi** parameter is missing or invalid.')), {
      kind: 'fatal',
      error: 'not_found',
      status: 404,
      message: '**symbol** or **figi** parameter is missing or invalid.',
    });
    assert.equal((classifyResponse(400, body(400, 'Invalid **interval** provided')) as { error: string }).error, 'bad_request');
    assert.deepEqual(classifyResponse(200, '{"price":"4185.50000"}'), { kind: 'ok', body: { price: '4185.50000' } });
  });
});
