/**
 * Strategies through the API against the real app (PGlite and PostgreSQL): `start` switches a
 * baseline strategy on in the server's trading engine, which then trades each final bar on the bus
 * through the order service (audited as strategy:<id>); `stop` switches it off; a restarted engine
 * resumes it; an unknown policy is a 400 naming it; a process without the engine answers 503.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BAR_MS } from '../../src/domain/bar.ts';
import { toIsoUtc } from '../../src/domain/time.ts';
import type { TokenRole } from '../../src/store/api-tokens-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { finishRun, startRun } from '../../src/store/pipeline-runs-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';

const SYMBOL = 'USD/COP';
const SETTINGS = { symbol: 'USDCOP', policyId: 'always-long', targetNotional: '1000.00' };

interface StrategyJson {
  id: string;
  policyId: string;
  enabled: boolean;
  running: boolean | null;
}
interface ErrorJson {
  error: { code: string; message: string; input?: string };
}

for (const target of databaseTargets()) {
  describe(`trading strategies API on ${target.name}`, () => {
    let db: Db;
    let ts: TestServer;
    const secrets: Partial<Record<TokenRole, string>> = {};
    let nextBar = OPEN_TIME;

    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        await ts.deps.trading.strategies()?.idle();
        await ts.deps.trading.service()?.idle();
      }
    };
    const tick = async () => {
      const now = toIsoUtc(ts.clock.now());
      await ts.deps.bus.publish('ticks', SYMBOL, { symbol: SYMBOL, price: 4001, bid: 4000, ask: 4002, spread: 2, timestamp: now, receivedAt: now, source: 'simulator' });
      await settle();
    };
    /** The next bar's final event at its close, a tick before it (the feed is live) and after it (an order fills). */
    const liveBar = async () => {
      const time = nextBar;
      nextBar += BAR_MS;
      await ts.clock.advanceTo(time + BAR_MS + 2_000);
      await tick();
      await ts.deps.bus.publish('bars', SYMBOL, { time: toIsoUtc(time), open: 4001, high: 4003, low: 3999, close: 4001, tickCount: 10, revision: 1, final: true, source: 'twelvedata_ws' });
      await settle();
      await ts.clock.advance(1_000);
      await tick();
    };
    const call = async (method: 'GET' | 'POST', url: string, role: TokenRole | null, payload?: object) => {
      const res = await ts.app.inject({ method, url, ...(role === null ? {} : { headers: { 'x-api-key': secrets[role] ?? '' } }), ...(payload === undefined ? {} : { payload }) });
      if (res.statusCode >= 500 && res.statusCode !== 503) assert.fail(`${method} ${url} -> ${res.statusCode} ${res.body}`);
      return res;
    };
    const listed = async () => (await call('GET', '/api/trading/strategies', null)).json<{ strategies: StrategyJson[] }>().strategies;
    const strategyOrders = async () =>
      db.query<{ status: string; side: string; quantity: string }>("SELECT status, side, quantity::text FROM trading_orders WHERE strategy_id = 'long' ORDER BY id");
    const placedBy = async () => (await db.query<{ actor: string }>("SELECT DISTINCT actor FROM audit_log WHERE action = 'order.placed'")).map((r) => r.actor);

    before(async () => {
      db = await target.open();
      ts = await startTestServer({ db });
      for (const role of ['reader', 'trader'] as const) secrets[role] = await ts.token(role);
    });
    after(async () => {
      await ts?.close();
      await db?.close();
    });

    it('starts a baseline strategy that trades each final bar through the order service, audited as strategy:<id>', async () => {
      assert.equal((await call('POST', '/api/trading/strategies/long/start', 'reader', SETTINGS)).statusCode, 403);
      const started = await call('POST', '/api/trading/strategies/long/start', 'trader', SETTINGS);
      assert.equal(started.statusCode, 200, started.body);
      assert.deepEqual(started.json<{ strategy: StrategyJson }>().strategy, { id: 'long', symbol: SYMBOL, policyId: 'always-long', targetNotional: '1000.00', enabled: true, running: true });
      await liveBar();
      assert.deepEqual(await strategyOrders(), [{ status: 'filled', side: 'buy', quantity: '100000' }]);
      assert.deepEqual(await placedBy(), ['strategy:long']);
      assert.deepEqual((await listed()).map((s) => [s.id, s.enabled, s.running]), [['long', true, true]]);
    });

    it('stops it: no more orders', async () => {
      const stopped = await call('POST', '/api/trading/strategies/long/stop', 'trader');
      assert.equal(stopped.statusCode, 200, stopped.body);
      assert.deepEqual([stopped.json<{ strategy: StrategyJson }>().strategy.enabled, stopped.json<{ strategy: StrategyJson }>().strategy.running], [false, false]);
      await liveBar();
      assert.equal((await strategyOrders()).length, 1);
      assert.deepEqual((await listed()).map((s) => [s.id, s.enabled, s.running]), [['long', false, false]]);
      assert.deepEqual(
        (await db.query<{ action: string }>("SELECT action FROM audit_log WHERE entity = 'strategy:long' ORDER BY id")).map((a) => a.action),
        ['strategy.started', 'strategy.stopped'],
      );
    });

    it('refuses an unknown policy with a 400 naming it, and an unknown strategy without its settings with a 404', async () => {
      const unknown = await call('POST', '/api/trading/strategies/other/start', 'trader', { ...SETTINGS, policyId: 'no-such-model' });
      assert.equal(unknown.statusCode, 400, unknown.body);
      assert.equal(unknown.json<ErrorJson>().error.input, 'policyId');
      assert.match(unknown.json<ErrorJson>().error.message, /no-such-model/);
      assert.equal((await call('POST', '/api/trading/strategies/other/start', 'trader', { targetNotional: '0' })).statusCode, 400);
      assert.equal((await call('POST', '/api/trading/strategies/other/start', 'trader', { policyId: 'flat' })).statusCode, 404);
      assert.deepEqual((await listed()).map((s) => s.id), ['long'], 'nothing saved');
    });

    it('starts a stored strategy again with a new setting, and resumes it when the engine restarts', async () => {
      const restarted = await call('POST', '/api/trading/strategies/long/start', 'trader', { targetNotional: 2000 });
      assert.equal(restarted.statusCode, 200, restarted.body);
      assert.equal(restarted.json<{ strategy: { targetNotional: string } }>().strategy.targetNotional, '2000.00');
      const clock = ts.clock;
      await ts.close();
      ts = await startTestServer({ db, clock });
      for (const role of ['reader', 'trader'] as const) secrets[role] = await ts.token(role);
      assert.deepEqual((await listed()).map((s) => [s.id, s.enabled, s.running]), [['long', true, true]]);
      await liveBar();
      assert.deepEqual((await strategyOrders()).map((o) => [o.status, o.side, o.quantity]), [['filled', 'buy', '100000'], ['filled', 'buy', '100000']]);
    });

    it('answers start and stop 503 in a process without the engine', async () => {
      const other = await startTestServer({ db, bus: ts.deps.bus, clock: ts.clock, trading: false });
      try {
        const headers = { 'x-api-key': await other.token('trader') };
        for (const action of ['start', 'stop']) {
          const res = await other.app.inject({ method: 'POST', url: `/api/trading/strategies/long/${action}`, headers });
          assert.equal(res.statusCode, 503, res.body);
          assert.equal(res.json<ErrorJson>().error.code, 'unavailable');
        }
        assert.deepEqual((await other.app.inject({ method: 'GET', url: '/api/trading/strategies' })).json<{ strategies: StrategyJson[] }>().strategies.map((s) => s.running), [null]);
      } finally {
        await other.close();
      }
    });

    it('serves the parity record from the store, a session compared twice counted once by its latest run', async () => {
      const parityRun = async (session: string, compared: number, matched: number) => {
        const id = await startRun(db, { layer: 'parity', symbol: null, params: { session } });
        const difference = matched < compared ? { index: matched, fields: ['side'], backtest: 'b', live: 'l' } : null;
        const strategies = [{ strategy: 'long', symbol: SYMBOL, policyId: 'always-long', compared, matched, firstDifference: difference, priceDiffBps: matched > 0 ? 1.5 : null, alert: null }];
        await finishRun(db, id, { status: 'completed', rowsIn: compared, rowsOut: matched, summary: { session, strategies } });
      };
      await parityRun('2024-03-04', 4, 4);
      await parityRun('2024-03-05', 5, 3);
      await parityRun('2024-03-05', 5, 5); // compared again after a repair: the latest run counts
      await parityRun('2024-03-06', 2, 1);
      const other = await startTestServer({ db, bus: ts.deps.bus, clock: ts.clock, trading: false });
      try {
        const res = await other.app.inject({ method: 'GET', url: '/api/trading/parity' });
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), {
          strategies: [{ strategy: 'long', sessions: 3, sessionsMismatched: 1, tradesCompared: 11, tradesMatched: 10, lastSession: '2024-03-06', lastSessionMatched: false, lastPriceDiffBps: 1.5 }],
        });
      } finally {
        await other.close();
      }
    });
  });
}
