/**
 * The Redis bus checks what it reads against the channel contracts (contracts/bus-messages.ts):
 * an entry off its channel's contract, or a foreign writer's entry, is reported and skipped like a
 * corrupt one, never delivered.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createRedisBus, type BusEvent, type SeqGap } from '../../src/bus/index.ts';
import type { LatestPrice } from '../../src/contracts/bus-messages.ts';
import { captureLogger, Collector, START, waitFor } from './helpers.ts';
import { cleanupRedis, rawRedis, redisScope, redisTarget, redisTestUrl } from './targets.ts';

const SYMBOL = 'USD/COP';
const price = (p: number): LatestPrice => {
  const at = new Date(START).toISOString();
  return { symbol: SYMBOL, price: p, bid: null, ask: null, spread: null, timestamp: at, receivedAt: at, source: 'test' };
};

describe('redis bus: entries off the channel contracts', { skip: redisTarget() === null }, () => {
  after(cleanupRedis);

  it('reports a malformed or foreign entry written with XADD and delivers only the events that match, live and in a replay', async () => {
    const url = redisTestUrl();
    if (url === null) throw new Error('CI is set but TEST_REDIS_URL is not: the Redis suites must run in CI, not be skipped.');
    const scope = redisScope(url);
    const redis = rawRedis(url);
    const { logger, lines } = captureLogger();
    const bus = await createRedisBus({ url, clock: scope.clock, keyPrefix: scope.keyPrefix, logger });
    try {
      const got = new Collector();
      const gaps: SeqGap[] = [];
      await bus.subscribe(SYMBOL, got.handler, { onGap: (gap) => gaps.push(gap) });
      await bus.publish('ticks', SYMBOL, price(4000));
      const stream = `${scope.keyPrefix}stream:{${SYMBOL}}`;
      // Numbered like the bus's own entries: a `ticks` entry whose data is not a tick, and a foreign writer's entry.
      await redis.xadd(stream, '2-0', 'c', 'ticks', 't', String(START), 'd', JSON.stringify({ i: 2 }));
      await redis.xadd(stream, '3-0', 'source', 'another-app', 'payload', '{}');
      await redis.set(`${scope.keyPrefix}seq:{${SYMBOL}}`, '3');
      await bus.publish('ticks', SYMBOL, price(4001));

      await waitFor(() => got.events.some((e) => e.seq === 4), 'the event after the bad entries');
      assert.deepEqual(got.events.map((e: BusEvent) => e.seq), [1, 4], 'the bad entries are not delivered');
      const announced = gaps.flatMap((g) => Array.from({ length: g.to - g.from + 1 }, (_, i) => g.from + i));
      assert.deepEqual(announced, [2, 3], 'their seqs reach the subscriber as a gap, once each');
      const reports = () => lines.filter((l) => l.msg === 'bus: skipping an unreadable stream entry').map((l) => JSON.stringify(l['err']));
      const live = reports();
      assert.ok(live.some((r) => /entry 2-0 is not a ticks message/.test(r)), 'the live reader reports the entry off the ticks contract');
      assert.ok(live.some((r) => /entry 3-0 has no known channel/.test(r)), 'the live reader reports the foreign entry');
      assert.equal(live.length, 2, 'the live reader reads past each bad entry once (it does not read it again and again)');

      const replayed = await bus.replay(SYMBOL, 0);
      assert.deepEqual(replayed.events.map((e) => e.seq), [1, 4], 'a replay skips them too');
      assert.equal(reports().length, live.length + 2, 'and reports each of them');
    } finally {
      await bus.close();
      redis.disconnect();
      await scope.close();
    }
  });
});
