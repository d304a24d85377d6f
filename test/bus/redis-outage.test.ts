/**
 * The Redis bus through real Redis outages, on a private redis-server (its own port, stopped with
 * SIGKILL and started again EMPTY; never the machine's shared Redis): publishes wait in order and
 * continue the numbering, the seq floor in the database survives a Redis and a process that both
 * restarted, a full buffer and lost seqs reach readers as gaps, and an event whose reply was lost
 * is applied once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/clock.ts';
import { TasaError } from '../../src/errors.ts';
import { createRedisBus, type Bus, type BusEvent, type RedisBusOptions, type SeqGap } from '../../src/bus/index.ts';
import { RESERVE_BLOCK } from '../../src/bus/redis/seq-floor.ts';
import { busSeqFloors } from '../../src/store/bus-seq-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { databaseTargets } from '../support/test-db.ts';
import { anyData, captureLogger, Collector, range, sleep, START, type AnyDataBus } from './helpers.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { waitFor } from '../support/wait-for.ts';

const SYMBOL = 'USD/COP';
let redis: PrivateRedis;
let db: Db;
const buses: Bus[] = [];
const clock = new ManualClock(START);

before(async () => {
  redis = await startPrivateRedis();
  // PostgreSQL when TEST_DATABASE_URL is set (the last target), else PGlite.
  db = await (databaseTargets().at(-1) as { open: () => Promise<Db> }).open();
});
after(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await db.close();
  await redis.destroy();
});

let prefixes = 0;
async function open(o: Partial<RedisBusOptions> & { keyPrefix: string }, url = redis.url): Promise<AnyDataBus> {
  const bus = await createRedisBus({ url, clock, checkMessages: false, ...o });
  buses.push(bus);
  return anyData(bus);
}
const newPrefix = () => `outage-${++prefixes}:`;

/** A subscriber that records events and gaps in arrival order. */
class Watcher extends Collector {
  readonly gaps: SeqGap[] = [];
  readonly log: Array<number | string> = [];
  readonly onGap = (gap: SeqGap) => {
    this.gaps.push(gap);
    this.log.push(`gap ${gap.from}..${gap.to}`);
  };
  override readonly handler = (e: BusEvent) => {
    this.events.push(e);
    this.log.push(e.seq);
  };
}

async function watch(bus: Bus): Promise<Watcher> {
  const w = new Watcher();
  await bus.subscribe(SYMBOL, w.handler, { onGap: w.onGap });
  return w;
}

async function publishAll(bus: AnyDataBus, from: number, to: number): Promise<BusEvent[]> {
  return Promise.all(range(from, to).map((i) => bus.publish('ticks', SYMBOL, { i })));
}

