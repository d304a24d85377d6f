import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/domain/random.ts';
import { findOrder, insertOrder, listFills, listOrders } from '../../src/store/trading-repo.ts';
import { openTradingAccount } from '../../src/store/trading-state-repo.ts';
import { applyFillToAccount, openAccount, valueAccount } from '../../src/trading/account.ts';
import { notional } from '../../src/trading/money.ts';
import { createOrder, type OrderRequest } from '../../src/trading/order.ts';
import { databaseTargets } from '../support/test-db.ts';
import { marketOrder, rigPerTest, SERVICE_CONFIG, SYMBOL } from './trading-rig.ts';

const CAPPED = { broker: { fillModel: { slippageBps: 100n, feeBps: 50n, fixedFee: 100n, maxFillPerTick: 30_000n } } };

function randomOrder(next: () => number, id: string, mid: number): OrderRequest {
  const side = next() < 0.5 ? 'buy' : 'sell';
  const quantity = BigInt(1 + Math.floor(next() * 200_000));
  const kind = next();
  const away = Math.round((next() * 10 - 5) * 100) * 100;
  const price = BigInt(Math.round(mid * 10_000)) + BigInt(away);
  if (kind < 0.5) return marketOrder(id, side, quantity, { timeInForce: next() < 0.5 ? 'DAY' : 'GTC' });
  if (kind < 0.8) return marketOrder(id, side, quantity, { type: 'limit', limitPrice: price, timeInForce: 'GTC' });
  return marketOrder(id, side, quantity, { type: 'stop', stopPrice: price, timeInForce: 'GTC' });
}

for (const target of databaseTargets()) {
  describe(`order service recovery on ${target.name}`, () => {
    const scope = rigPerTest(target);
    it('restores open orders after a restart; a replayed tick fills nothing twice and fills carry on', async () => {
      const first = await scope.start(CAPPED);
      await first.tick(4000, 4004);
      await first.service.place(marketOrder('r-m', 'buy', 100_000n), { actor: 'alice' });
      await first.service.place(marketOrder('r-l', 'sell', 50_000n, { type: 'limit', limitPrice: 40_300_000n, timeInForce: 'GTC' }), { actor: 'alice' });
      await first.tick(4001, 4005);
      const lastTick = scope.clock.now();
      await first.stop();
      // An order stored `new` and never sent (the process died between the store and the broker).
      await insertOrder(scope.db, createOrder(marketOrder('r-new', 'buy', 10_000n), scope.clock.now()), { sessionDate: '2024-03-05', actor: 'alice', strategyId: null });

      const second = await scope.start(CAPPED);
      const open = [...second.service.snapshot().book.open.keys()].sort();
      assert.deepEqual(open, ['r-l', 'r-m'], 'r-new waits for the first quote');
      assert.equal(second.service.snapshot().book.account.positions[SYMBOL]?.quantity, 30_000n);
      await scope.clock.advance(500);
      await second.tickAt(lastTick, 4001, 4005);
      assert.equal((await listFills(scope.db, { limit: 100 })).length, 1, 'the replayed tick filled nothing');
      assert.equal((await findOrder(scope.db, { clientOrderId: 'r-new' }))?.status, 'accepted', 'sent on the first quote');
      await second.tick(4002, 4006);
      const fills = await listFills(scope.db, { limit: 100 });
      assert.deepEqual(fills.map((f) => `${f.clientOrderId}#${f.seq}`), ['r-m#1', 'r-m#2', 'r-new#1']);
      assert.equal((await findOrder(scope.db, { clientOrderId: 'r-m' }))?.filledQuantity, 60_000n);
      assert.equal((await findOrder(scope.db, { clientOrderId: 'r-l' }))?.status, 'accepted');
    });

    it('gives one order for concurrent duplicate client order ids, from one service or two on the same store', async () => {
      const a = await scope.start();
      const b = await scope.start({ bus: a.bus });
      await a.tick(4000, 4004);
      const request = marketOrder('dup', 'buy', 10_000n);
      const results = await Promise.all([a, b, a, b].map((rig) => rig.service.place(request, { actor: 'alice' })));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.order.id)).size, 1);
      assert.equal((await listOrders(scope.db, { limit: 10 })).length, 1);
    });

    it('balances to the centavo after a session of random orders: cash + positions at the last price = initial + realized + unrealized - fees', async () => {
      const rig = await scope.start(CAPPED);
      const rng = new Rng(12);
      const next = () => rng.next();
      let mid = 4000;
      for (let i = 0; i < 60; i++) {
        mid += Math.round((next() - 0.5) * 600) / 100;
        const spread = 2 + Math.round(next() * 300) / 100;
        await rig.tick(mid - spread / 2, mid + spread / 2);
        if (next() < 0.6) await rig.service.place(randomOrder(next, `rnd-${i}`, mid), { actor: 'fuzz' });
      }
      const snapshot = rig.service.snapshot();
      const { account, marks } = snapshot.book;
      const last = marks.get(SYMBOL);
      assert.ok(last !== undefined);
      const fills = await listFills(scope.db, { limit: 10_000 });
      assert.ok(fills.length > 10, `a real session: ${fills.length} fills`);
      const position = account.positions[SYMBOL];
      assert.ok(position);
      const value = valueAccount(account, { [SYMBOL]: last });
      assert.equal(account.cash + notional(position.quantity, last), account.initialCash + account.realizedPnl + value.unrealizedPnl - account.fees);
      // The stored fills alone rebuild the stored account exactly.
      const replayed = fills.reduce(applyFillToAccount, openAccount(SERVICE_CONFIG.initialCash));
      const stored = await openTradingAccount(scope.db, 0n, scope.clock.now());
      assert.deepEqual(stored, replayed);
      assert.deepEqual(stored, account);
      assert.equal(snapshot.equity, account.cash + notional(position.quantity, last));
    });
  });
}
