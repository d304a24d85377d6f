/**
 * The WebSocket gateway over real sockets: subscriptions, resume with `since`, the replay window,
 * protocol errors, heartbeats, the slow-client policy, fan-out (one bus subscription per symbol),
 * metrics, auth, and two gateways sharing one Redis. The bus-dependent cases run on the memory
 * bus and, with TEST_REDIS_URL, on Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createRedisBus, type Bus } from '../../src/bus/index.ts';
import { CalendarSet, MarketCalendar } from '../../src/domain/calendar.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';
import { gatewayHub, HEARTBEAT_INTERVAL_MS, STALL_LIMIT_MS } from '../../src/server/ws/fanout.ts';
import { MAX_BAD_MESSAGES, refetchUrl } from '../../src/server/ws/connection.ts';
import type { Db } from '../../src/store/db.ts';
import { waitFor, type AnyDataBus } from '../bus/helpers.ts';
import { cleanupRedis, memoryTarget, redisScope, redisTarget, redisTestUrl, type BusTarget } from '../bus/targets.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { range, WsTestClient, wsUrl, type Msg } from './ws-test-client.ts';

const SYMBOL = 'USD/COP';
let db: Db;
before(async () => {
  db = await (databaseTargets()[0] as { open: () => Promise<Db> }).open();
});
after(async () => {
  await db.close();
  await cleanupRedis();
});

interface World {
  server: TestServer;
  bus: AnyDataBus;
  open: (path?: string) => Promise<WsTestClient>;
}

interface Gateway extends World {
  /** Closes the clients opened so far (checking that each message they got matched the schema). */
  closeClients(): Promise<void>;
  close(): Promise<void>;
}

/** A listening server on a bus of the target; `open` connects clients that closeClients() ends. */
async function startGateway(target: BusTarget, opts: { window?: number; env?: Record<string, string> }): Promise<Gateway> {
  const scope = await target.scope();
  const bus = await scope.open({ window: opts.window });
  const server = await startTestServer({ db, bus, clock: scope.clock, listen: true, env: opts.env }).catch(async (err: unknown) => {
    await scope.close();
    throw err;
  });
  let clients: WsTestClient[] = [];
  const closeClients = async () => {
    const open = clients;
    clients = [];
    await Promise.all(open.map((c) => c.close()));
    for (const c of open) assert.deepEqual(c.invalid, [], 'every server message matches the protocol schema');
  };
  return {
    server,
    bus,
    open: async (path = '/ws') => {
      const c = await WsTestClient.open(wsUrl(server.url, path));
      clients.push(c);
      return c;
    },
    closeClients,
    close: async () => {
      try {
        await closeClients();
      } finally {
        await server.close();
        await scope.close();
      }
    },
  };
}

/** One gateway for one test. */
async function withGateway(target: BusTarget, opts: { window?: number; env?: Record<string, string> }, fn: (w: World) => Promise<void>): Promise<void> {
  const gateway = await startGateway(target, opts);
  try {
    await fn(gateway);
  } finally {
    await gateway.close();
  }
}

/** One gateway shared by the tests of a describe block (each test's clients are closed after it). */
function sharedGateway(target: BusTarget, opts: { env?: Record<string, string> }): (fn: (w: World) => Promise<void>) => Promise<void> {
  let gateway: Gateway | null = null;
  before(async () => {
    gateway = await startGateway(target, opts);
  });
  after(async () => {
    await gateway?.close();
  });
  return async (fn) => {
    if (gateway === null) throw new Error('the shared gateway did not start');
    try {
      await fn(gateway);
    } finally {
      await gateway.closeClients();
    }
  };
}

const tick = (price: number) => ({ symbol: SYMBOL, price, bid: price - 1, ask: price + 1, spread: 2, timestamp: '2025-03-03T13:00:01.000Z', receivedAt: '2025-03-03T13:00:01.050Z', source: 'test' });
const bar = (time: string, close: number, final: boolean, revision = 1) => ({ time, open: 4000, high: 4010, low: 3990, close, tickCount: 3, revision, final, source: 'test' });

/** Publishes `n` ticks; returns the last seq. */
async function publishTicks(bus: Bus, n: number, from = 4000): Promise<number> {
  let last = 0;
  for (let i = 0; i < n; i++) last = (await bus.publish('ticks', SYMBOL, tick(from + i))).seq;
  return last;
}

