import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  listApiKeys,
  markApiKeyBad,
  markApiKeyExhausted,
  registerApiKeys,
  reinstateApiKey,
  takeApiKeyCredits,
  windowUsage,
} from '../../src/store/api-keys-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { TasaError } from '../../src/errors.ts';
import { databaseTargets } from '../support/test-db.ts';

/** Tuesday 2024-03-05 13:30:10Z. */
const T0 = Date.UTC(2024, 2, 5, 13, 30, 10);
const MINUTE = 60_000;
const A = 'k_aaaaaaaaaa';
const B = 'k_bbbbbbbbbb';

for (const target of databaseTargets()) {
  describe(`api_keys repository on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
      await registerApiKeys(
        db,
        [
          { id: A, minuteLimit: 3, dayLimit: 5 },
          { id: B, minuteLimit: 8, dayLimit: 800 },
        ],
        T0,
      );
    });
    after(async () => {
      await db?.close();
    });

    it('takes credits up to the minute limit, then refuses without taking', async () => {
      for (let i = 1; i <= 3; i++) assert.equal((await takeApiKeyCredits(db, A, 1, T0))?.minuteUsed, i);
      assert.equal(await takeApiKeyCredits(db, A, 1, T0 + 1000), null);
      const [row] = await listApiKeys(db, [A]);
      assert.equal(row?.minuteUsed, 3);
      assert.equal(row?.dayUsed, 3);
      assert.equal(row?.creditsTotal, 3);
    });

    it('rolls the minute window over inside the take, and the day limit still holds', async () => {
      const next = await takeApiKeyCredits(db, A, 2, T0 + MINUTE);
      assert.equal(next?.minuteUsed, 2);
      assert.equal(next?.minuteStart, Date.UTC(2024, 2, 5, 13, 31));
      assert.equal(next?.dayUsed, 5);
      assert.equal(await takeApiKeyCredits(db, A, 1, T0 + 2 * MINUTE), null, 'day limit 5 reached');
      const tomorrow = await takeApiKeyCredits(db, A, 1, T0 + 86_400_000);
      assert.equal(tomorrow?.day, '2024-03-06');
      assert.equal(tomorrow?.dayUsed, 1);
    });

    it('a worker whose clock lags counts against the newer window', async () => {
      const ahead = T0 + 10 * MINUTE;
      await takeApiKeyCredits(db, B, 8, ahead);
      assert.equal(await takeApiKeyCredits(db, B, 1, ahead - MINUTE), null, 'the lagging clock must not reopen a spent window');
    });

    it('markExhausted fills the current window; markBad and reinstate flip the status', async () => {
      const t = T0 + 20 * MINUTE;
      await markApiKeyExhausted(db, B, 'minute', t);
      assert.equal(await takeApiKeyCredits(db, B, 1, t), null);
      assert.ok(await takeApiKeyCredits(db, B, 1, t + MINUTE));
      await markApiKeyExhausted(db, B, 'day', t + MINUTE);
      const [row] = await listApiKeys(db, [B]);
      assert.ok(row);
      assert.equal(windowUsage(row, t + MINUTE).dayUsed, 800);
      await markApiKeyBad(db, B, 'HTTP 401: **apikey** parameter is incorrect', t);
      assert.equal(await takeApiKeyCredits(db, B, 1, t + 86_400_000), null, 'a bad key gives nothing, even on a new day');
      assert.equal((await listApiKeys(db, [B]))[0]?.badReason, 'HTTP 401: **apikey** parameter is incorrect');
      await reinstateApiKey(db, B, t);
      assert.ok(await takeApiKeyCredits(db, B, 1, t + 86_400_000));
    });

    it('re-registering updates limits but keeps counters and a bad status', async () => {
      await markApiKeyBad(db, A, 'refused', T0);
      await registerApiKeys(db, [{ id: A, minuteLimit: 55, dayLimit: 5000 }], T0 + 3 * 86_400_000);
      const [row] = await listApiKeys(db, [A]);
      assert.equal(row?.status, 'bad');
      assert.equal(row?.minuteLimit, 55);
      assert.equal(row?.creditsTotal, 6);
    });

    it('concurrent takes never overspend a window', async () => {
      const C = 'k_cccccccccc';
      const t = T0 + 30 * MINUTE;
      await registerApiKeys(db, [{ id: C, minuteLimit: 8, dayLimit: 800 }], t);
      const results = await Promise.all(Array.from({ length: 40 }, () => takeApiKeyCredits(db, C, 1, t)));
      assert.equal(results.filter((r) => r !== null).length, 8);
      assert.equal((await listApiKeys(db, [C]))[0]?.minuteUsed, 8);
    });

    it('refuses anything that is not a key id (so a raw key can never be stored)', async () => {
      await assert.rejects(registerApiKeys(db, [{ id: 'my-secret-key', minuteLimit: 8, dayLimit: 800 }], T0), TasaError);
      await assert.rejects(db.query(`INSERT INTO api_keys (key_id, minute_limit, day_limit, minute_start, day, updated_at) VALUES ('secret', 8, 800, now(), '2024-01-01', now())`));
    });
  });
}
