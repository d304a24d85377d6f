/**
 * Realtime routes: the subscription lifecycle over REST (stored in the database, writes need a
 * token), the `/api/v1/realtime/ws/{id}` stream (its symbols, channels and update frequency),
 * active symbols and top-of-book depth. Runs on PGlite and, with TEST_DATABASE_URL, PostgreSQL;
 * the cross-gateway deletion runs with TEST_REDIS_URL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LatestPrice } from '../../src/contracts/bus-messages.ts';
import { ACTIVE_WINDOW_MS } from '../../src/server/routes/realtime-routes.ts';
import type { Db } from '../../src/store/db.ts';
import { getRealtimeSubscription } from '../../src/store/subscriptions-repo.ts';
import { anyData, waitFor, type AnyDataBus } from '../bus/helpers.ts';
import { cleanupRedis, redisScope, redisTarget, redisTestUrl } from '../bus/targets.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { WsTestClient, wsUrl } from './ws-test-client.ts';

const SYMBOL = 'USD/COP';
const BASE = '/api/v1/realtime';

interface SubscriptionJson {
  id: string;
  ws_url: string;
  symbols: string[];
  channels: string[];
  update_frequency: string;
  owner: string | null;
  created_at: string;
}

const tick = (price: number) => ({ symbol: SYMBOL, price, bid: price - 1, ask: price + 1, spread: 2, timestamp: '2024-01-02T15:00:00.000Z', receivedAt: '2024-01-02T15:00:00.040Z', source: 'test' });
const bar = (time: string, final: boolean) => ({ time, open: 4000, high: 4002, low: 3999, close: 4001, tickCount: 4, revision: 1, final, source: 'test' });

async function createSubscription(s: TestServer, token: string, body: Record<string, unknown>): Promise<SubscriptionJson> {
  const res = await s.app.inject({ method: 'POST', url: `${BASE}/subscribe`, headers: { 'x-api-key': token }, payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<SubscriptionJson>();
}

/** The stream of a subscription, through the listening server. */
async function stream(s: TestServer, id: string, query = ''): Promise<WsTestClient> {
  const c = await WsTestClient.open(wsUrl(s.url, `${BASE}/ws/${id}${query}`));
  await c.next((m) => m.type === 'subscribed', 'the subscription to start');
  return c;
}

/** Round trip through the server: the events published before it have been handled. */
async function settle(c: WsTestClient): Promise<void> {
  c.send({ action: 'heartbeat' });
  await c.next((m) => m.type === 'heartbeat', 'the heartbeat reply');
}