const busTargets: BusTarget[] = [memoryTarget];
const redis = redisTarget();
if (redis) busTargets.push(redis);

for (const target of busTargets) {
  describe(`ws gateway on the ${target.name} bus`, () => {
    it('subscribe: ticks and bars arrive as market_data and bar with increasing seqs; unsubscribe stops them', async () => {
      await withGateway(target, {}, async ({ bus, open }) => {
        const c = await open();
        const status = await c.next((m) => m.type === 'market_status', 'market_status at connect');
        assert.equal((status.data as { market_open: boolean }).market_open, true);
        const ack = await c.subscribe({ symbols: ['USDCOP'], channels: ['ticks', 'bars'] });
        assert.deepEqual(ack.symbols, [SYMBOL]);
        assert.deepEqual(ack.channels, ['ticks', 'bars']);
        await bus.publish('ticks', SYMBOL, tick(4000));
        await bus.publish('bars', SYMBOL, bar('2025-03-03T13:00:00.000Z', 4001, false));
        await bus.publish('alerts', SYMBOL, { kind: 'not subscribed' });
        await bus.publish('bars', SYMBOL, bar('2025-03-03T13:00:00.000Z', 4002, true));
        await bus.publish('ticks', SYMBOL, tick(4003));
        await c.waitForSeq(5);
        assert.deepEqual(c.seqs(), [1, 2, 4, 5], 'the alerts channel was not subscribed');
        const [md, , final] = c.data();
        assert.deepEqual(md, { type: 'market_data', symbol: SYMBOL, seq: 1, timestamp: '2025-03-03T13:00:01.000Z', data: { price: 4000, bid: 3999, ask: 4001, spread: 2 } });
        assert.equal(final?.type, 'bar');
        assert.deepEqual(final?.data, { time: '2025-03-03T13:00:00.000Z', open: 4000, high: 4010, low: 3990, close: 4002, revision: 1, final: true, empty: false, partial: false, coverage: null, simulated: false });

        c.send({ action: 'unsubscribe', symbols: [SYMBOL] });
        await c.next((m) => m.type === 'unsubscribed', 'the unsubscribed ack');
        await bus.publish('ticks', SYMBOL, tick(4004));
        c.send({ action: 'heartbeat' });
        await c.next((m) => m.type === 'heartbeat', 'the heartbeat reply');
        assert.equal(c.seqs().at(-1), 5, 'nothing after unsubscribing');
      });
    });

    it('resume with since: the missed events exactly once, then live, while publishing goes on', async () => {
      await withGateway(target, {}, async ({ bus, open }) => {
        await publishTicks(bus, 5);
        const c = await open();
        c.send({ action: 'subscribe', symbols: [SYMBOL], since: 2 });
        // Publish while the replay runs, so that replayed and live events overlap.
        const last = await publishTicks(bus, 30, 5000);
        await c.waitForSeq(last);
        await publishTicks(bus, 1, 6000);
        await c.waitForSeq(last + 1);
        assert.deepEqual(c.seqs(), range(3, last + 1), 'every event after since, once, in order');
        assert.ok(c.messages.findIndex((m) => m.type === 'subscribed') < c.messages.findIndex((m) => m.seq === 3), 'the ack comes before the replay');
      });
    });

    it('since older than the replay window: replay_unavailable with a refetch URL, then live from now', async () => {
      await withGateway(target, { window: 5 }, async ({ bus, open }) => {
        // Redis trims streams by whole nodes (100 entries by default), so publish well past them.
        const last = await publishTicks(bus, 250);
        const c = await open();
        c.send({ action: 'subscribe', symbols: [SYMBOL], since: 1 });
        const err = await c.next((m) => m.type === 'error', 'replay_unavailable');
        assert.equal(err.code, 'replay_unavailable');
        assert.equal(err.refetch, '/api/market/historical?symbol=USD%2FCOP&from=2025-03-03&to=2025-03-03');
        await bus.publish('ticks', SYMBOL, tick(1));
        await c.waitForSeq(last + 1);
        assert.deepEqual(c.seqs(), [last + 1], 'nothing replayed, live from now');
      });
    });

    it('/ws/{symbol}?since= subscribes to every channel of the symbol at connect', async () => {
      await withGateway(target, {}, async ({ bus, open }) => {
        await bus.publish('ticks', SYMBOL, tick(4000));
        await bus.publish('alerts', SYMBOL, { kind: 'price_move', message: 'moved' });
        const c = await open('/ws/USD%2FCOP?since=0');
        await bus.publish('predictions', SYMBOL, { action: 'hold' });
        await bus.publish('status', SYMBOL, { kind: 'lifecycle', state: 'live' });
        await c.waitForSeq(4);
        assert.deepEqual(
          c.data().map((m) => [m.seq, m.type]),
          [
            [1, 'market_data'],
            [2, 'alert'],
            [3, 'prediction'],
            [4, 'market_status'],
          ],
        );
        const status = c.data()[3] as Msg;
        assert.deepEqual((status.data as { event: unknown }).event, { kind: 'lifecycle', state: 'live' });
        assert.equal((status.data as { market_open: boolean }).market_open, true);
      });
    });
  });
}

