import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/store/db.ts';
import { acquireLease, holdsFence, leaseHolder, leaseRows, releaseLease } from '../../src/store/leases-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const T0 = Date.parse('2025-03-03T13:00:00Z');

for (const target of databaseTargets()) {
  describe(`ingest leases on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('gives a lease to one holder at a time, renews it, and hands it over when it expires, raising the epoch per holder', async () => {
      const lease = { name: 'ingest:USD/COP', ttlMs: 30_000 };
      assert.equal(await acquireLease(db, { ...lease, holder: 'a', now: T0 }), 1);
      assert.equal(await acquireLease(db, { ...lease, holder: 'b', now: T0 + 1000 }), null);
      assert.equal(await acquireLease(db, { ...lease, holder: 'a', now: T0 + 20_000 }), 1, 'the holder renews under the same epoch');
      assert.equal(await acquireLease(db, { ...lease, holder: 'b', now: T0 + 40_000 }), null, 'renewed lease still valid');
      assert.equal(await leaseHolder(db, lease.name, T0 + 40_000), 'a');
      assert.equal(await acquireLease(db, { ...lease, holder: 'b', now: T0 + 50_001 }), 2, 'expired: b takes over under a new epoch');
      assert.equal(await acquireLease(db, { ...lease, holder: 'a', now: T0 + 50_002 }), null);
      assert.equal(await acquireLease(db, { ...lease, holder: 'b', now: T0 + 90_000 }), 2, 'b takes back its own expired lease: nobody wrote between, same epoch');
      await releaseLease(db, lease.name, 'b');
      assert.equal(await leaseHolder(db, lease.name, T0 + 90_001), null);
      assert.equal(await acquireLease(db, { ...lease, holder: 'a', now: T0 + 90_002 }), 3, 'released: free at once, and the epoch keeps counting');
      const [row] = await leaseRows(db, [lease.name]);
      assert.deepEqual(row && { holder: row.holder, epoch: row.epoch, expiresAt: row.expiresAt }, { holder: 'a', epoch: 3, expiresAt: T0 + 120_002 });
    });

    it('fences: only the current holder with its current epoch passes', async () => {
      const name = 'ingest:FENCE';
      assert.equal(await acquireLease(db, { name, holder: 'a', now: T0, ttlMs: 10_000 }), 1);
      assert.equal(await db.transaction((tx) => holdsFence(tx, name, 'a', 1)), true);
      assert.equal(await acquireLease(db, { name, holder: 'b', now: T0 + 10_000, ttlMs: 10_000 }), 2);
      assert.equal(await db.transaction((tx) => holdsFence(tx, name, 'a', 1)), false, 'a lost it');
      assert.equal(await db.transaction((tx) => holdsFence(tx, name, 'b', 1)), false, 'an old epoch of b does not pass');
      assert.equal(await db.transaction((tx) => holdsFence(tx, name, 'b', 2)), true);
    });

    it('lets exactly one of many concurrent takers win', async () => {
      const name = 'ingest:race';
      const results = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((holder) => acquireLease(db, { name, holder, now: T0, ttlMs: 10_000 })));
      assert.equal(results.filter((e) => e !== null).length, 1);
    });
  });
}