for (const target of databaseTargets()) {
  describe(`realtime routes on ${target.name}`, () => {
    let db: Db;
    let s: TestServer;
    let bus: AnyDataBus;
    let reader: string;
    const clients: WsTestClient[] = [];
    const open = async (id: string, query = '') => {
      const c = await stream(s, id, query);
      clients.push(c);
      return c;
    };
    before(async () => {
      db = await target.open();
      s = await startTestServer({ db, listen: true });
      bus = anyData(s.deps.bus);
      reader = await s.token('reader');
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      for (const c of clients) assert.deepEqual(c.invalid, [], 'every server message matches the protocol schema');
      await s.close();
      await db.close();
    });

    it('symbols/active: a symbol is active while its latest event is at most 5 minutes old', async () => {
      const idle = await s.app.inject({ url: `${BASE}/symbols/active` });
      assert.equal(idle.statusCode, 200);
      assert.deepEqual(idle.json<{ active: string[] }>().active, []);
      assert.deepEqual(idle.json<{ symbols: unknown[] }>().symbols, [
        { symbol: SYMBOL, last_seq: 0, last_event_at: null, last_event_channel: null, latest_price_at: null, age_seconds: null, active: false },
      ]);
      await bus.publish('ticks', SYMBOL, tick(4000));
      const busy = (await s.app.inject({ url: `${BASE}/symbols/active` })).json<{ active: string[]; symbols: Array<{ last_seq: number; last_event_channel: string; age_seconds: number }> }>();
      assert.deepEqual(busy.active, [SYMBOL]);
      assert.equal(busy.symbols[0]?.last_seq, 1);
      assert.equal(busy.symbols[0]?.last_event_channel, 'ticks');
      assert.equal(busy.symbols[0]?.age_seconds, 0);
      await s.clock.advance(ACTIVE_WINDOW_MS + 1_000);
      const later = (await s.app.inject({ url: `${BASE}/symbols/active` })).json<{ active: string[]; symbols: Array<{ age_seconds: number }> }>();
      assert.deepEqual(later.active, []);
      assert.equal(later.symbols[0]?.age_seconds, ACTIVE_WINDOW_MS / 1000 + 1);
    });

    it('depth: top of book from the latest quote, bid/ask only (no sizes, no deeper levels)', async () => {
      const none = await s.app.inject({ url: `${BASE}/depth/USDCOP` });
      assert.equal(none.statusCode, 404);
      assert.match(none.json<{ error: { message: string } }>().error.message, /No latest quote of USD\/COP/);
      const latest: LatestPrice = { ...tick(4100), timestamp: '2024-01-02T15:00:00.000Z' };
      await bus.setLatest(`latest:${SYMBOL}`, latest, 3_600_000);
      const res = await s.app.inject({ url: `${BASE}/depth/USD%2FCOP` });
      assert.equal(res.statusCode, 200);
      const body = res.json<Record<string, unknown>>();
      assert.deepEqual({ ...body, description: undefined }, {
        symbol: SYMBOL,
        timestamp: '2024-01-02T15:00:00.000Z',
        received_at: '2024-01-02T15:00:00.040Z',
        bid: 4099,
        ask: 4101,
        spread: 2,
        levels: 1,
        description: undefined,
      });
      assert.match(String(body['description']), /bid and ask, without sizes and without deeper levels/);
      assert.equal((await s.app.inject({ url: `${BASE}/depth/EURUSD` })).statusCode, 404);
    });

    it('subscription lifecycle: create (token needed), read, delete by its owner only, then gone', async () => {
      const anonymous = await s.app.inject({ method: 'POST', url: `${BASE}/subscribe`, payload: { symbols: [SYMBOL] } });
      assert.equal(anonymous.statusCode, 401);
      const created = await createSubscription(s, reader, { symbols: ['USDCOP'], channels: ['bars', 'ticks'], update_frequency: '1s' });
      assert.match(created.id, /^rs_[0-9a-f]{24}$/);
      assert.equal(created.ws_url, `ws://localhost:80${BASE}/ws/${created.id}`);
      assert.deepEqual([created.symbols, created.channels, created.update_frequency], [[SYMBOL], ['bars', 'ticks'], '1s']);
      assert.match(String(created.owner), /^t_/);
      const stored = await getRealtimeSubscription(db, created.id);
      assert.deepEqual(stored?.symbols, [SYMBOL]);
      assert.equal(stored?.owner, created.owner);

      const read = await s.app.inject({ url: `${BASE}/subscriptions/${created.id}` });
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json(), created);

      const someoneElse = await s.token('reader');
      const refused = await s.app.inject({ method: 'DELETE', url: `${BASE}/subscribe/${created.id}`, headers: { 'x-api-key': someoneElse } });
      assert.equal(refused.statusCode, 403);
      assert.equal((await s.app.inject({ method: 'DELETE', url: `${BASE}/subscribe/${created.id}` })).statusCode, 401);
      const deleted = await s.app.inject({ method: 'DELETE', url: `${BASE}/subscribe/${created.id}`, headers: { 'x-api-key': reader } });
      assert.equal(deleted.statusCode, 200);
      assert.deepEqual(deleted.json(), { id: created.id, deleted: true });
      assert.equal((await s.app.inject({ url: `${BASE}/subscriptions/${created.id}` })).statusCode, 404);
      assert.equal((await s.app.inject({ method: 'DELETE', url: `${BASE}/subscribe/${created.id}`, headers: { 'x-api-key': reader } })).statusCode, 404);
      assert.notEqual((await getRealtimeSubscription(db, created.id))?.deletedAt, null, 'the row stays, marked deleted');

      const theirs = await createSubscription(s, someoneElse, { symbols: [SYMBOL] });
      const admin = await s.token('admin');
      assert.equal((await s.app.inject({ method: 'DELETE', url: `${BASE}/subscribe/${theirs.id}`, headers: { 'x-api-key': admin } })).statusCode, 200, 'an admin may delete any');
    });

    it('bad subscription requests: unknown symbol 404, bad frequency or id 400', async () => {
      const post = (payload: unknown) => s.app.inject({ method: 'POST', url: `${BASE}/subscribe`, headers: { 'x-api-key': reader }, payload: payload as Record<string, unknown> });
      assert.equal((await post({ symbols: ['EUR/USD'] })).statusCode, 404);
      const frequency = await post({ symbols: [SYMBOL], update_frequency: 'hourly' });
      assert.equal(frequency.statusCode, 400);
      assert.match(frequency.json<{ error: { message: string } }>().error.message, /update_frequency/);
      assert.equal((await post({ symbols: [] })).statusCode, 400);
      assert.equal((await s.app.inject({ url: `${BASE}/subscriptions/nope` })).statusCode, 400);
      assert.equal((await s.app.inject({ url: `${BASE}/subscriptions/rs_${'0'.repeat(24)}` })).statusCode, 404);
      await assert.rejects(WsTestClient.open(wsUrl(s.url, `${BASE}/ws/rs_${'0'.repeat(24)}`)), /handshake refused: 404/);
    });

    it('ws/{id} streams exactly the subscription’s channels and refuses subscribe/unsubscribe', async () => {
      const sub = await createSubscription(s, reader, { symbols: [SYMBOL], channels: ['bars'] });
      const c = await open(sub.id);
      const base = await bus.lastSeq(SYMBOL);
      await bus.publish('ticks', SYMBOL, tick(4000));
      await bus.publish('bars', SYMBOL, bar('2024-01-02T15:00:00.000Z', false));
      await bus.publish('alerts', SYMBOL, { kind: 'x' });
      await c.waitForSeq(base + 2);
      c.send({ action: 'subscribe', symbols: [SYMBOL] });
      assert.equal((await c.next((m) => m.type === 'error', 'fixed_subscription')).code, 'fixed_subscription');
      await settle(c);
      assert.deepEqual(c.data().map((m) => [m.seq, m.type]), [[base + 2, 'bar']]);
    });

    it('update_frequency 1s: market_data conflated to one per second (the latest); a final bar goes at once, in seq order', async () => {
      const sub = await createSubscription(s, reader, { symbols: [SYMBOL], channels: ['ticks', 'bars'], update_frequency: '1s' });
      const c = await open(sub.id);
      const base = await bus.lastSeq(SYMBOL);
      for (let i = 1; i <= 5; i++) await bus.publish('ticks', SYMBOL, tick(4000 + i));
      await settle(c);
      assert.deepEqual(c.seqs('market_data'), [base + 1], 'the first goes at once, the rest wait');
      await s.clock.advance(1_000);
      await c.waitForSeq(base + 5);
      assert.deepEqual(c.seqs('market_data'), [base + 1, base + 5], 'then only the latest');
      await bus.publish('ticks', SYMBOL, tick(4010));
      await bus.publish('bars', SYMBOL, bar('2024-01-02T15:00:00.000Z', true));
      await c.waitForSeq(base + 7);
      assert.deepEqual(c.seqs(), [base + 1, base + 5, base + 6, base + 7], 'the waiting update goes just before the final bar');
    });

    it('update_frequency bar: final bars only, no market_data and no forming updates', async () => {
      const sub = await createSubscription(s, reader, { symbols: [SYMBOL], update_frequency: 'bar' });
      const c = await open(sub.id);
      const base = await bus.lastSeq(SYMBOL);
      await bus.publish('ticks', SYMBOL, tick(4000));
      await bus.publish('bars', SYMBOL, bar('2024-01-02T15:05:00.000Z', false));
      await bus.publish('bars', SYMBOL, bar('2024-01-02T15:05:00.000Z', true));
      await bus.publish('alerts', SYMBOL, { kind: 'price_move' });
      await c.waitForSeq(base + 4);
      assert.deepEqual(c.data().map((m) => [m.seq, m.type]), [
        [base + 3, 'bar'],
        [base + 4, 'alert'],
      ]);
    });

    it('ws/{id}?since= resumes a one-symbol subscription from the replay window', async () => {
      const sub = await createSubscription(s, reader, { symbols: [SYMBOL], channels: ['ticks'] });
      const base = await bus.lastSeq(SYMBOL);
      await bus.publish('ticks', SYMBOL, tick(1));
      await bus.publish('ticks', SYMBOL, tick(2));
      const c = await open(sub.id, `?since=${base + 1}`);
      await c.waitForSeq(base + 2);
      assert.deepEqual(c.seqs(), [base + 2]);
    });

    it('deleting a subscription ends its open streams', async () => {
      const sub = await createSubscription(s, reader, { symbols: [SYMBOL] });
      const c = await open(sub.id);
      const res = await s.app.inject({ method: 'DELETE', url: `${BASE}/subscribe/${sub.id}`, headers: { 'x-api-key': reader } });
      assert.equal(res.statusCode, 200);
      const closed = await c.closed;
      assert.equal(closed.code, 1000);
      assert.ok(c.messages.some((m) => m.code === 'subscription_deleted'));
      await assert.rejects(WsTestClient.open(wsUrl(s.url, `${BASE}/ws/${sub.id}`)), /handshake refused: 404/);
    });

    it('OpenAPI documents the realtime routes', async () => {
      const doc = (await s.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
      for (const path of ['/api/v1/realtime/subscribe', '/api/v1/realtime/subscriptions/{id}', '/api/v1/realtime/subscribe/{id}', '/api/v1/realtime/symbols/active', '/api/v1/realtime/depth/{symbol}']) {
        assert.ok(path in doc.paths, `${path} is documented`);
      }
    });
  });
}