describe('ws gateway protocol', () => {
  const withShared = sharedGateway(memoryTarget, {});
  it('bad JSON, unknown actions, bad messages and unknown symbols get an error; the connection stays open', async () => {
    await withShared(async ({ open }) => {
      const c = await open();
      c.send('{not json');
      assert.equal((await c.next((m) => m.type === 'error', 'bad_json')).code, 'bad_json');
      c.send({ action: 'dance' });
      assert.equal((await c.next((m) => m.type === 'error', 'unknown_action')).code, 'unknown_action');
      c.send({ action: 'subscribe', symbols: [] });
      assert.equal((await c.next((m) => m.type === 'error', 'bad_message')).code, 'bad_message');
      c.send({ action: 'subscribe', symbols: [SYMBOL], channels: ['gossip'] });
      assert.equal((await c.next((m) => m.type === 'error', 'bad channel')).code, 'bad_message');
      c.send({ action: 'subscribe', symbols: ['EUR/USD'] });
      const badSymbol = await c.next((m) => m.type === 'error', 'bad_symbol');
      assert.equal(badSymbol.code, 'bad_symbol');
      assert.match(String(badSymbol['message']), /EUR\/USD/);
      c.send({ action: 'heartbeat' });
      await c.next((m) => m.type === 'heartbeat', 'still served after errors');
      assert.equal(c.ws.readyState, c.ws.OPEN);
    });
  });

  it(`after ${MAX_BAD_MESSAGES} bad messages the connection is closed with 1008`, async () => {
    await withShared(async ({ open }) => {
      const c = await open();
      for (let i = 0; i < MAX_BAD_MESSAGES; i++) c.send('nope');
      const closed = await c.closed;
      assert.equal(closed.code, 1008);
      assert.equal(c.messages.filter((m) => m.code === 'bad_json').length, MAX_BAD_MESSAGES);
      assert.ok(c.messages.some((m) => m.code === 'too_many_errors'));
    });
  });

  it('an unknown symbol in /ws/{symbol} is refused before the upgrade with 404', async () => {
    await withShared(async ({ server }) => {
      await assert.rejects(WsTestClient.open(wsUrl(server.url, '/ws/EURUSD')), /handshake refused: 404/);
    });
  });

  it('messages of every frame size (7-bit, 16-bit and 64-bit lengths) arrive intact', async () => {
    await withShared(async ({ bus, open }) => {
      const c = await open();
      await c.subscribe({ symbols: [SYMBOL], channels: ['alerts'] });
      const texts = ['a', 'b'.repeat(1_000), 'c'.repeat(70_000)];
      let last = 0;
      for (const text of texts) last = (await bus.publish('alerts', SYMBOL, { text })).seq;
      await c.waitForSeq(last);
      assert.deepEqual(
        c.data().map((m) => (m.data as { text: string }).text),
        texts,
      );
    });
  });

  it('the server sends a heartbeat every 15 s of its clock', async () => {
    await withShared(async ({ server, open }) => {
      const c = await open();
      await c.next((m) => m.type === 'market_status', 'greeting');
      await server.clock.advance(HEARTBEAT_INTERVAL_MS);
      const first = await c.next((m) => m.type === 'heartbeat', 'first heartbeat');
      await server.clock.advance(HEARTBEAT_INTERVAL_MS);
      const second = await c.next((m) => m.type === 'heartbeat', 'second heartbeat');
      assert.equal(Date.parse(String(second['timestamp'])) - Date.parse(String(first['timestamp'])), HEARTBEAT_INTERVAL_MS);
    });
  });

  it('market_status is pushed to every client when the session closes', async () => {
    await withShared(async ({ server, open }) => {
      const c = await open();
      const greeting = await c.next((m) => m.type === 'market_status', 'greeting');
      const close = Date.parse(String((greeting.data as { next_close: string }).next_close));
      await server.clock.advanceTo(close);
      const after = await c.next((m) => m.type === 'market_status', 'status at the close');
      assert.equal((after.data as { market_open: boolean }).market_open, false);
    });
  });
});

