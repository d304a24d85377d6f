/**
 * The `trading` lease fences order and fill writes: two order services on one store, the first
 * started under the lease's epoch 1, the second under epoch 2 after the first's lease expired and
 * the second took it over. The first (which has not noticed) can no longer place, cancel, halt or
 * store a fill; the second trades on from what the store holds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TasaError } from '../../src/errors.ts';
import { TRADING_LEASE } from '../../src/execution/trading-engine.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { acquireLease, type LeaseFence } from '../../src/store/leases-repo.ts';
import { findOrder, listFills } from '../../src/store/trading-repo.ts';
import { loadRiskState } from '../../src/store/trading-state-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { marketOrder, rigPerTest, type Rig } from './trading-rig.ts';

const TTL_MS = 30_000;
const fencedOut = (err: unknown) => err instanceof TasaError && err.code === 'conflict' && /no longer holds the trading lease/.test(err.message);

for (const target of databaseTargets()) {
  describe(`trading lease fence on ${target.name}`, () => {
    const scope = rigPerTest(target);
    async function engineOf(holder: string): Promise<Rig> {
      const epoch = await acquireLease(scope.db, { name: TRADING_LEASE, holder, now: scope.clock.now(), ttlMs: TTL_MS });
      assert.ok(epoch !== null, `${holder} takes the lease`);
      const fence: LeaseFence = { name: TRADING_LEASE, holder, epoch };
      return scope.start({ fence });
    }

    it('refuses every order, fill and state write of the holder that lost the lease; the new holder trades on', async () => {
      const old = await engineOf('host-a:1');
      await old.tick(4000, 4004);
      assert.equal((await old.service.place(marketOrder('m1', 'buy', 100_000n), { actor: 'alice' })).order.status, 'accepted');
      await old.tick(4001, 4005);
      const resting = marketOrder('l1', 'sell', 100_000n, { type: 'limit', limitPrice: 40_100_000n, timeInForce: 'GTC' });
      assert.equal((await old.service.place(resting, { actor: 'alice' })).order.status, 'accepted');

      // The old holder stalls past its lease's life; another process takes the lease over (epoch 2).
      await scope.clock.advance(TTL_MS);
      const current = await engineOf('host-b:2');

      await assert.rejects(old.service.place(marketOrder('late', 'buy', 10_000n), { actor: 'alice' }), fencedOut);
      assert.equal(await findOrder(scope.db, { clientOrderId: 'late' }), null, 'the refused order is not stored');
      await assert.rejects(old.service.halt('alice', 'stale engine'), fencedOut);
      assert.equal(await loadRiskState(scope.db), null, 'the refused halt is not stored');

      // A tick crossing l1 makes the old engine's broker fill it: the fill's write is refused, also on retry.
      await old.tick(4011, 4015);
      await scope.clock.advance(1_000);
      await old.settle();
      assert.deepEqual(await listFills(scope.db, { limit: 10 }).then((fills) => fills.map((f) => `${f.clientOrderId}#${f.seq}`)), ['m1#1']);
      assert.equal(old.service.snapshot().book.open.get('l1')?.fillCount, 0, 'the old engine did not apply the refused fill');
      await assert.rejects(old.service.cancel({ clientOrderId: 'l1' }, 'alice'), fencedOut);

      // The new holder restored l1 from the store and fills it.
      await current.tick(4011, 4015);
      const fills = await listFills(scope.db, { limit: 10 });
      assert.deepEqual(fills.map((f) => `${f.clientOrderId}#${f.seq}`), ['m1#1', 'l1#1']);
      assert.equal((await findOrder(scope.db, { clientOrderId: 'l1' }))?.status, 'filled');
      const audit = (await listAudit(scope.db, { entity: 'order:l1', limit: 10 })).map((e) => `${e.action}/${e.actor}`);
      assert.deepEqual(audit, ['order.placed/alice', 'order.fill/broker'], 'one fill audited, by the new holder');
      assert.deepEqual(current.service.snapshot().book.account.positions['USD/COP']?.quantity, 0n);
    });
  });
}
