import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { createBus, createMemoryBus } from '../../src/bus/index.ts';
import { busContract } from './contract.ts';
import { anyData, Collector, range, START } from './helpers.ts';
import { memoryTarget } from './targets.ts';

busContract(memoryTarget);

describe('memory bus', () => {
  it('keeps exactly `replayWindow` events per symbol', async () => {
    const bus = anyData(createMemoryBus({ clock: new ManualClock(START), replayWindow: 5 }));
    for (const i of range(1, 8)) await bus.publish('ticks', 'USD/COP', { i });
    assert.equal((await bus.replay('USD/COP', 2)).complete, false);
    const kept = await bus.replay('USD/COP', 3);
    assert.deepEqual([kept.complete, kept.events.map((e) => e.seq)], [true, [4, 5, 6, 7, 8]]);
    await bus.close();
  });

  it('expires cached values on the injected clock, exactly at the TTL', async () => {
    const clock = new ManualClock(START);
    const bus = createMemoryBus({ clock });
    await bus.setLatest('price', 4100, 1_000);
    await clock.advance(999);
    assert.equal(await bus.getLatest('price'), 4100);
    await clock.advance(1);
    assert.equal(await bus.getLatest('price'), null);
    await bus.close();
  });

  it('delivers after publish returns, never from inside it', async () => {
    const bus = anyData(createMemoryBus({ clock: new ManualClock(START) }));
    const got = new Collector();
    await bus.subscribe('USD/COP', got.handler);
    const published = bus.publish('ticks', 'USD/COP', { i: 1 });
    assert.equal(got.events.length, 0);
    await published;
    await Promise.resolve();
    assert.equal(got.events.length, 1);
    await bus.close();
  });

  it('hands subscribers a copy: the publisher may reuse its object', async () => {
    const bus = anyData(createMemoryBus({ clock: new ManualClock(START) }));
    const got = new Collector();
    await bus.subscribe('USD/COP', got.handler);
    const tick = { price: 4100 };
    await bus.publish('ticks', 'USD/COP', tick);
    tick.price = 0;
    await got.waitForCount(1);
    assert.deepEqual(got.events[0]?.data, { price: 4100 });
    await bus.close();
  });

  it('createBus picks the memory bus without a Redis URL', async () => {
    const bus = await createBus({ clock: new ManualClock(START) });
    assert.equal(bus.kind, 'memory');
    const empty = await createBus({ clock: new ManualClock(START), redisUrl: '' });
    assert.equal(empty.kind, 'memory');
    await Promise.all([bus.close(), empty.close()]);
  });
});
