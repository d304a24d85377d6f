/**
 * The trading API against the real app (PGlite and PostgreSQL), with the real paper broker and
 * order service on the server's bus and ticks published on that bus: placing, filling,
 * cancelling, idempotency, every bad input of issue 12, roles, the audit trail with its actor,
 * WebSocket delivery of orders and fills with seqs, the OpenAPI document, and a server process
 * that does not run the engine (503 naming the process that holds the trading lease).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toIsoUtc } from '../../src/domain/time.ts';
import { TradingHost, tradingSettings } from '../../src/execution/trading-engine.ts';
import { createLogger } from '../../src/log.ts';
import { createApiToken, type TokenRole } from '../../src/store/api-tokens-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { saveStrategy } from '../../src/store/strategies-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';
import { WsTestClient, wsUrl } from './ws-test-client.ts';

const SYMBOL = 'USD/COP';

interface OrderJson {
  id: number;
  clientOrderId: string;
  status: string;
  actor: string;
  quantity: string;
  filledQuantity: string;
  reason: string | null;
  history: Array<{ status: string }>;
}
interface ErrorJson {
  error: { code: string; message: string; input?: string };
  order?: OrderJson;
}

for (const target of databaseTargets()) {
  describe(`trading routes on ${target.name}`, () => {
    let db: Db;
    let ts: TestServer;
    const ids: Partial<Record<TokenRole, string>> = {};
    const secrets: Partial<Record<TokenRole, string>> = {};
    let ws: WsTestClient;

    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        await ts.deps.trading.service()?.idle();
      }
    };
    const tick = async (bid: number, ask: number) => {
      await ts.clock.advance(1_000);
      const now = toIsoUtc(ts.clock.now());
      await ts.deps.bus.publish('ticks', SYMBOL, { symbol: SYMBOL, price: (bid + ask) / 2, bid, ask, spread: ask - bid, timestamp: now, receivedAt: now, source: 'simulator' });
      await settle();
    };
    const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, role: TokenRole | null, payload?: object) => {
      const res = await ts.app.inject({ method, url, ...(role === null ? {} : { headers: { 'x-api-key': secrets[role] ?? '' } }), ...(payload === undefined ? {} : { payload }) });
      if (res.statusCode >= 500) assert.fail(`${method} ${url} -> ${res.statusCode} ${res.body}`);
      return res;
    };
    const place = (body: object, role: TokenRole = 'trader') => call('POST', '/api/trading/orders', role, body);
    const market = (clientOrderId: string, quantity: string | number, side = 'buy') => ({ clientOrderId, symbol: 'USDCOP', side, type: 'market', quantity });
    const orderCount = async () => (await call('GET', '/api/trading/orders?limit=1000', null)).json<{ orders: OrderJson[] }>().orders.length;
    const auditOf = (entity: string) => db.query<{ actor: string; action: string }>('SELECT actor, action FROM audit_log WHERE entity = $1 ORDER BY id', [entity]);

    before(async () => {
      db = await target.open();
      ts = await startTestServer({ db, listen: true });
      for (const role of ['reader', 'trader', 'admin'] as const) {
        const { token, info } = await createApiToken(db, { name: `test-${role}`, role });
        ids[role] = info.id;
        secrets[role] = token;
      }
      ws = await WsTestClient.open(wsUrl(ts.url, '/ws'));
      await ws.subscribe({ symbols: [SYMBOL], channels: ['orders', 'fills', 'positions'] });
      await tick(4000, 4001);
    });
    after(async () => {
      await ws?.close();
      await ts?.close();
      await db?.close();
    });

    it('answers the seed path and the reads with no token', async () => {
      const positions = await call('GET', '/api/trading/positions', null);
      assert.equal(positions.statusCode, 200, positions.body);
      assert.deepEqual(positions.json(), { positions: [] });
      const account = await call('GET', '/api/trading/account', null);
      assert.equal(account.statusCode, 200, account.body);
      const body = account.json<{ cash: string; tradingState: { mode: string }; engine: { running: boolean }; limits: { maxOrderUsd: string } }>();
      assert.equal(body.cash, '400000000.00');
      assert.equal(body.tradingState.mode, 'ACTIVE');
      assert.equal(body.engine.running, true);
      assert.equal(body.limits.maxOrderUsd, '25000.00');
    });

    it('places a market order for a trader only, idempotently, and fills it on the next tick', async () => {
      assert.equal((await place(market('m1', '1000.00'), 'reader')).statusCode, 403);
      assert.equal((await call('POST', '/api/trading/orders', null, market('m1', '1000.00'))).statusCode, 401);
      const created = await place(market('m1', '1000.00'));
      assert.equal(created.statusCode, 201, created.body);
      const order = created.json<{ order: OrderJson }>().order;
      assert.equal(order.status, 'accepted');
      assert.equal(order.actor, ids.trader);
      const again = await place(market('m1', 1000));
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json<{ order: OrderJson }>().order.id, order.id);
      const conflict = await place(market('m1', '2000'));
      assert.equal(conflict.statusCode, 409, conflict.body);
      assert.equal(conflict.json<ErrorJson>().error.code, 'conflict');

      await tick(4002, 4003);
      const filled = (await call('GET', `/api/trading/orders/${order.id}`, null)).json<{ order: OrderJson }>().order;
      assert.equal(filled.status, 'filled');
      assert.equal(filled.filledQuantity, '1000.00');
      assert.deepEqual(filled.history.map((h) => h.status), ['new', 'accepted', 'filled']);
      const fills = (await call('GET', '/api/trading/fills', null)).json<{ fills: Array<{ orderId: number; seq: number; quantity: string }> }>().fills;
      assert.deepEqual(fills.map((f) => [f.orderId, f.seq, f.quantity]), [[order.id, 1, '1000.00']]);
      const second = (await place(market('m2', '500.00'))).json<{ order: OrderJson }>().order;
      await tick(4003, 4004);
      const firstPage = (await call('GET', '/api/trading/fills?limit=1', null)).json<{ fills: Array<{ orderId: number }>; nextAfter: string | null }>();
      assert.deepEqual(firstPage.fills.map((f) => f.orderId), [order.id]);
      assert.ok(firstPage.nextAfter !== null, 'a full page points to the next');
      const secondPage = (await call('GET', `/api/trading/fills?limit=1&after=${firstPage.nextAfter}`, null)).json<{ fills: Array<{ orderId: number }>; nextAfter: string | null }>();
      assert.deepEqual(secondPage.fills.map((f) => f.orderId), [second.id], 'the next page starts after the cursor');
      const lastPage = (await call('GET', `/api/trading/fills?limit=1&after=${secondPage.nextAfter}`, null)).json<{ fills: unknown[]; nextAfter: string | null }>();
      assert.deepEqual([lastPage.fills.length, lastPage.nextAfter], [0, null]);
      for (const after of ['yesterday', '99999999999999-1-1']) {
        const badCursor = await call('GET', `/api/trading/fills?after=${after}`, null);
        assert.equal(badCursor.statusCode, 400, `${after}: ${badCursor.body}`);
      }
      const farFuture = await call('GET', '/api/trading/fills?after=9999999999999-1-1', null);
      assert.deepEqual([farFuture.statusCode, farFuture.json<{ fills: unknown[] }>().fills.length], [200, 0], farFuture.body);
      await tick(4010, 4011);
      const [position] = (await call('GET', '/api/trading/positions', null)).json<{ positions: Array<{ quantity: string; markPrice: string; unrealizedPnl: string }> }>().positions;
      assert.equal(position?.quantity, '1500.00', 'both orders filled');
      assert.equal(position?.markPrice, '4010.5000');
      assert.ok(Number(position?.unrealizedPnl) > 0, JSON.stringify(position));
      const account = (await call('GET', '/api/trading/account', null)).json<{ equity: string | null; fees: string }>();
      assert.notEqual(account.equity, null);
      assert.ok(Number(account.fees) > 0);
    });

    it('generates a client order id when none is given', async () => {
      const res = await place({ symbol: 'USD/COP', side: 'sell', type: 'market', quantity: 10 });
      assert.equal(res.statusCode, 201, res.body);
      assert.match(res.json<{ order: OrderJson }>().order.clientOrderId, /^o-/);
      await tick(4010, 4011);
    });

    it('refuses each bad input with a clear 400 and stores nothing', async () => {
      const before = await orderCount();
      const cases: Array<[object, RegExp]> = [
        [{ ...market('bad1', '10'), symbol: 'EURUSD' }, /symbol/i],
        [market('bad2', '0'), /quantity must be above zero/],
        [market('bad3', -5), /quantity must not be negative/],
        [market('bad4', 'NaN'), /quantity is not a decimal number/],
        [market('bad5', '1e20'), /quantity is absurd/],
        [market('bad6', '10.001'), /quantity has more than 2 decimals/],
        [{ ...market('bad7', '10'), type: 'limit', limitPrice: '4500' }, /more than 200\.00 bps from the market mid/],
        [{ ...market('bad8', '10'), type: 'limit' }, /needs a limit price/],
        [{ ...market('bad9', '10'), side: 'hold' }, /side/],
        [{ ...market('bad10', '10'), clientOrderId: 'has space' }, /clientOrderId/],
      ];
      for (const [body, message] of cases) {
        const res = await place(body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)} -> ${res.body}`);
        assert.match(res.json<ErrorJson>().error.message, message);
      }
      assert.equal(await orderCount(), before);
      assert.deepEqual((await auditOf('order:bad7')).map((a) => [a.actor, a.action]), [[ids.trader, 'order.invalid']]);
    });

    it('cancels an open limit order once; a filled or unknown order cannot be cancelled', async () => {
      const placed = await place({ ...market('l1', '500'), type: 'limit', limitPrice: '3990.5', timeInForce: 'GTC' });
      assert.equal(placed.statusCode, 201, placed.body);
      const id = placed.json<{ order: OrderJson }>().order.id;
      await tick(4010, 4011);
      assert.equal((await call('DELETE', `/api/trading/orders/${id}`, 'reader')).statusCode, 403);
      const cancelled = await call('DELETE', `/api/trading/orders/${id}`, 'trader');
      assert.equal(cancelled.statusCode, 200, cancelled.body);
      assert.equal(cancelled.json<{ order: OrderJson }>().order.status, 'cancelled');
      const twice = await call('DELETE', `/api/trading/orders/${id}`, 'trader');
      assert.equal(twice.statusCode, 409, twice.body);
      const m1 = (await call('GET', '/api/trading/orders?status=all&symbol=USDCOP&limit=1000', null)).json<{ orders: OrderJson[] }>().orders.find((o) => o.clientOrderId === 'm1');
      const filled = await call('DELETE', `/api/trading/orders/${m1?.id}`, 'trader');
      assert.equal(filled.statusCode, 409, filled.body);
      assert.match(filled.json<ErrorJson>().error.message, /is filled: only an open order can be cancelled/);
      assert.equal((await call('DELETE', '/api/trading/orders/999999', 'trader')).statusCode, 404);
      const open = (await call('GET', '/api/trading/orders?status=open', null)).json<{ orders: OrderJson[] }>().orders;
      assert.deepEqual(open, []);
    });

    it('pages the order list', async () => {
      const first = (await call('GET', '/api/trading/orders?limit=2', null)).json<{ orders: OrderJson[]; nextBefore: number | null }>();
      assert.equal(first.orders.length, 2);
      assert.notEqual(first.nextBefore, null);
      const second = (await call('GET', `/api/trading/orders?limit=2&before=${first.nextBefore}`, null)).json<{ orders: OrderJson[] }>();
      assert.ok(second.orders.every((o) => o.id < (first.nextBefore ?? 0)));
    });

    it('halts for an admin only, denies orders while halted (422, stored), and resumes', async () => {
      assert.equal((await call('POST', '/api/trading/halt', 'trader', { reason: 'drill' })).statusCode, 403);
      const halted = await call('POST', '/api/trading/halt', 'admin', { reason: 'drill' });
      assert.equal(halted.statusCode, 200, halted.body);
      assert.equal(halted.json<{ tradingState: { mode: string; actor: string } }>().tradingState.mode, 'HALTED');
      const denied = await place(market('h1', '10'));
      assert.equal(denied.statusCode, 422, denied.body);
      const body = denied.json<ErrorJson>();
      assert.equal(body.error.code, 'order_denied');
      assert.match(body.error.message, /trading is halted: drill/);
      assert.equal(body.order?.status, 'denied');
      const resumed = await call('POST', '/api/trading/resume', 'admin', { reason: 'drill over' });
      assert.equal(resumed.json<{ tradingState: { mode: string } }>().tradingState.mode, 'ACTIVE');
      assert.deepEqual(
        (await db.query<{ actor: string; action: string }>("SELECT actor, action FROM audit_log WHERE entity = 'trading' ORDER BY id")).map((a) => [a.actor, a.action]),
        [[ids.admin, 'trading.halted'], [ids.admin, 'trading.resumed']],
      );
    });

    it('audits every order event with the token id as actor, never the secret', async () => {
      assert.deepEqual((await auditOf('order:m1')).map((a) => [a.actor, a.action]), [[ids.trader, 'order.placed'], ['broker', 'order.fill']]);
      assert.deepEqual((await auditOf('order:l1')).map((a) => [a.actor, a.action]), [[ids.trader, 'order.placed'], [ids.trader, 'order.cancelled']]);
      const leaked = await db.query("SELECT id FROM audit_log WHERE actor LIKE 'tasa\\_%' OR details::text LIKE '%tasa\\_%'");
      assert.deepEqual(leaked, []);
    });

    it('delivers orders, fills and positions over the WebSocket with the symbol seqs, and replays them with since', async () => {
      const order = await ws.next((m) => m.type === 'order' && m.data?.['clientOrderId'] === 'm1' && m.data['status'] === 'filled', 'm1 filled');
      const fill = await ws.next((m) => m.type === 'fill', 'a fill');
      assert.equal(fill.data?.['clientOrderId'], 'm1');
      assert.ok((fill.seq ?? 0) > (order.seq ?? 0), 'the fill comes after its order update');
      assert.ok(ws.messages.some((m) => m.type === 'position'));
      const seqs = ws.seqs();
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
      assert.deepEqual(ws.invalid, []);
      const late = await WsTestClient.open(wsUrl(ts.url, '/ws'));
      try {
        await late.subscribe({ symbols: [SYMBOL], channels: ['fills'], since: (fill.seq ?? 1) - 1 });
        const replayed = await late.next((m) => m.type === 'fill', 'the replayed fill');
        assert.equal(replayed.seq, fill.seq);
      } finally {
        await late.close();
      }
    });

    it('refuses an order while the market is closed (422, rejected by the broker)', async () => {
      await ts.clock.advance(Date.UTC(2024, 0, 2, 18, 30) - ts.clock.now());
      await settle();
      const res = await place(market('c1', '10'));
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(res.json<ErrorJson>().error.code, 'order_rejected');
      assert.match(res.json<ErrorJson>().error.message, /the USD\/COP market is closed/);
    });

    it('switches strategies on and off for a trader, persisted and audited', async () => {
      await saveStrategy(db, { id: 's1', symbol: SYMBOL, policyId: 'flat', targetNotional: 100_000n, enabled: false }, OPEN_TIME);
      assert.equal((await call('POST', '/api/trading/strategies/s1/start', 'reader')).statusCode, 403);
      const started = await call('POST', '/api/trading/strategies/s1/start', 'trader');
      assert.equal(started.statusCode, 200, started.body);
      assert.equal(started.json<{ strategy: { enabled: boolean } }>().strategy.enabled, true);
      const listed = (await call('GET', '/api/trading/strategies', null)).json<{ strategies: Array<{ id: string; enabled: boolean; targetNotional: string }> }>();
      assert.deepEqual(listed.strategies, [{ id: 's1', symbol: SYMBOL, policyId: 'flat', targetNotional: '1000.00', enabled: true, running: true }]);
      assert.equal((await call('POST', '/api/trading/strategies/s1/stop', 'trader')).json<{ strategy: { enabled: boolean } }>().strategy.enabled, false);
      assert.equal((await call('POST', '/api/trading/strategies/nope/start', 'trader')).statusCode, 404);
      assert.deepEqual((await auditOf('strategy:s1')).map((a) => [a.actor, a.action]), [[ids.trader, 'strategy.started'], [ids.trader, 'strategy.stopped']]);
    });

    it('serves the daily P&L series', async () => {
      const res = await call('GET', '/api/trading/pnl?from=2024-01-01&to=2024-01-02', null);
      assert.equal(res.statusCode, 200, res.body);
      const days = res.json<{ days: Array<{ date: string; openingEquity: string; pnl: string | null }> }>().days;
      assert.deepEqual(days.map((d) => d.date), ['2024-01-02']);
      assert.equal(days[0]?.openingEquity, '400000000.00');
      assert.notEqual(days[0]?.pnl, null);
      assert.equal((await call('GET', '/api/trading/pnl?from=2024-02-01&to=2024-01-01', null)).statusCode, 400);
    });

    it('lists the trading routes in /openapi.json under the trading tag', async () => {
      const doc = (await call('GET', '/openapi.json', null)).json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>();
      const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).filter(([, op]) => op.tags?.includes('trading')).map(([method]) => `${method.toUpperCase()} ${path}`));
      for (const route of [
        'POST /api/trading/orders', 'GET /api/trading/orders', 'GET /api/trading/orders/{id}', 'DELETE /api/trading/orders/{id}', 'GET /api/trading/positions',
        'GET /api/trading/fills', 'GET /api/trading/account', 'GET /api/trading/pnl', 'POST /api/trading/halt', 'POST /api/trading/resume',
        'GET /api/trading/strategies', 'POST /api/trading/strategies/{id}/start', 'POST /api/trading/strategies/{id}/stop',
      ]) {
        assert.ok(routes.includes(route), `${route} in ${routes.join(', ')}`);
      }
    });

    it('in a process without the engine, answers writes 503 naming the lease holder and reads from the store', async () => {
      const logger = createLogger('silent');
      const base = { db, bus: ts.deps.bus, clock: ts.clock, calendar: ts.deps.calendar, logger, settings: tradingSettings(ts.deps.config, [SYMBOL]), leaseTtlMs: 30_000 };
      const holder = new TradingHost({ ...base, holder: 'host-a:1' });
      const standby = new TradingHost({ ...base, holder: 'host-b:2' });
      await holder.start();
      await standby.start();
      const other = await startTestServer({ db, bus: ts.deps.bus, clock: ts.clock, deps: { trading: standby } });
      try {
        assert.notEqual(holder.service(), null);
        assert.equal(standby.service(), null);
        const res = await other.app.inject({ method: 'POST', url: '/api/trading/orders', headers: { 'x-api-key': secrets.trader ?? '' }, payload: market('x1', '10') });
        assert.equal(res.statusCode, 503, res.body);
        assert.equal(res.json<ErrorJson>().error.code, 'unavailable');
        assert.match(res.json<ErrorJson>().error.message, /host-a:1/);
        const positions = await other.app.inject({ method: 'GET', url: '/api/trading/positions' });
        assert.equal(positions.statusCode, 200);
        assert.equal(positions.json<{ positions: Array<{ symbol: string }> }>().positions[0]?.symbol, SYMBOL);
      } finally {
        await other.close();
        await standby.stop();
        await holder.stop();
      }
    });
  });
}
