/** The bus contract: the same suite runs against every implementation (see targets.ts). */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { TasaError } from '../../src/errors.ts';
import { ReplayWindowExceededError, type BusEvent } from '../../src/bus/index.ts';
import { captureLogger, Collector, MARKER, range, sleep, START, waitFor, type AnyDataBus } from './helpers.ts';
import type { BusScope, BusTarget, ScopeBusOptions } from './targets.ts';

const SYM = 'USD/COP';
const OTHER = 'USD/MXN';

/** Runs `body` with a fresh scope and bus, closing them whatever happens. */
async function withBus(target: BusTarget, body: (bus: AnyDataBus, scope: BusScope) => Promise<void>, opts?: ScopeBusOptions): Promise<void> {
  const scope = await target.scope();
  try {
    await body(await scope.open(opts), scope);
  } finally {
    await scope.close();
  }
}

async function publishMany(bus: AnyDataBus, symbol: string, n: number, first = 1): Promise<BusEvent[]> {
  return Promise.all(range(first, first + n - 1).map((i) => bus.publish('ticks', symbol, { i })));
}

/**
 * Proves that nothing more is on its way to the symbol's subscribers: publishes a marker and waits
 * for a fresh witness to receive it. Delivery is in order, so every earlier event had its chance.
 */
async function drain(bus: AnyDataBus, symbol: string): Promise<void> {
  const witness = new Collector();
  const stop = await bus.subscribe(symbol, witness.handler, { channels: ['status'] });
  await bus.publish('status', symbol, MARKER);
  await witness.waitForCount(1);
  await stop();
}