describe('ws gateway fan-out and metrics', () => {
  it('one bus subscription per symbol however many clients; every client gets the same seqs', async () => {
    await withGateway(memoryTarget, {}, async ({ server, open }) => {
      let subscribeCalls = 0;
      const bus = server.deps.bus;
      const original = bus.subscribe.bind(bus);
      bus.subscribe = (...args) => {
        subscribeCalls++;
        return original(...args);
      };
      const clients = await Promise.all(range(1, 40).map(() => open()));
      await Promise.all(clients.map((c) => c.subscribe({ symbols: [SYMBOL] })));
      assert.equal(subscribeCalls, 1);
      assert.deepEqual(gatewayHub(server.app, server.deps).feedSymbols, [SYMBOL]);
      assert.equal(await server.deps.metrics.registry.getSingleMetricAsString('tasa_ws_clients').then(gaugeValue), 40);
      const last = await publishTicks(bus, 3);
      await Promise.all(clients.map((c) => c.waitForSeq(last)));
      for (const c of clients) assert.deepEqual(c.seqs(), [1, 2, 3]);
      await Promise.all(clients.map((c) => c.close()));
      await waitFor(() => gatewayHub(server.app, server.deps).feedSymbols.length === 0, 'the feed to close with its last client');
      assert.equal(await server.deps.metrics.registry.getSingleMetricAsString('tasa_ws_clients').then(gaugeValue), 0);
    });
  });

  it('counts sent messages by type and observes bar close -> client for final bars', async () => {
    await withGateway(memoryTarget, {}, async ({ server, bus, open }) => {
      const c = await open();
      await c.subscribe({ symbols: [SYMBOL] });
      // The 13:00Z bar closes at 13:05Z; the clock stands at 13:05:02Z when it is sent.
      await server.clock.advanceTo(Date.parse('2025-03-03T13:05:02Z'));
      await bus.publish('bars', SYMBOL, bar('2025-03-03T13:00:00.000Z', 4001, true));
      await bus.publish('bars', SYMBOL, bar('2025-03-03T13:05:00.000Z', 4001, false));
      await c.waitForSeq(2);
      await nextTurn();
      const metrics = server.deps.metrics.registry;
      const sent = await metrics.getSingleMetricAsString('tasa_ws_messages_sent_total');
      assert.match(sent, /tasa_ws_messages_sent_total\{type="bar"\} 2/);
      assert.match(sent, /tasa_ws_messages_sent_total\{type="subscribed"\} 1/);
      const latency = await metrics.getSingleMetricAsString('tasa_bar_close_to_client_seconds');
      assert.match(latency, /tasa_bar_close_to_client_seconds_count 1$/m, 'only the final bar');
      assert.match(latency, /tasa_bar_close_to_client_seconds_sum 2$/m);
    });
  });

  it('with TASA_AUTH=all the handshake needs a token (?token= works for browsers)', async () => {
    await withGateway(memoryTarget, { env: { TASA_AUTH: 'all' } }, async ({ server, open }) => {
      await assert.rejects(WsTestClient.open(wsUrl(server.url, '/ws')), /handshake refused: 401/);
      const token = await server.token('reader');
      const c = await open(`/ws?token=${token}`);
      await c.next((m) => m.type === 'market_status', 'greeting');
      const viaHeader = await WsTestClient.open(wsUrl(server.url, '/ws'), { 'X-API-Key': token });
      await viaHeader.next((m) => m.type === 'market_status', 'greeting');
      await viaHeader.close();
    });
  });
});

