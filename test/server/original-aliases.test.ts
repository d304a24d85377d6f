/**
 * The original system's paths and names (docs/operations.md) answer exactly as the Tasa routes
 * they stand for: each alias is compared with its route on the same server, over real sockets
 * for the WebSocket ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LatestPrice } from '../../src/contracts/bus-messages.ts';
import { resolveAlias } from '../../src/server/route-aliases.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';
import { WsTestClient, wsUrl, type Msg } from './ws-test-client.ts';

const SYMBOL = 'USD/COP';
const LATEST: LatestPrice = {
  symbol: SYMBOL,
  price: 3921.5,
  bid: 3921.25,
  ask: 3921.75,
  spread: 0.5,
  timestamp: new Date(OPEN_TIME - 3000).toISOString(),
  receivedAt: new Date(OPEN_TIME - 2800).toISOString(),
  source: 'twelvedata_ws',
};
const tick = (price: number) => ({ ...LATEST, price, bid: price - 1, ask: price + 1, spread: 2 });

/** A /health body without the probe round-trip times, which differ between two calls. */
function withoutLatency(body: Record<string, unknown>): Record<string, unknown> {
  const checks = body['checks'] as Record<string, Record<string, unknown> | null>;
  const probes = Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, c !== null && 'latencyMs' in c ? { ...c, latencyMs: null } : c]));
  return { ...body, checks: probes };
}

describe('resolveAlias', () => {
  it('rewrites only the original paths, keeping the query and the encoded symbol', () => {
    assert.equal(resolveAlias('/api/health'), '/health');
    assert.equal(resolveAlias('/api/market/health?x=1'), '/health?x=1');
    assert.equal(resolveAlias('/metrics/realtime-stats'), '/status');
    assert.equal(resolveAlias('/ws/market-data?tick_message=ltp_update'), '/ws?tick_message=ltp_update');
    assert.equal(resolveAlias('/api/latest/USD%2FCOP'), '/market/latest?symbol=USD%2FCOP');
    assert.equal(resolveAlias('/api/latest/USDCOP?token=t'), '/market/latest?symbol=USDCOP&token=t');
    for (const url of ['/health', '/api/latest', '/api/latest/', '/api/latest/A/B', '/ws/USDCOP', '/api/healthz', '/metrics']) assert.equal(resolveAlias(url), url);
  });
});

describe('original-system aliases', () => {
  let db: Db;
  let s: TestServer;
  const clients: WsTestClient[] = [];
  const open = async (path: string): Promise<WsTestClient> => {
    const c = await WsTestClient.open(wsUrl(s.url, path));
    clients.push(c);
    return c;
  };
  const get = (url: string) => s.app.inject({ method: 'GET', url });

  before(async () => {
    db = await (databaseTargets()[0] as { open: () => Promise<Db> }).open();
    s = await startTestServer({ db, listen: true });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const c of clients) assert.deepEqual(c.invalid, [], 'every server message matches the protocol schema');
    await s.close();
    await db.close();
  });

  it('/api/health and /api/market/health answer as /health', async () => {
    const health = await get('/health');
    assert.equal(health.statusCode, 200);
    for (const alias of ['/api/health', '/api/market/health']) {
      const res = await get(alias);
      assert.equal(res.statusCode, health.statusCode, alias);
      assert.deepEqual(withoutLatency(res.json()), withoutLatency(health.json()), alias);
    }
  });

  it('/metrics/realtime-stats answers as /status', async () => {
    const status = await get('/status');
    const alias = await get('/metrics/realtime-stats');
    assert.equal(alias.statusCode, 200);
    assert.deepEqual(alias.json(), status.json());
  });

  it('/api/latest/{symbol} answers as /market/latest?symbol=, and /market/latest without a symbol is the default instrument', async () => {
    assert.equal((await get('/api/latest/USDCOP')).statusCode, 404, 'no price cached yet: 404 like the route');
    await s.deps.bus.setLatest(`latest:${SYMBOL}`, LATEST, 60_000);
    const route = await get('/market/latest?symbol=USD%2FCOP');
    assert.equal(route.statusCode, 200);
    assert.equal(route.json<{ price: number }>().price, LATEST.price);
    for (const url of ['/api/latest/USD%2FCOP', '/api/latest/USDCOP', '/market/latest']) {
      const res = await get(url);
      assert.equal(res.statusCode, 200, url);
      assert.deepEqual(res.json(), route.json(), url);
    }
    const unknown = await get('/api/latest/EURUSD');
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.json<{ error: { message: string } }>().error.message, /Unknown symbol "EURUSD"/);
  });

  it('the realtime subscription takes update_frequency in seconds (1, 5); another number is a 400 naming the choices', async () => {
    const reader = await s.token('reader');
    const subscribe = (update_frequency: unknown) =>
      s.app.inject({ method: 'POST', url: '/api/v1/realtime/subscribe', headers: { 'x-api-key': reader }, payload: { symbols: [SYMBOL], update_frequency } });
    for (const [seconds, named] of [[1, '1s'], [5, '5s']] as const) {
      const res = await subscribe(seconds);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json<{ update_frequency: string }>().update_frequency, named);
    }
    assert.equal((await subscribe('5s')).json<{ update_frequency: string }>().update_frequency, '5s', 'the names still work');
    for (const bad of [7, 0, -5, 2.5]) {
      const res = await subscribe(bad);
      assert.equal(res.statusCode, 400, `update_frequency ${bad}: ${res.body}`);
      assert.match(res.json<{ error: { message: string } }>().error.message, /1 or 5.*tick, 1s, 5s, bar/);
    }
  });

  it('/ws/market-data is the /ws gateway; tick_message=ltp_update names tick messages ltp_update, with the same data', async () => {
    const plain = await open('/ws/market-data');
    const ltp = await open('/ws/market-data?tick_message=ltp_update');
    const bySymbol = await open('/ws/USDCOP?tick_message=ltp_update');
    await plain.subscribe({ symbols: [SYMBOL], channels: ['ticks'] });
    await ltp.subscribe({ symbols: [SYMBOL], channels: ['ticks', 'bars'] });
    await bySymbol.next((m) => m.type === 'market_status', 'the greeting');
    const { seq } = await s.deps.bus.publish('ticks', SYMBOL, tick(4001));
    const isTick = (type: string) => (m: Msg) => m.type === type && m.seq === seq;
    const asMarketData = await plain.next(isTick('market_data'), 'market_data on /ws/market-data');
    const asLtp = await ltp.next(isTick('ltp_update'), 'ltp_update on /ws/market-data?tick_message=ltp_update');
    const asLtpBySymbol = await bySymbol.next(isTick('ltp_update'), 'ltp_update on /ws/{symbol}?tick_message=ltp_update');
    assert.deepEqual({ ...asLtp, type: 'market_data' }, asMarketData);
    assert.deepEqual(asLtpBySymbol, asLtp);
    assert.equal(asMarketData.data?.['price'], 4001);
    assert.ok(!ltp.messages.some((m) => m.type === 'market_data'), 'no market_data where ltp_update was asked for');
    await assert.rejects(WsTestClient.open(wsUrl(s.url, '/ws/market-data?tick_message=ltp')), /handshake refused: 400/);
  });
});