export function busContract(target: BusTarget): void {
  describe(`bus contract: ${target.name}`, () => {
    it('numbers events 1, 2, 3... per symbol, stamped with the clock', async () => {
      await withBus(target, async (bus, scope) => {
        assert.equal(await bus.lastSeq(SYM), 0);
        const a1 = await bus.publish('ticks', SYM, { price: 4100.5 });
        await scope.clock.advance(1_000);
        const a2 = await bus.publish('bars', SYM, { close: 4101 });
        const b1 = await bus.publish('ticks', OTHER, { price: 17.2 });
        assert.deepEqual(a1, { seq: 1, channel: 'ticks', symbol: SYM, time: START, data: { price: 4100.5 } });
        assert.deepEqual([a2.seq, a2.time, b1.seq], [2, START + 1_000, 1]);
        assert.equal(await bus.lastSeq(SYM), 2);
        assert.equal(await bus.lastSeq(OTHER), 1);
        assert.equal(bus.kind, target.name);
      });
    });

    it('delivers in publish order, each event once', async () => {
      await withBus(target, async (bus) => {
        const got = new Collector();
        await bus.subscribe(SYM, got.handler);
        const published = await publishMany(bus, SYM, 500);
        assert.deepEqual(published.map((e) => e.seq), range(1, 500), 'seqs follow the order of the publish calls');
        await got.waitForCount(500);
        assert.deepEqual(got.seqs(), range(1, 500));
        assert.deepEqual(got.data(), range(1, 500).map((i) => ({ i })));
        assert.deepEqual(got.events[0], published[0]);
      });
    });

    it('with a reachable bus nothing waits in the publish buffer, and no gap is reported', async () => {
      await withBus(target, async (bus) => {
        const got = new Collector();
        const gaps: unknown[] = [];
        await bus.subscribe(SYM, got.handler, { onGap: (g) => gaps.push(g) });
        await publishMany(bus, SYM, 50);
        await got.waitForCount(50);
        assert.deepEqual(bus.backlog(), { pending: 0, dropped: 0, oldestAt: null });
        assert.deepEqual(gaps, []);
      });
    });

    it('a subscription without since starts after the latest event', async () => {
      await withBus(target, async (bus) => {
        await publishMany(bus, SYM, 3);
        const got = new Collector();
        await bus.subscribe(SYM, got.handler);
        await publishMany(bus, SYM, 2, 4);
        await got.waitForCount(2);
        await drain(bus, SYM);
        assert.deepEqual(got.seqs(), [4, 5]);
      });
    });

    it('subscribe with since replays, then goes live, without gap or duplicate', async () => {
      await withBus(target, async (bus) => {
        await publishMany(bus, SYM, 20);
        const got = new Collector();
        await bus.subscribe(SYM, got.handler, { since: 5 });
        await got.waitForCount(15);
        await publishMany(bus, SYM, 10, 21);
        await got.waitForCount(25);
        await drain(bus, SYM);
        assert.deepEqual(got.seqs(), range(6, 30));
      });
    });

    it('events published while the replay is in flight are neither lost nor repeated', async () => {
      await withBus(target, async (bus) => {
        await publishMany(bus, SYM, 2_500); // several replay pages on Redis
        const got = new Collector();
        const subscribed = bus.subscribe(SYM, got.handler, { since: 0 });
        const during = publishMany(bus, SYM, 300, 2_501);
        await Promise.all([subscribed, during]);
        await publishMany(bus, SYM, 10, 2_801);
        await got.waitForCount(2_810);
        await drain(bus, SYM);
        assert.deepEqual(got.seqs(), range(1, 2_810));
        assert.deepEqual(got.data(), range(1, 2_810).map((i) => ({ i })));
      });
    });

    it('filters by channel, in seq order', async () => {
      await withBus(target, async (bus) => {
        const bars = new Collector();
        await bus.subscribe(SYM, bars.handler, { channels: ['bars', 'alerts'] });
        for (const channel of ['ticks', 'bars', 'status', 'ticks', 'alerts', 'predictions', 'bars'] as const) {
          await bus.publish(channel, SYM, { channel });
        }
        await bars.waitForCount(3);
        await drain(bus, SYM);
        assert.deepEqual(bars.events.map((e) => [e.seq, e.channel]), [[2, 'bars'], [5, 'alerts'], [7, 'bars']]);
      });
    });

    it("'*' receives every symbol from now on, including symbols first seen later", async () => {
      await withBus(target, async (bus) => {
        await bus.publish('ticks', SYM, { before: true });
        const all = new Collector();
        await bus.subscribe('*', all.handler);
        await bus.publish('ticks', SYM, { n: 1 });
        await bus.publish('ticks', OTHER, { n: 2 });
        await bus.publish('bars', 'EUR/USD', { n: 3 }); // a symbol nobody has published before
        await bus.publish('ticks', SYM, { n: 4 });
        await all.waitForCount(4);
        const bySymbol = (s: string) => all.events.filter((e) => e.symbol === s).map((e) => e.seq);
        assert.deepEqual(bySymbol(SYM), [2, 3]);
        assert.deepEqual(bySymbol(OTHER), [1]);
        assert.deepEqual(bySymbol('EUR/USD'), [1]);
      });
    });

    it('replay returns the events after since, up to limit, with complete=true inside the window', async () => {
      await withBus(target, async (bus) => {
        await publishMany(bus, SYM, 30);
        const page = await bus.replay(SYM, 10, 5);
        assert.deepEqual(page.events.map((e) => e.seq), [11, 12, 13, 14, 15]);
        assert.deepEqual(page.events[0]?.data, { i: 11 });
        assert.equal(page.complete, true);
        const rest = await bus.replay(SYM, 15);
        assert.deepEqual(rest.events.map((e) => e.seq), range(16, 30));
        assert.deepEqual(await bus.replay(SYM, 30), { events: [], complete: true });
        assert.deepEqual(await bus.replay('NEW/SYM', 0), { events: [], complete: true });
        assert.equal((await bus.replay(SYM, 31)).complete, false, 'a since ahead of the stream cannot be served');
      });
    });

    it('beyond the replay window: replay says complete=false and subscribe refuses', async () => {
      // Redis trims approximately (whole nodes of up to 100 entries), hence 400 events for a window of 10.
      await withBus(
        target,
        async (bus) => {
          await publishMany(bus, SYM, 400);
          const stale = await bus.replay(SYM, 0, 5);
          assert.equal(stale.complete, false);
          assert.ok((stale.events[0]?.seq ?? 0) > 1);
          const recent = await bus.replay(SYM, 395);
          assert.deepEqual([recent.complete, recent.events.map((e) => e.seq)], [true, [396, 397, 398, 399, 400]]);
          await assert.rejects(bus.subscribe(SYM, () => undefined, { since: 0 }), (err) => err instanceof ReplayWindowExceededError && err.code === 'not_found');
          // The refused subscription is gone: it does not receive anything later.
          const live = new Collector();
          await bus.subscribe(SYM, live.handler, { since: 398 });
          await live.waitForCount(2);
          assert.deepEqual(live.seqs(), [399, 400]);
        },
        { window: 10 },
      );
    });

    it('latest cache: set, overwrite, read, and expiry after the TTL', async () => {
      await withBus(target, async (bus, scope) => {
        assert.equal(await bus.getLatest('price:USD/COP'), null);
        await bus.setLatest('price:USD/COP', { price: 4100, at: 1 }, 200);
        await bus.setLatest('price:USD/COP', { price: 4101, at: 2 }, 200);
        await bus.setLatest('stats:USD/COP', { high: 4120 }, 60_000);
        assert.deepEqual(await bus.getLatest('price:USD/COP'), { price: 4101, at: 2 });
        await scope.elapse(300);
        assert.equal(await bus.getLatest('price:USD/COP'), null, 'expired');
        assert.deepEqual(await bus.getLatest('stats:USD/COP'), { high: 4120 });
      });
    });

    it('broadcast reaches the handlers of its topic only, until they unsubscribe', async () => {
      await withBus(target, async (bus) => {
        const status: unknown[] = [];
        const other: unknown[] = [];
        const stop = await bus.onBroadcast('status', (d) => status.push(d));
        await bus.onBroadcast('lifecycle', (d) => other.push(d));
        await bus.broadcast('status', { ingest: 'up' });
        await waitFor(() => status.length === 1, 'the broadcast');
        await stop();
        await bus.broadcast('status', { ingest: 'down' });
        await bus.broadcast('lifecycle', { marker: true });
        await waitFor(() => other.length === 1, 'the marker on another topic');
        assert.deepEqual(status, [{ ingest: 'up' }]);
      });
    });

    it('unsubscribe stops delivery', async () => {
      await withBus(target, async (bus) => {
        const got = new Collector();
        const stop = await bus.subscribe(SYM, got.handler);
        await bus.publish('ticks', SYM, { i: 1 });
        await got.waitForCount(1);
        await stop();
        await bus.publish('ticks', SYM, { i: 2 });
        await drain(bus, SYM);
        assert.deepEqual(got.seqs(), [1]);
      });
    });

    it('a throwing handler neither disturbs other subscribers nor loses its later events', async () => {
      const { logger, lines } = captureLogger();
      await withBus(
        target,
        async (bus) => {
          const calls: number[] = [];
          const ok = new Collector();
          await bus.subscribe(SYM, (e) => {
            calls.push(e.seq);
            throw new Error('handler bug');
          });
          await bus.subscribe(SYM, () => Promise.reject(new Error('async handler bug')));
          await bus.subscribe(SYM, ok.handler);
          await publishMany(bus, SYM, 3);
          await ok.waitForCount(3);
          await waitFor(() => lines.filter((l) => l.level === 50).length === 6, 'six error log lines');
          assert.deepEqual(calls, [1, 2, 3]);
        },
        { logger },
      );
    });

    it('rejects bad arguments with TasaErrors', async () => {
      await withBus(target, async (bus) => {
        const badArgument = (err: unknown) => err instanceof TasaError && err.code === 'bad_argument';
        await assert.rejects(bus.publish('quotes' as 'ticks', SYM, {}), badArgument);
        await assert.rejects(bus.publish('ticks', '*', {}), badArgument);
        await assert.rejects(bus.publish('ticks', SYM, undefined), badArgument);
        await assert.rejects(bus.subscribe('*', () => undefined, { since: 3 }), badArgument);
        await assert.rejects(bus.subscribe(SYM, () => undefined, { since: -1 }), badArgument);
        await assert.rejects(bus.replay(SYM, 0, 0), badArgument);
        await assert.rejects(bus.setLatest('k', 1, 0), badArgument);
        assert.equal(await bus.lastSeq(SYM), 0, 'nothing was published');
      });
    });

    it('close() is prompt with live subscriptions, and the bus refuses work afterwards', async () => {
      const scope = await target.scope();
      const bus = await scope.open();
      await bus.subscribe(SYM, () => undefined);
      await bus.subscribe('*', () => undefined);
      await bus.onBroadcast('status', () => undefined);
      const started = performance.now();
      await bus.close();
      await bus.close();
      assert.ok(performance.now() - started < 1_000, 'close took under a second');
      await assert.rejects(bus.publish('ticks', SYM, {}), /closed/);
      await assert.rejects(bus.lastSeq(SYM), /closed/);
      await scope.close();
    });

    it('throughput (printed, not asserted)', async (t: TestContext) => {
      await withBus(target, async (bus) => {
        const n = 20_000;
        const got = new Collector();
        await bus.subscribe(SYM, got.handler);
        const started = performance.now();
        for (let i = 0; i < n; i += 1_000) await publishMany(bus, SYM, 1_000, i + 1);
        const published = performance.now();
        await got.waitForCount(n, 60_000);
        const delivered = performance.now();
        const sequentialN = 2_000;
        const seqStart = performance.now();
        for (let i = 0; i < sequentialN; i++) await bus.publish('ticks', OTHER, { i });
        const sequential = performance.now() - seqStart;
        const rate = (count: number, ms: number) => `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`;
        t.diagnostic(
          `${target.name}: publish ${rate(n, published - started)} (1,000 in flight), ` +
            `delivered end-to-end ${rate(n, delivered - started)}, sequential publish ${rate(sequentialN, sequential)} (one awaited at a time)`,
        );
        await sleep(0);
      });
    });
  });
}