describe('ws gateway slow clients', () => {
  const BOUND = 64 * 1024;
  const withShared = sharedGateway(memoryTarget, { env: { TASA_WS_MAX_BUFFER_BYTES: String(BOUND) } });
  const bigAlert = (i: number) => ({ kind: 'filler', i, text: 'x'.repeat(20_000) });

  /** Publishes big alerts, one per turn, with `fast` keeping up, until the hub holds `slow` back. */
  async function congest(server: TestServer, bus: AnyDataBus, fast: WsTestClient): Promise<void> {
    const hub = gatewayHub(server.app, server.deps);
    for (let i = 0; hub.congestedCount === 0; i++) {
      assert.ok(i < 2_000, 'the paused client never congested');
      const e = await bus.publish('alerts', SYMBOL, bigAlert(i));
      await fast.waitForSeq(e.seq);
    }
    assert.equal(hub.congestedCount, 1, 'only the paused client is held back');
  }

  it('a paused client gets market_data conflated and every final bar, while a normal client gets everything at once', async () => {
    await withShared(async ({ server, bus, open }) => {
      const [fast, slow] = [await open(), await open()];
      await fast.subscribe({ symbols: [SYMBOL] });
      await slow.subscribe({ symbols: [SYMBOL] });
      const first = (await bus.lastSeq(SYMBOL)) + 1;
      slow.pauseReading();
      await congest(server, bus, fast);
      const finals: string[] = [];
      let last = 0;
      for (let i = 0; i < 100; i++) {
        const time = new Date(Date.parse('2025-03-03T13:00:00Z') + Math.floor(i / 5) * 300_000).toISOString();
        await bus.publish('ticks', SYMBOL, tick(4000 + i));
        last = (await bus.publish('bars', SYMBOL, bar(time, 4000 + i, i % 5 === 4))).seq;
        if (i % 5 === 4) finals.push(time);
        await fast.waitForSeq(last); // the normal client is served while the paused one is held back
      }
      assert.deepEqual(fast.seqs(), range(first, last), 'the normal client got every event');

      slow.resumeReading();
      await slow.waitForSeq(last);
      const got = slow.data();
      assert.ok(got.every((m, i) => i === 0 || (m.seq as number) > (got[i - 1]?.seq as number)), 'seqs increase');
      assert.ok(slow.seqs('market_data').length < fast.seqs('market_data').length, 'market_data was conflated');
      assert.deepEqual((got.filter((m) => m.type === 'market_data').at(-1)?.data as { price: number }).price, 4099, 'the latest price arrives');
      const slowFinals = got.filter((m) => m.type === 'bar' && (m.data as { final: boolean }).final).map((m) => (m.data as { time: string }).time);
      assert.deepEqual(slowFinals.slice(-finals.length), finals, 'every final bar arrives');
      assert.ok(!slow.messages.some((m) => m.code === 'slow_consumer'), 'nothing had to be dropped');
      const dropped = await server.deps.metrics.registry.getSingleMetricAsString('tasa_ws_messages_dropped_total');
      assert.match(dropped, /reason="conflated"/);
    });
  });

  it('when even the conflated backlog overflows: a slow_consumer notice with resume_since, then resume with since gets it all', async () => {
    await withShared(async ({ server, bus, open }) => {
      const [fast, slow] = [await open(), await open()];
      await fast.subscribe({ symbols: [SYMBOL] });
      await slow.subscribe({ symbols: [SYMBOL] });
      slow.pauseReading();
      await congest(server, bus, fast);
      let last = 0;
      for (let i = 0; i < 10; i++) {
        await bus.publish('bars', SYMBOL, bar(`2025-03-03T13:${String(i * 5).padStart(2, '0')}:00.000Z`, 4000 + i, true));
        last = (await bus.publish('alerts', SYMBOL, bigAlert(i))).seq;
        await fast.waitForSeq(last);
      }
      slow.resumeReading();
      const notice = await slow.next((m) => m.code === 'slow_consumer', 'the slow_consumer notice');
      assert.equal(notice.symbol, SYMBOL);
      const resumeSince = notice.resume_since as number;
      assert.ok(resumeSince > 0 && resumeSince < last);
      const gap = slow.messages[slow.messages.indexOf(notice) - 1];
      assert.equal(gap?.type, 'gap', 'a gap frame for the dropped seqs comes just before the notice');
      assert.equal(gap['from'], resumeSince + 1);
      assert.ok((gap['to'] as number) > resumeSince && (gap['to'] as number) <= last, `the gap ends at the last dropped seq (${String(gap['to'])})`);
      assert.match(String(gap['refetch']), /^\/api\/market\/historical\?symbol=USD%2FCOP&from=\d{4}-\d{2}-\d{2}&to=\d{4}-\d{2}-\d{2}$/);
      await publishTicks(bus, 1); // suspended: not sent until the client subscribes again
      slow.send({ action: 'subscribe', symbols: [SYMBOL], since: resumeSince });
      const end = await publishTicks(bus, 1, 5000);
      await slow.waitForSeq(end);
      const afterNotice = slow.messages.slice(slow.messages.indexOf(notice) + 1).filter((m) => m.seq !== undefined);
      assert.deepEqual(
        afterNotice.map((m) => m.seq),
        range(resumeSince + 1, end),
        'resuming gets every event after resume_since, once',
      );
      const before = slow.messages.slice(0, slow.messages.indexOf(notice)).filter((m) => m.seq !== undefined);
      assert.ok(before.every((m) => (m.seq as number) <= resumeSince), 'nothing past resume_since was sent before the notice');
      const dropped = await server.deps.metrics.registry.getSingleMetricAsString('tasa_ws_messages_dropped_total');
      assert.match(dropped, /reason="slow_consumer"/);
    });
  });

  it('bursts to many clients: every fast client gets the same bytes in seq order; the hub joins an equal list of frames once; a paused client is still conflated', async () => {
    await withShared(async ({ server, bus, open }) => {
      const fast = await Promise.all(range(1, 30).map(() => open()));
      const slow = await open();
      for (const c of [...fast, slow]) await c.subscribe({ symbols: [SYMBOL] });
      const first = (await bus.lastSeq(SYMBOL)) + 1;
      const conflatedBefore = await droppedCount(server, 'conflated');
      slow.pauseReading();
      await congest(server, bus, fast[0] as WsTestClient);
      let last = 0;
      for (let round = 0; round < 40; round++) {
        // One burst per turn: five ticks and a forming bar, published without waiting for delivery.
        for (let i = 0; i < 5; i++) await bus.publish('ticks', SYMBOL, tick(4000 + round * 5 + i));
        last = (await bus.publish('bars', SYMBOL, bar('2025-03-03T13:00:00.000Z', 4000 + round, false, round + 1))).seq;
        await Promise.all(fast.map((c) => c.waitForSeq(last)));
      }
      const dataTexts = (c: WsTestClient) => c.texts.filter((_, i) => c.messages[i]?.seq !== undefined);
      const reference = dataTexts(fast[0] as WsTestClient);
      assert.deepEqual((fast[0] as WsTestClient).seqs(), range(first, last), 'every event, in seq order');
      for (const c of fast) assert.deepEqual(dataTexts(c), reference, 'the same bytes for every fast client');

      const hub = gatewayHub(server.app, server.deps);
      const frames = [Buffer.from('a'), Buffer.from('b')];
      assert.equal(hub.join(frames), hub.join([...frames]), 'the same frames are joined once per turn');
      assert.notEqual(hub.join(frames), hub.join([frames[0] as Buffer]), 'other frames get their own buffer');

      slow.resumeReading();
      await slow.waitForSeq(last);
      const got = slow.data();
      assert.ok(got.every((m, i) => i === 0 || (m.seq as number) > (got[i - 1]?.seq as number)), 'seqs increase');
      assert.ok(slow.seqs('market_data').length < (fast[0] as WsTestClient).seqs('market_data').length, 'market_data was conflated');
      assert.equal((got.filter((m) => m.type === 'market_data').at(-1)?.data as { price: number }).price, 4199, 'the latest price arrives');
      assert.equal((got.at(-1)?.data as { revision: number }).revision, 40, 'the latest version of the forming bar arrives');
      assert.ok((await droppedCount(server, 'conflated')) > conflatedBefore, 'conflated messages are counted');
      assert.ok(!slow.messages.some((m) => m.code === 'slow_consumer'), 'nothing had to be dropped');
    });
  });

  it(`a client congested for ${STALL_LIMIT_MS / 1000} s (it stopped reading) is disconnected`, async () => {
    await withShared(async ({ server, bus, open }) => {
      const [fast, slow] = [await open(), await open()];
      await fast.subscribe({ symbols: [SYMBOL] });
      await slow.subscribe({ symbols: [SYMBOL] });
      slow.pauseReading();
      await congest(server, bus, fast);
      const hub = gatewayHub(server.app, server.deps);
      await server.clock.advance(STALL_LIMIT_MS + HEARTBEAT_INTERVAL_MS);
      await waitFor(() => hub.clientCount === 1, 'the stalled client to be dropped');
      const dropped = await server.deps.metrics.registry.getSingleMetricAsString('tasa_ws_messages_dropped_total');
      assert.match(dropped, /reason="stalled"/);
      await fast.next((m) => m.type === 'heartbeat', 'the normal client still gets heartbeats');
    });
  });
});