describe('realtime routes with TASA_AUTH=all', () => {
  it('reads and the stream need a token too', async () => {
    const db = await (databaseTargets()[0] as { open: () => Promise<Db> }).open();
    const s = await startTestServer({ db, listen: true, env: { TASA_AUTH: 'all' } });
    try {
      const reader = await s.token('reader');
      const sub = await createSubscription(s, reader, { symbols: [SYMBOL] });
      assert.equal((await s.app.inject({ url: `${BASE}/subscriptions/${sub.id}` })).statusCode, 401);
      assert.equal((await s.app.inject({ url: `${BASE}/subscriptions/${sub.id}`, headers: { authorization: `Bearer ${reader}` } })).statusCode, 200);
      await assert.rejects(WsTestClient.open(wsUrl(s.url, `${BASE}/ws/${sub.id}`)), /handshake refused: 401/);
      const c = await stream(s, sub.id, `?token=${reader}`);
      await c.close();
    } finally {
      await s.close();
      await db.close();
    }
  });
});

describe('realtime subscriptions across gateways (Redis)', { skip: redisTarget() === null }, () => {
  after(cleanupRedis);

  it('a subscription created through one gateway streams from another; deleting it ends the streams of both', async () => {
    const url = redisTestUrl();
    if (url === null) throw new Error('CI is set but TEST_REDIS_URL is not: the Redis suites must run in CI, not be skipped.');
    const db = await (databaseTargets()[0] as { open: () => Promise<Db> }).open();
    const scope = redisScope(url);
    const servers = [
      await startTestServer({ db, bus: await scope.open(), clock: scope.clock, listen: true }),
      await startTestServer({ db, bus: await scope.open(), clock: scope.clock, listen: true }),
    ] as const;
    const clients: WsTestClient[] = [];
    try {
      const reader = await servers[0].token('reader');
      const sub = await createSubscription(servers[0], reader, { symbols: [SYMBOL], channels: ['ticks'] });
      clients.push(await stream(servers[0], sub.id), await stream(servers[1], sub.id));
      const e = await servers[0].deps.bus.publish('ticks', SYMBOL, tick(4000));
      await Promise.all(clients.map((c) => c.waitForSeq(e.seq)));
      const res = await servers[0].app.inject({ method: 'DELETE', url: `${BASE}/subscribe/${sub.id}`, headers: { 'x-api-key': reader } });
      assert.equal(res.statusCode, 200);
      const closed = await Promise.all(clients.map((c) => c.closed));
      assert.deepEqual(
        closed.map((c) => c.code),
        [1000, 1000],
      );
      await waitFor(() => clients.every((c) => c.messages.some((m) => m.code === 'subscription_deleted')), 'the deletion notice on both');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      for (const s of servers) await s.close();
      await scope.close();
      await db.close();
    }
  });
});
