import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/store/db.ts';
import { acquireLease, leaseHolder, releaseLease } from '../../src/store/leases-repo.ts';
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

    it('gives a lease to one holder at a time, renews it, and hands it over when it expires', async () => {
      const lease = { name: 'ingest:USD/COP', ttlMs: 30_000 };
      assert.equal(await acquireLease(db, { ...lease, holder: 'a', now: T0 }), true);
      assert.equal(await acquireLease(db, { ...lease, holder: 'b', now: T0 + 1000 }), false);
      assert.equal(await acquireLease(db, { ...lease, holder: 'a', now: T0 + 20_000 }), true, 'the holder renews');
      assert.equal(await acquireLease(db, { ...lease, holder: 'b', now: T0 + 40_000 }), false, 'renewed lease still valid');
      assert.equal(await leaseHolder(db, lease.name, T0 + 40_000), 'a');
      assert.equal(await acquireLease(db, { ...lease, holder: 'b', now: T0 + 50_001 }), true, 'expired: b takes over');
      assert.equal(await acquireLease(db, { ...lease, holder: 'a', now: T0 + 50_002 }), false);
      await releaseLease(db, lease.name, 'b');
      assert.equal(await leaseHolder(db, lease.name, T0 + 50_003), null);
      assert.equal(await acquireLease(db, { ...lease, holder: 'a', now: T0 + 50_004 }), true, 'released: free at once');
    });

    it('lets exactly one of many concurrent takers win', async () => {
      const name = 'ingest:race';
      const results = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((holder) => acquireLease(db, { name, holder, now: T0, ttlMs: 10_000 })));
      assert.equal(results.filter(Boolean).length, 1);
    });
  });
}