describe('redis bus through real Redis outages (private redis-server)', () => {
  it('events published while Redis is down wait, in order, and continue the numbering after a restart that kept nothing', async () => {
    const keyPrefix = newPrefix();
    const publisher = await open({ keyPrefix });
    const reader = await watch(await open({ keyPrefix })); // another process: a gateway
    await publishAll(publisher, 1, 20);
    await reader.waitForCount(20);

    await redis.stop();
    let settled = 0;
    const waiting = range(21, 40).map((i) => publisher.publish('ticks', SYMBOL, { i }).finally(() => settled++));
    await sleep(500);
    assert.equal(settled, 0, 'no publish fails (or resolves) while Redis is down');
    assert.equal(publisher.backlog().pending, 20);
    assert.ok((publisher.backlog().oldestAt ?? 0) > 0);

    await redis.start(); // EMPTY: no counter, no stream
    const published = await Promise.all(waiting);
    assert.deepEqual(published.map((e) => e.seq), range(21, 40), 'the buffered events get the next seqs, in publish order');
    assert.deepEqual(published.map((e) => e.data.i), range(21, 40));
    assert.equal(publisher.backlog().pending, 0);
    await reader.waitForCount(40, 10_000);
    assert.deepEqual(reader.log, range(1, 40), 'the reader sees every seq once, with no gap');
  });

  it('with the floor in the database, a process that restarts after Redis restarted empty never reuses a seq, and readers are told of the skipped range', async () => {
    const keyPrefix = newPrefix();
    const floors = busSeqFloors(db, clock);
    const first = await open({ keyPrefix, seqFloors: floors });
    const gateway = await watch(await open({ keyPrefix, seqFloors: floors }));
    await publishAll(first, 1, 20);
    await gateway.waitForCount(20);
    await waitFor(() => ceilingAtLeast(floors, 20 + RESERVE_BLOCK / 2), 'the reserved floor in the database', 5_000, 10);
    const ceiling = await floors.load(SYMBOL);

    await redis.stop();
    await first.close(); // the publishing process dies too
    await redis.start();
    const second = await open({ keyPrefix, seqFloors: floors });
    const after = await publishAll(second, 1, 5);
    assert.deepEqual(after.map((e) => e.seq), range(ceiling + 1, ceiling + 5), 'continues after the persisted floor');

    await gateway.waitForCount(25, 10_000);
    assert.deepEqual(gateway.log, [...range(1, 20), `gap 21..${ceiling}`, ...range(ceiling + 1, ceiling + 5)]);
    assert.deepEqual(gateway.gaps[0]?.afterTime, START);
    await waitFor(() => ceilingAtLeast(floors, ceiling + 5 + RESERVE_BLOCK / 2), 'the floor reserved ahead again', 5_000, 10);
  });

  it('a full buffer refuses the excess clearly and counts it; the refused seqs reach readers as a gap', async () => {
    const keyPrefix = newPrefix();
    const { logger, lines } = captureLogger();
    const publisher = await open({ keyPrefix, publishBuffer: 5, logger });
    const reader = await watch(await open({ keyPrefix }));
    await publishAll(publisher, 1, 3);
    await reader.waitForCount(3);

    await redis.stop();
    const outcomes = range(4, 13).map((i) => publisher.publish('ticks', SYMBOL, { i }).then((e) => e.seq, (err: unknown) => err));
    const refused: unknown[] = await Promise.all(outcomes.slice(5));
    for (const err of refused) {
      assert.ok(err instanceof TasaError && /buffer is full \(5 events waiting for Redis\)/.test(err.message), String(err));
    }
    assert.deepEqual(publisher.backlog(), { pending: 5, dropped: 5, oldestAt: START });
    assert.ok(lines.some((l) => l.level >= 50 && /publish buffer is full/.test(l.msg)), 'logged as an error');

    await redis.start();
    assert.deepEqual(await Promise.all(outcomes.slice(0, 5)), range(4, 8));
    assert.equal((await publisher.publish('ticks', SYMBOL, { i: 14 })).seq, 14, 'the refused events hold seqs 9..13');
    await reader.waitForCount(9, 10_000);
    assert.deepEqual(reader.log, [...range(1, 8), 'gap 9..13', 14]);
    const late = new Watcher();
    // (Redis restarted empty: its stream starts at 4.)
    await publisher.subscribe(SYMBOL, late.handler, { since: 4, onGap: late.onGap });
    await late.waitForCount(5);
    assert.deepEqual(late.log, [...range(5, 8), 'gap 9..13', 14], 'a replay across the hole reports it too');
  });

  it('an event whose reply was lost (the connection died after Redis applied it) is applied once', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', redis.port);
    const keyPrefix = newPrefix();
    try {
      const publisher = await open({ keyPrefix }, `redis://127.0.0.1:${proxy.listenPort}/0`);
      await publishAll(publisher, 1, 10);
      proxy.muteReplies();
      const waiting = publishAll(publisher, 11, 20);
      const raw = new Redis(redis.url);
      try {
        // ioredis pipelines one batch at a time, so at least the first re-sent event was applied without a reply.
        await waitFor(async () => (await raw.xlen(`${keyPrefix}stream:{${SYMBOL}}`)) > 10, 'Redis to apply an event whose reply is lost', 5_000, 10);
        await proxy.cut();
        await sleep(300);
        await proxy.restore();
        const published = await waiting;
        assert.deepEqual(published.map((e) => e.seq), range(11, 20), 'each re-sent event gets the seq it was applied with');
        const entries = await raw.xrange(`${keyPrefix}stream:{${SYMBOL}}`, '-', '+');
        assert.deepEqual(entries.map(([id]) => id), range(1, 20).map((n) => `${n}-0`), 'no event appended twice');
        assert.equal((await publisher.publish('ticks', SYMBOL, { i: 21 })).seq, 21);
      } finally {
        raw.disconnect();
      }
    } finally {
      await proxy.stop();
    }
  });

  it('a reader cut off while its stream was trimmed past its cursor reports the trimmed range as a gap', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', redis.port);
    const keyPrefix = newPrefix();
    try {
      const publisher = await open({ keyPrefix, maxLen: 10 });
      const reader = await watch(await open({ keyPrefix }, `redis://127.0.0.1:${proxy.listenPort}/0`));
      await publishAll(publisher, 1, 5);
      await reader.waitForCount(5);
      await proxy.cut();
      for (let i = 6; i <= 1_005; i += 100) await publishAll(publisher, i, i + 99);
      await proxy.restore();
      await reader.waitForCount(5 + 10, 10_000);
      await waitFor(() => reader.events.at(-1)?.seq === 1_005, 'the last event', 10_000, 10);
      const [gap] = reader.gaps;
      assert.ok(gap, 'the trimmed events are reported');
      assert.equal(gap.from, 6);
      assert.deepEqual(reader.log, [...range(1, 5), `gap 6..${gap.to}`, ...range(gap.to + 1, 1_005)], 'every seq accounted for, in order');
    } finally {
      await proxy.stop();
    }
  });

  it('close() while Redis is down is prompt: it gives up after a moment, rejecting what waits, and logs how many were lost', async () => {
    const { logger, lines } = captureLogger();
    const publisher = anyData(await createRedisBus({ url: redis.url, clock, keyPrefix: newPrefix(), logger }));
    await publisher.subscribe(SYMBOL, () => undefined); // its reader's XREAD waits in ioredis while Redis is down
    await redis.stop();
    try {
      await sleep(300); // the reader's XREAD is now queued in ioredis for the reconnection
      const waiting = publisher.publish('ticks', SYMBOL, { i: 1 });
      const started = performance.now();
      await publisher.close();
      assert.ok(performance.now() - started < 5_000);
      await assert.rejects(waiting, (err) => err instanceof TasaError && /closed before Redis was reachable/.test(err.message));
      assert.ok(lines.some((l) => /closing with 1 events still waiting/.test(l.msg)));
    } finally {
      await redis.start();
    }
  });
});

async function ceilingAtLeast(floors: ReturnType<typeof busSeqFloors>, seq: number): Promise<boolean> {
  return (await floors.load(SYMBOL)) >= seq;
}