describe('two gateways on one Redis', { skip: redis === null }, () => {
  it('a publish through one process reaches the clients of both gateways with identical seqs', async () => {
    const url = redisTestUrl();
    if (url === null) throw new Error('CI is set but TEST_REDIS_URL is not: the Redis suites must run in CI, not be skipped.');
    const scope = redisScope(url);
    const buses = [await scope.open(), await scope.open(), await scope.open()];
    const [busA, busB, publisher] = buses as [Bus, Bus, Bus];
    const servers = [
      await startTestServer({ db, bus: busA, clock: scope.clock, listen: true }),
      await startTestServer({ db, bus: busB, clock: scope.clock, listen: true }),
    ];
    const clients: WsTestClient[] = [];
    try {
      for (const s of servers) clients.push(await WsTestClient.open(wsUrl(s.url, '/ws')), await WsTestClient.open(wsUrl(s.url, '/ws')));
      await Promise.all(clients.map((c) => c.subscribe({ symbols: [SYMBOL] })));
      const last = await publishTicks(publisher, 20);
      await publishTicks(busA, 5, 5000);
      const end = await publishTicks(busB, 5, 6000);
      assert.equal(end, last + 10);
      await Promise.all(clients.map((c) => c.waitForSeq(end)));
      const expected = clients[0]?.data().map((m) => [m.seq, (m.data as { price: number }).price]);
      assert.deepEqual(
        expected?.map(([seq]) => seq),
        range(1, end),
      );
      for (const c of clients) assert.deepEqual(c.data().map((m) => [m.seq, (m.data as { price: number }).price]), expected);
      // A late client of the second gateway resumes from the shared stream.
      const late = await WsTestClient.open(wsUrl(servers[1]?.url ?? null, '/ws/USDCOP?since=15'));
      clients.push(late);
      await late.waitForSeq(end);
      assert.deepEqual(late.seqs(), range(16, end));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      for (const s of servers) await s.close();
      await scope.close();
    }
  });

  it('each gateway process connects its own bus (createRedisBus) on the same key prefix', async () => {
    // Guards the premise of the test above: separate bus instances do not share memory.
    const url = redisTestUrl();
    if (url === null) throw new Error('TEST_REDIS_URL is not set');
    const scope = redisScope(url);
    const a = await scope.open();
    const b = await createRedisBus({ url, clock: scope.clock, keyPrefix: scope.keyPrefix });
    try {
      assert.notEqual(a, b);
      await a.publish('ticks', SYMBOL, tick(1));
      assert.equal(await b.lastSeq(SYMBOL), 1);
    } finally {
      await b.close();
      await scope.close();
    }
  });
});

