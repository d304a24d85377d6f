import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { TasaError } from '../../src/errors.ts';
import { createBus, createRedisBus } from '../../src/bus/index.ts';
import { busContract } from './contract.ts';
import { captureLogger, Collector, range, sleep, START, waitFor, type AnyDataBus } from './helpers.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { cleanupRedis, rawRedis, redisScope, redisTarget, redisTestUrl } from './targets.ts';

const target = redisTarget();
if (target) {
  busContract(target);
  after(cleanupRedis);
}

const url = redisTestUrl();
const ready = (): string => {
  if (url === null) throw new Error('CI is set but TEST_REDIS_URL is not: the Redis suites must run in CI, not be skipped.');
  return url;
};

describe('redis bus', { skip: target === null }, () => {
  it('two instances (two processes) publishing concurrently share one gap-free seq and see the same events', async () => {
    const scope = redisScope(ready());
    try {
      const [a, b] = [await scope.open(), await scope.open()];
      const [seenByA, seenByB] = [new Collector(), new Collector()];
      await a.subscribe('USD/COP', seenByA.handler);
      await b.subscribe('USD/COP', seenByB.handler);
      const published = await Promise.all([
        ...range(1, 500).map((i) => a.publish('ticks', 'USD/COP', { from: 'a', i })),
        ...range(1, 500).map((i) => b.publish('ticks', 'USD/COP', { from: 'b', i })),
      ]);
      assert.deepEqual(published.map((e) => e.seq).sort((x, y) => x - y), range(1, 1_000), 'no seq is used twice or skipped');
      await Promise.all([seenByA.waitForCount(1_000), seenByB.waitForCount(1_000)]);
      assert.deepEqual(seenByA.seqs(), range(1, 1_000));
      assert.deepEqual(seenByA.events, seenByB.events);
      const bySeq = new Map(published.map((e) => [e.seq, e.data]));
      for (const e of seenByA.events) assert.deepEqual(e.data, bySeq.get(e.seq), `data of seq ${e.seq}`);
      assert.equal(await b.lastSeq('USD/COP'), 1_000);
    } finally {
      await scope.close();
    }
  });

  it('a subscription to another symbol interrupts the blocked reader instead of waiting out its BLOCK', async () => {
    const scope = redisScope(ready());
    try {
      const bus = await scope.open();
      await bus.subscribe('USD/COP', () => undefined);
      await sleep(200); // the reader is now blocked on USD/COP alone
      const got = new Collector();
      await bus.subscribe('USD/MXN', got.handler);
      const started = performance.now();
      await bus.publish('ticks', 'USD/MXN', { i: 1 });
      await got.waitForCount(1);
      const ms = performance.now() - started;
      assert.ok(ms < 1_000, `delivered in ${Math.round(ms)} ms (the XREAD BLOCK is 5 s)`);
    } finally {
      await scope.close();
    }
  });

  it('stores one stream per symbol with IDs <seq>-0, a counter, and a bounded length', async () => {
    const scope = redisScope(ready());
    const redis = rawRedis(ready());
    try {
      const bus = await scope.open({ window: 100 });
      for (let i = 1; i <= 1_000; i += 100) await Promise.all(range(i, i + 99).map((n) => bus.publish('bars', 'USD/COP', { n })));
      const stream = `${scope.keyPrefix}stream:{USD/COP}`;
      assert.equal(await redis.get(`${scope.keyPrefix}seq:{USD/COP}`), '1000');
      const length = await redis.xlen(stream);
      assert.ok(length >= 100 && length < 300, `trimmed to about 100, got ${length}`);
      const [top] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
      assert.deepEqual(top, ['1000-0', ['c', 'bars', 't', String(START), 'd', '{"n":1000}']]);
      assert.deepEqual(await redis.xrange(`${scope.keyPrefix}symbols`, '-', '+').then((e) => e.map(([, f]) => f)), [['s', 'USD/COP']]);
    } finally {
      redis.disconnect();
      await scope.close();
    }
  });

  it('seqs never go back when Redis loses its keys (a lost counter, or a restart that kept nothing)', async () => {
    const scope = redisScope(ready());
    const redis = rawRedis(ready());
    try {
      const bus = await scope.open();
      const got = new Collector();
      await bus.subscribe('USD/COP', got.handler);
      await Promise.all(range(1, 3).map((i) => bus.publish('ticks', 'USD/COP', { i })));
      await redis.del(`${scope.keyPrefix}seq:{USD/COP}`);
      assert.equal((await bus.publish('ticks', 'USD/COP', { i: 4 })).seq, 4, 'resumes after the top of the stream');
      const fresh = await scope.open(); // never saw a seq: relies on the stream alone
      await redis.del(`${scope.keyPrefix}seq:{USD/COP}`);
      assert.equal((await fresh.publish('ticks', 'USD/COP', { i: 5 })).seq, 5);
      await got.waitForCount(5); // `bus` has now seen seq 5 too
      await redis.del(`${scope.keyPrefix}seq:{USD/COP}`, `${scope.keyPrefix}stream:{USD/COP}`, `${scope.keyPrefix}symbols`);
      assert.equal((await bus.publish('ticks', 'USD/COP', { i: 6 })).seq, 6, 'resumes after what this process has seen');
      await got.waitForCount(6);
      assert.deepEqual(got.seqs(), range(1, 6));
    } finally {
      redis.disconnect();
      await scope.close();
    }
  });

  it('an unreachable Redis is a clear error, quickly, without the password', async () => {
    const started = performance.now();
    const err = await createRedisBus({ url: 'redis://tasa:hunter2@127.0.0.1:1/0', clock: new ManualClock(START) }).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(performance.now() - started < 2_000, 'failed within 2 s');
    assert.ok(err instanceof TasaError);
    assert.equal(err.code, 'database_unreachable');
    assert.match(err.message, /^Redis at redis:\/\/tasa:\*\*\*@127\.0\.0\.1:1\/0 is unreachable: .*ECONNREFUSED/);
    assert.doesNotMatch(`${err.message} ${err.input ?? ''} ${err.hint ?? ''}`, /hunter2/);
  });

  it('rides out an outage: publish waits in the buffer, delivery resumes without gap or duplicate, one log line each way', async () => {
    const redisUrl = new URL(ready());
    const proxy = await TcpProxy.start(redisUrl.hostname, Number(redisUrl.port || 6379));
    const proxiedUrl = new URL(redisUrl);
    proxiedUrl.port = String(proxy.listenPort);
    const scope = redisScope(ready());
    const behindProxy = redisScope(proxiedUrl.toString(), scope.keyPrefix);
    const { logger, lines } = captureLogger();
    try {
      const direct = await scope.open();
      const watched = await behindProxy.open({ logger });
      const got = new Collector();
      const broadcasts: unknown[] = [];
      await watched.subscribe('USD/COP', got.handler);
      await watched.onBroadcast('status', (d) => broadcasts.push(d));
      await publishRange(direct, 1, 10);
      await got.waitForCount(10);

      await proxy.cut();
      let buffered: number | null = null;
      const waiting = watched.publish('ticks', 'USD/COP', { i: 'buffered' }).then((e) => (buffered = e.seq));
      await publishRange(direct, 11, 20);
      await sleep(800); // several reconnection attempts fail meanwhile
      assert.equal(buffered, null, 'the publish waits while Redis is out of reach');
      assert.equal(watched.backlog().pending, 1);
      await proxy.restore();
      assert.equal(await waiting, 21, 'published when Redis is back, with the next seq');
      assert.equal(watched.backlog().pending, 0);
      await publishRange(direct, 22, 30);

      await got.waitForCount(30, 10_000);
      assert.deepEqual(got.seqs(), range(1, 30));
      await waitFor(() => lines.some((l) => /reachable again/.test(l.msg)), 'the recovery log line', 10_000);
      assert.equal((await watched.publish('ticks', 'USD/COP', { i: 31 })).seq, 31);
      await waitFor(() => broadcasts.length > 0, 'a broadcast after re-subscription', 5_000, () => direct.broadcast('status', { up: true }));
      assert.equal(lines.filter((l) => /is unreachable/.test(l.msg)).length, 1, 'one warning for the outage');
      assert.equal(lines.filter((l) => /reachable again/.test(l.msg)).length, 1, 'one line for the recovery');
      assert.ok(lines.every((l) => !JSON.stringify(l).includes('hunter2')));
    } finally {
      await Promise.all([behindProxy.close(), scope.close()]);
      await proxy.stop();
    }
  });

  it('createBus picks Redis when given a URL', async () => {
    const bus = await createBus({ redisUrl: ready(), clock: new ManualClock(START) });
    assert.equal(bus.kind, 'redis');
    await bus.close();
  });
});

async function publishRange(bus: AnyDataBus, from: number, to: number): Promise<void> {
  await Promise.all(range(from, to).map((i) => bus.publish('ticks', 'USD/COP', { i })));
}
