import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { TasaError } from '../../src/errors.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { findOrder, listFills } from '../../src/store/trading-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { CLOSE, marketOrder, startRig, SYMBOL, T0, type Rig } from './trading-rig.ts';

const actionsOf = async (db: Db, entity: string) => (await listAudit(db, { entity, limit: 100 })).map((e) => `${e.action}/${e.actor}`);
const badInput = (code: string) => (err: unknown) => err instanceof TasaError && err.code === 'bad_argument' && err.input === code;

for (const target of databaseTargets()) {
  describe(`order service on ${target.name}`, () => {
    let db: Db;
    let clock: ManualClock;
    let rig: Rig | undefined;
    beforeEach(async () => {
      db = await target.open();
      clock = new ManualClock(T0);
    });
    afterEach(async () => {
      await rig?.stop();
      rig = undefined;
      await db.close();
    });

    it('fills a market order on the next tick at the ask plus slippage, and a limit order when the bid crosses it', async () => {
      rig = await startRig(db, clock);
      await rig.tick(4000, 4004);
      const placed = await rig.service.place(marketOrder('m1', 'buy', 100_000n), { actor: 'alice' });
      assert.equal(placed.created, true);
      assert.equal(placed.order.status, 'accepted');
      await rig.tick(4001, 4005);
      const [fill] = await listFills(db, { limit: 10 });
      // 4005 + 1 bps = 4005.4005; 1,000 USD -> 4,005,400.50 COP; fee 0.5 bps (200.27) + 1.00.
      assert.deepEqual([fill?.price, fill?.notional, fill?.fee, fill?.time], [40_054_005n, 400_540_050n, 20_127n, T0 + 2_000]);
      assert.equal((await findOrder(db, { clientOrderId: 'm1' }))?.status, 'filled');

      const limit = await rig.service.place(marketOrder('l1', 'sell', 100_000n, { type: 'limit', limitPrice: 40_100_000n, timeInForce: 'GTC' }), { actor: 'alice' });
      await rig.tick(4005, 4009);
      assert.equal((await findOrder(db, { id: limit.order.id }))?.status, 'accepted', 'bid 4005 is below the limit');
      await rig.tick(4011, 4015);
      const sold = await findOrder(db, { id: limit.order.id });
      assert.deepEqual(sold?.history.map((h) => h.status), ['new', 'accepted', 'filled']);
      const { book } = rig.service.snapshot();
      assert.equal(book.account.positions[SYMBOL]?.quantity, 0n);
      assert.equal(book.account.realizedPnl, 401_100_000n - 400_540_050n);
      assert.equal(book.account.cash, 1_000_000_000n - 400_540_050n - 20_127n + 401_100_000n - 20_155n);
      assert.deepEqual(await actionsOf(db, 'order:m1'), ['order.placed/alice', 'order.fill/broker']);
      const channels = rig.messages.filter((m) => m.channel === 'positions' || m.data.clientOrderId === 'm1').map((m) => m.channel);
      assert.deepEqual(channels, ['orders', 'orders', 'orders', 'fills', 'positions', 'positions']);
    });

    it('triggers a stop order when the ask reaches it, and fills in parts when the fill model caps a tick', async () => {
      rig = await startRig(db, clock, { broker: { fillModel: { slippageBps: 0n, feeBps: 0n, fixedFee: 0n, maxFillPerTick: 40_000n } } });
      await rig.tick(4000, 4004);
      await rig.service.place(marketOrder('s1', 'buy', 100_000n, { type: 'stop', stopPrice: 40_100_000n }), { actor: 'bob' });
      await rig.tick(4005, 4009);
      assert.equal((await findOrder(db, { clientOrderId: 's1' }))?.status, 'accepted');
      for (const ask of [4011, 4008, 4007]) await rig.tick(ask - 4, ask);
      const fills = await listFills(db, { limit: 10 });
      assert.deepEqual(fills.map((f) => [f.seq, f.quantity, f.price]), [[1, 40_000n, 40_110_000n], [2, 40_000n, 40_080_000n], [3, 20_000n, 40_070_000n]]);
      const order = await findOrder(db, { clientOrderId: 's1' });
      assert.deepEqual(order?.history.map((h) => h.status), ['new', 'accepted', 'partially_filled', 'partially_filled', 'filled']);
    });

    it('refuses bad input with the reason, denies over the risk limits, and treats a resubmission as the same order', async () => {
      rig = await startRig(db, clock, { service: { limits: { maxPosition: 1_000_000n, maxOrderSize: 500_000n, maxOrdersPerMinute: 3, dailyLossLimit: 100_000_000n, reduceOnlyLoss: null, flattenOnHalt: false } } });
      await rig.tick(4000, 4004);
      const place = (id: string, fields = {}) => rig!.service.place(marketOrder(id, 'buy', 100_000n, fields), { actor: 'carol' });
      await assert.rejects(place('bad-q', { quantity: 0n }), badInput('bad_quantity'));
      await assert.rejects(place('bad-s', { symbol: 'EUR/XXX' }), badInput('unknown_symbol'));
      await assert.rejects(place('bad-band', { type: 'limit', limitPrice: 42_500_000n }), badInput('price_outside_band'));
      assert.equal(await findOrder(db, { clientOrderId: 'bad-q' }), null, 'nothing stored');
      assert.deepEqual(await actionsOf(db, 'order:bad-band'), ['order.invalid/carol']);

      const big = await place('big', { quantity: 600_000n });
      assert.equal(big.order.status, 'denied');
      assert.match(big.order.history.at(-1)?.reason ?? '', /maximum order size/);
      assert.equal((await place('p1', { quantity: 500_000n })).order.status, 'accepted');
      assert.equal((await place('p2', { quantity: 500_000n })).order.status, 'accepted');
      const beyond = await place('p3');
      assert.match(beyond.order.history.at(-1)?.reason ?? '', /beyond the maximum/);
      const sell = (id: string) => rig!.service.place(marketOrder(id, 'sell', 1_000n), { actor: 'carol' });
      assert.equal((await sell('r1')).order.status, 'accepted');
      assert.match((await sell('r2')).order.history.at(-1)?.reason ?? '', /orders in the last minute/);
      assert.deepEqual(await actionsOf(db, 'order:r2'), ['order.denied/carol']);

      const again = await place('p1', { quantity: 500_000n });
      assert.deepEqual([again.created, again.order.id], [false, (await findOrder(db, { clientOrderId: 'p1' }))?.id]);
      await assert.rejects(place('p1', { quantity: 1_000n }), (err: unknown) => err instanceof TasaError && err.code === 'conflict');
    });

    it('rejects while the market is closed or the feed is stale, with the reason', async () => {
      clock = new ManualClock(T0 - 3 * 3_600_000);
      rig = await startRig(db, clock);
      await rig.tick(4000, 4004);
      const closed = await rig.service.place(marketOrder('c1', 'buy', 1_000n), { actor: 'dave' });
      assert.deepEqual([closed.order.status, closed.order.history.at(-1)?.reason], ['rejected', 'the USD/COP market is closed']);
      await clock.advanceTo(T0);
      await rig.tick(4000, 4004);
      await clock.advance(31_000);
      const stale = await rig.service.place(marketOrder('c2', 'buy', 1_000n), { actor: 'dave' });
      assert.equal(stale.order.status, 'rejected');
      assert.match(stale.order.history.at(-1)?.reason ?? '', /feed is stale: no tick for 31 s/);
      assert.deepEqual(await actionsOf(db, 'order:c2'), ['order.placed/dave', 'order.rejected/broker']);
    });

    it('expires DAY orders at the session close and keeps GTC ones', async () => {
      rig = await startRig(db, clock);
      await rig.tick(4000, 4004);
      const limit = { type: 'limit' as const, limitPrice: 39_800_000n };
      const day = await rig.service.place(marketOrder('day', 'buy', 1_000n, limit), { actor: 'erin' });
      const gtc = await rig.service.place(marketOrder('gtc', 'buy', 1_000n, { ...limit, timeInForce: 'GTC' }), { actor: 'erin' });
      await clock.advanceTo(CLOSE - 1);
      await rig.settle();
      assert.equal((await findOrder(db, { id: day.order.id }))?.status, 'accepted');
      await clock.advanceTo(CLOSE);
      await rig.settle();
      const expired = await findOrder(db, { id: day.order.id });
      assert.deepEqual(expired?.history.at(-1), { status: 'expired', at: CLOSE, reason: 'the session closed' });
      assert.equal((await findOrder(db, { id: gtc.order.id }))?.status, 'accepted');
      assert.deepEqual(await actionsOf(db, 'order:day'), ['order.placed/erin', 'order.expired/system']);
    });

    it('halts by hand: open orders cancelled, new orders denied until an admin resumes', async () => {
      rig = await startRig(db, clock);
      await rig.tick(4000, 4004);
      const open = await rig.service.place(marketOrder('h1', 'buy', 1_000n, { type: 'limit', limitPrice: 39_800_000n }), { actor: 'frank' });
      const state = await rig.service.halt('admin', 'manual stop', false);
      assert.deepEqual([state.mode, state.actor], ['HALTED', 'admin']);
      const cancelled = await findOrder(db, { id: open.order.id });
      assert.deepEqual([cancelled?.status, cancelled?.history.at(-1)?.reason], ['cancelled', 'trading halted: manual stop']);
      const refused = await rig.service.place(marketOrder('h2', 'buy', 1_000n), { actor: 'frank' });
      assert.match(refused.order.history.at(-1)?.reason ?? '', /trading is halted: manual stop/);
      await assert.rejects(rig.service.cancel({ id: open.order.id }, 'frank'), (err: unknown) => err instanceof TasaError && err.code === 'conflict');
      assert.equal((await rig.service.resume('admin', 'all clear')).mode, 'ACTIVE');
      assert.equal((await rig.service.place(marketOrder('h3', 'buy', 1_000n), { actor: 'frank' })).order.status, 'accepted');
      const log = (await listAudit(db, { entity: 'trading', limit: 10 })).map((e) => `${e.action}/${e.actor}`);
      assert.deepEqual(log, ['trading.halted/admin', 'trading.resumed/admin']);
      assert.deepEqual(await actionsOf(db, 'order:h1'), ['order.placed/frank', 'order.cancelled/admin']);
    });

    it('trips the kill switch at the daily loss limit: cancels, flattens, and refuses new orders', async () => {
      const limits = { maxPosition: 1_000_000n, maxOrderSize: 500_000n, maxOrdersPerMinute: 100, dailyLossLimit: 5_000_000n, reduceOnlyLoss: null, flattenOnHalt: true };
      rig = await startRig(db, clock, { service: { limits } });
      await rig.tick(4000, 4004);
      await rig.service.place(marketOrder('k1', 'buy', 500_000n), { actor: 'gina' });
      await rig.tick(4001, 4005);
      const resting = await rig.service.place(marketOrder('k2', 'buy', 1_000n, { type: 'limit', limitPrice: 39_800_000n, timeInForce: 'GTC' }), { actor: 'gina' });
      assert.equal(rig.service.snapshot().book.risk.mode, 'ACTIVE');
      await rig.tick(3990, 3994);
      const { book } = rig.service.snapshot();
      assert.deepEqual([book.risk.mode, book.risk.actor], ['HALTED', 'system']);
      assert.match(book.risk.reason ?? '', /daily loss limit of 50000.00 COP/);
      assert.equal((await findOrder(db, { id: resting.order.id }))?.status, 'cancelled');
      await rig.tick(3990, 3994);
      assert.equal(rig.service.snapshot().book.account.positions[SYMBOL]?.quantity, 0n, 'flattened');
      const refused = await rig.service.place(marketOrder('k3', 'buy', 1_000n), { actor: 'gina' });
      assert.equal(refused.order.status, 'denied');
    });
  });
}