function gaugeValue(text: string): number {
  const line = text.split('\n').find((l) => l.startsWith('tasa_ws_clients '));
  return Number(line?.split(' ')[1]);
}

async function droppedCount(server: TestServer, reason: string): Promise<number> {
  const { values } = await server.deps.metrics.wsMessagesDropped.get();
  return values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

describe('refetch URLs', () => {
  const calendars = new CalendarSet(['USD/COP', 'EUR/USD'].map((symbol) => new MarketCalendar({}, shippedInstrument(symbol))));

  it("name the session dates of the symbol's own market, which the historical route reads", () => {
    // 18:30 New York (EDT) on 2026-03-31: EUR/USD's session dated 04-01 has opened; in Bogota it is still 03-31.
    const evening = Date.parse('2026-03-31T22:30:00Z');
    assert.equal(refetchUrl(calendars, 'EUR/USD', evening), '/api/market/historical?symbol=EUR%2FUSD&from=2026-04-01&to=2026-04-01');
    assert.equal(refetchUrl(calendars, 'USD/COP', evening), '/api/market/historical?symbol=USD%2FCOP&from=2026-03-31&to=2026-03-31');
    const morning = Date.parse('2026-03-31T14:00:00Z');
    assert.equal(refetchUrl(calendars, 'EUR/USD', evening, morning), '/api/market/historical?symbol=EUR%2FUSD&from=2026-03-31&to=2026-04-01');
  });
});
