import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/store/db.ts';
import { listStrategies, saveStrategy, setStrategyEnabled } from '../../src/store/strategies-repo.ts';
import { findOrder, insertOrder, listFills, listOrders, openOrders, orderTimesSince, recordFill, saveOrder } from '../../src/store/trading-repo.ts';
import { dayOpeningEquity, loadPositions, loadRiskState, openTradingAccount, saveRiskState } from '../../src/store/trading-state-repo.ts';
import { applyFillToAccount } from '../../src/trading/account.ts';
import { decideFill, type FillModelConfig } from '../../src/trading/fill-model.ts';
import { createOrder, recordFill as fillOrder, transitionOrder, type OrderRequest } from '../../src/trading/order.ts';
import { databaseTargets } from '../support/test-db.ts';

const T0 = Date.parse('2024-03-05T15:00:00Z');
const META = { sessionDate: '2024-03-05', actor: 'alice', strategyId: null };
const MODEL: FillModelConfig = { slippageBps: 0n, feeBps: 100n, fixedFee: 500n, maxFillPerTick: 60_000n };
/** Beyond 2^53: int8 columns must come back exact. */
const HUGE = 2n ** 60n + 7n;

function request(clientOrderId: string, fields: Partial<OrderRequest> = {}): OrderRequest {
  return { clientOrderId, symbol: 'USD/COP', side: 'buy', type: 'limit', quantity: 100_000n, timeInForce: 'DAY', limitPrice: 39_500_000n, stopPrice: null, ...fields };
}

for (const target of databaseTargets()) {
  describe(`trading repo on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('stores an order once per client order id, even when inserted concurrently', async () => {
      const order = createOrder(request('dup-1'), T0);
      const results = await Promise.all(Array.from({ length: 6 }, () => insertOrder(db, order, META)));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.order.id)).size, 1);
      const stored = await findOrder(db, { clientOrderId: 'dup-1' });
      assert.equal(stored?.limitPrice, 39_500_000n);
      assert.deepEqual(stored?.history, [{ status: 'new', at: T0, reason: null }]);
      assert.equal(stored?.sessionDate, '2024-03-05');
    });

    it('saves each transition once and finds open orders', async () => {
      const { order } = await insertOrder(db, createOrder(request('t-1'), T0), META);
      const accepted = { ...order, ...transitionOrder(order, 'accepted', T0 + 1) };
      await saveOrder(db, accepted);
      await saveOrder(db, accepted);
      const cancelled = { ...accepted, ...transitionOrder(accepted, 'cancelled', T0 + 2, 'by alice') };
      assert.ok((await openOrders(db)).some((o) => o.clientOrderId === 't-1'));
      await saveOrder(db, cancelled);
      const stored = await findOrder(db, { id: order.id });
      assert.deepEqual(stored?.history.map((h) => h.status), ['new', 'accepted', 'cancelled']);
      assert.equal(stored?.history.at(-1)?.reason, 'by alice');
      assert.ok(!(await openOrders(db)).some((o) => o.clientOrderId === 't-1'));
      assert.ok((await listOrders(db, { limit: 10 })).some((o) => o.clientOrderId === 't-1'));
      assert.ok(!(await listOrders(db, { open: true, limit: 10 })).some((o) => o.clientOrderId === 't-1'));
    });

    it('writes a fill with its order, position and account once; a second write of the same seq changes nothing', async () => {
      let account = await openTradingAccount(db, 100_000_000n, T0);
      const { order } = await insertOrder(db, createOrder(request('f-1', { type: 'market', limitPrice: null }), T0), META);
      const accepted = { ...order, ...transitionOrder(order, 'accepted', T0 + 1) };
      await saveOrder(db, accepted);
      const fill = decideFill(accepted, { time: T0 + 2_000, bid: 39_990_000n, ask: 40_010_000n, price: 40_000_000n }, MODEL);
      assert.ok(fill);
      account = applyFillToAccount(account, fill);
      const position = account.positions['USD/COP'];
      assert.ok(position);
      const filled = { ...accepted, ...fillOrder(accepted, fill.quantity, T0 + 3), lastFillTime: fill.time };
      assert.equal(await recordFill(db, { order: filled, fill, account, position }, T0 + 3), true);
      const skewed = { ...account, cash: 0n };
      assert.equal(await recordFill(db, { order: filled, fill, account: skewed, position }, T0 + 4), false);
      const reopened = await openTradingAccount(db, 1n, T0 + 5);
      assert.equal(reopened.cash, account.cash, 'second write left the account alone; initial cash kept');
      assert.equal(reopened.initialCash, 100_000_000n);
      assert.deepEqual(reopened.positions['USD/COP'], position);
      const stored = await findOrder(db, { clientOrderId: 'f-1' });
      assert.equal(stored?.status, 'partially_filled');
      assert.equal(stored?.filledQuantity, 60_000n);
      assert.equal(stored?.lastFillTime, T0 + 2_000);
      const fills = await listFills(db, { from: T0, limit: 10 });
      assert.deepEqual(fills, [{ ...fill, orderId: order.id }]);
      await assert.rejects(db.query('DELETE FROM trading_fills'), /append-only/);
    });

    it('keeps int8 money exact beyond 2^53', async () => {
      await db.query("UPDATE trading_account SET cash = $1::int8 WHERE id = 1", [String(HUGE)]);
      assert.equal((await openTradingAccount(db, 0n, T0)).cash, HUGE);
      assert.equal(await dayOpeningEquity(db, '2024-03-05', HUGE, T0), HUGE);
      assert.equal(await dayOpeningEquity(db, '2024-03-05', 5n, T0 + 1), HUGE, 'the first equity of the day stays');
      assert.equal((await loadPositions(db)).length, 1);
    });

    it('keeps the trading state, the order times for the rate limit, and strategies', async () => {
      assert.equal(await loadRiskState(db), null);
      await saveRiskState(db, { mode: 'HALTED', since: T0, reason: 'loss', actor: 'system' });
      assert.deepEqual(await loadRiskState(db), { mode: 'HALTED', since: T0, reason: 'loss', actor: 'system' });
      const denied = transitionOrder(createOrder(request('d-1'), T0 + 10), 'denied', T0 + 10, 'halted');
      await insertOrder(db, denied, META);
      assert.ok(!(await orderTimesSince(db, T0 + 5)).includes(T0 + 10), 'denied orders do not count');
      await saveStrategy(db, { id: 's1', symbol: 'USD/COP', policyId: 'ppo-1', targetNotional: HUGE, enabled: false }, T0);
      assert.equal(await setStrategyEnabled(db, 's1', true, T0 + 1), true);
      assert.equal(await setStrategyEnabled(db, 'nope', true, T0 + 1), false);
      assert.deepEqual(await listStrategies(db), [{ id: 's1', symbol: 'USD/COP', policyId: 'ppo-1', targetNotional: HUGE, enabled: true }]);
    });
  });
}
