import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { busSeqFloors } from '../../src/store/bus-seq-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';

const T0 = Date.UTC(2025, 0, 6, 13);

for (const target of databaseTargets()) {
  describe(`bus seq floors on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('reads 0 for a symbol never saved, and only ever raises a floor (concurrent savers cannot lower it)', async () => {
      const clock = new ManualClock(T0);
      const floors = busSeqFloors(db, clock);
      assert.equal(await floors.load('USD/COP'), 0);
      await floors.save('USD/COP', 1_001);
      await clock.advance(1_000);
      await Promise.all([floors.save('USD/COP', 500), floors.save('USD/COP', 2_001), floors.save('USD/MXN', 7)]);
      assert.equal(await floors.load('USD/COP'), 2_001);
      assert.equal(await floors.load('USD/MXN'), 7);
      const [row] = await db.query<{ updated_at: Date | number | string }>("SELECT updated_at FROM bus_seq_floors WHERE symbol = 'USD/COP'");
      assert.equal(new Date(row?.updated_at ?? 0).getTime(), T0 + 1_000, 'stamped with the caller clock');
    });

    it('keeps seqs beyond 2^31 (bigint)', async () => {
      const floors = busSeqFloors(db, new ManualClock(T0));
      await floors.save('USD/BRL', 2 ** 40);
      assert.equal(await floors.load('USD/BRL'), 2 ** 40);
    });
  });
}
