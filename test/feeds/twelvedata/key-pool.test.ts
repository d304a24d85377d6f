/** KeyPool on every database target (and in memory): accounting, round-robin, persistence, secrecy. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.ts';
import { TasaError } from '../../../src/errors.ts';
import { apiKeyId, KeyPool, MemoryKeyStore, type KeyStore } from '../../../src/feeds/twelvedata/index.ts';
import { DbKeyStore } from '../../../src/feeds/twelvedata/key-store.ts';
import type { Db } from '../../../src/store/db.ts';
import { databaseTargets } from '../../support/test-db.ts';
import { captureLogger, realDelay } from './helpers.ts';

/** Waits (real time) until `value()` stops changing for a while: the takes woken by the clock are done. */
async function settled(value: () => number): Promise<void> {
  let last = -1;
  for (let stable = 0; stable < 10; ) {
    await realDelay(15);
    stable = value() === last ? stable + 1 : 0;
    last = value();
  }
}

/** Tuesday 2024-03-05 23:58:30Z: two minutes before a UTC day boundary. */
const START = Date.UTC(2024, 2, 5, 23, 58, 30);
const MINUTE = 60_000;
const KEYS = ['secret-key-alpha-1', 'secret-key-bravo-2', 'secret-key-charlie-3'];

describe('KeyPool.fromEnv', () => {
  const clock = new ManualClock(START);

  it('reads TWELVEDATA_API_KEYS and TWELVEDATA_API_KEY_1..16, deduplicated, blanks ignored', () => {
    const env = {
      TWELVEDATA_API_KEYS: ' a1 , ,b2,a1,',
      TWELVEDATA_API_KEY_1: 'c3',
      TWELVEDATA_API_KEY_2: '',
      TWELVEDATA_API_KEY_16: 'b2',
      TWELVEDATA_API_KEY_17: 'ignored',
    };
    assert.deepEqual(KeyPool.keysFromEnv(env), ['a1', 'b2', 'c3']);
    assert.deepEqual(KeyPool.fromEnv(env, { clock }).ids(), ['a1', 'b2', 'c3'].map(apiKeyId));
  });

  it('reads the plan, 8/min and 800/day by default, and refuses nonsense', () => {
    assert.deepEqual(KeyPool.planFromEnv({}), { perMinute: 8, perDay: 800 });
    assert.deepEqual(KeyPool.planFromEnv({ TWELVEDATA_PLAN_PER_MINUTE: '55', TWELVEDATA_PLAN_PER_DAY: '5000' }), { perMinute: 55, perDay: 5000 });
    assert.throws(() => KeyPool.planFromEnv({ TWELVEDATA_PLAN_PER_MINUTE: '8.5' }), (err: unknown) => err instanceof TasaError && err.input === 'TWELVEDATA_PLAN_PER_MINUTE');
  });

  it('ids are k_ + the first 10 hex digits of sha256', () => {
    assert.equal(apiKeyId('demo'), 'k_2a97516c35');
  });

  it('a pool without keys fails with a hint', async () => {
    await assert.rejects(KeyPool.fromEnv({}, { clock }).acquire(), (err: unknown) => err instanceof TasaError && /TWELVEDATA_API_KEYS/.test(err.hint ?? ''));
  });
});

interface StoreTarget {
  name: string;
  /** Opens a store; `shared` reopens the same storage as a second process would see it. */
  open(): Promise<{ store: () => KeyStore; db: Db | null; close: () => Promise<void> }>;
}

const targets: StoreTarget[] = [
  {
    name: 'memory',
    open: () => {
      const store = new MemoryKeyStore();
      return Promise.resolve({ store: () => store, db: null, close: () => Promise.resolve() });
    },
  },
  ...databaseTargets().map((t) => ({
    name: t.name,
    open: async () => {
      const db = await t.open();
      return { store: () => new DbKeyStore(db), db, close: () => db.close() };
    },
  })),
];

for (const target of targets) {
  describe(`KeyPool on ${target.name}`, () => {
    let opened: Awaited<ReturnType<StoreTarget['open']>>;
    let clock: ManualClock;
    const pool = (keys: string[], plan?: { perMinute: number; perDay: number }): KeyPool =>
      new KeyPool({ keys, clock, store: opened.store(), ...(plan ? { plan } : {}) });

    before(async () => {
      opened = await target.open();
    });
    after(async () => {
      await opened?.close();
    });

    it('hands out keys round-robin over those with budget', async () => {
      clock = new ManualClock(START);
      const p = pool(KEYS.slice(0, 3));
      const ids = [];
      for (let i = 0; i < 6; i++) ids.push((await p.acquire())?.id);
      assert.deepEqual(ids, [...p.ids(), ...p.ids()]);
      await p.markExhausted(p.ids()[1] ?? '', 'minute');
      const next = [];
      for (let i = 0; i < 4; i++) next.push((await p.acquire())?.id);
      assert.deepEqual(next, [p.ids()[0], p.ids()[2], p.ids()[0], p.ids()[2]]);
    });

    it('accounts per minute and per UTC day, rolling the windows over on the clock', async () => {
      clock = new ManualClock(Date.UTC(2024, 2, 5, 23, 57, 30));
      const p = pool(['minute-day-key'], { perMinute: 2, perDay: 3 });
      assert.ok(await p.acquire());
      assert.ok(await p.acquire());
      assert.equal(await p.acquire(), null);
      let [status] = await p.status();
      assert.deepEqual({ ...status, id: undefined }, {
        id: undefined,
        status: 'minute_exhausted',
        badReason: null,
        minuteUsed: 2,
        dayUsed: 2,
        minuteLimit: 2,
        dayLimit: 3,
        resetsAt: Date.UTC(2024, 2, 5, 23, 58),
      });
      await clock.advance(MINUTE);
      assert.ok(await p.acquire());
      await clock.advance(MINUTE);
      assert.equal(await p.acquire(), null, 'the day is spent, though the minute is new');
      [status] = await p.status();
      assert.equal(status?.status, 'day_exhausted');
      assert.equal(status?.resetsAt, Date.UTC(2024, 2, 6));
      await clock.advanceTo(Date.UTC(2024, 2, 6, 0, 0, 1));
      assert.ok(await p.acquire(), 'a new UTC day');
      [status] = await p.status();
      assert.deepEqual([status?.minuteUsed, status?.dayUsed], [1, 1]);
    });

    it('take() waits on the clock for the next minute when every key is spent', async () => {
      clock = new ManualClock(START);
      const p = pool(['waiting-key'], { perMinute: 2, perDay: 100 });
      await p.take();
      await p.take();
      let granted = false;
      const third = p.take().then(() => (granted = true));
      await realDelay(50);
      await clock.advanceTo(Date.UTC(2024, 2, 5, 23, 58, 59, 999));
      await realDelay(50);
      assert.equal(granted, false, 'still waiting just before the minute');
      await clock.advanceTo(Date.UTC(2024, 2, 5, 23, 59));
      await third;
      assert.equal((await p.status())[0]?.minuteUsed, 1);
    });

    it('survives a new pool instance on the same storage (restart, another worker)', async () => {
      clock = new ManualClock(START);
      const first = pool(['persisted-key-1', 'persisted-key-2']);
      for (let i = 0; i < 5; i++) await first.acquire();
      await first.markBad('persisted-key-2', 'HTTP 401 for persisted-key-2');
      const second = pool(['persisted-key-1', 'persisted-key-2']);
      const status = await second.status();
      assert.deepEqual(
        status.map((s) => [s.status, s.minuteUsed]),
        [
          ['ok', 3],
          ['bad', 2],
        ],
      );
      assert.equal(status[1]?.badReason, `HTTP 401 for ${apiKeyId('persisted-key-2')}`, 'a key in a reason is replaced by its id');
      await second.reinstate('persisted-key-2');
      assert.equal((await first.status())[1]?.status, 'ok');
    });

    it('two pools on one storage never exceed the minute limit together', async () => {
      clock = new ManualClock(START);
      const a = pool(['shared-key']);
      const b = pool(['shared-key']);
      const leases = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).acquire()));
      assert.equal(leases.filter((l) => l !== null).length, 8);
      let granted = 0;
      const takes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take().then(() => granted++));
      const perMinute: number[] = [];
      for (let minute = 1; minute <= 3; minute++) {
        const before = granted;
        await clock.advanceTo(Date.UTC(2024, 2, 5, 23, 58) + minute * MINUTE);
        await settled(() => granted);
        perMinute.push(granted - before);
      }
      await Promise.all(takes);
      assert.deepEqual(perMinute, [8, 8, 4]);
    });

    it('take() fails once every key is bad', async () => {
      clock = new ManualClock(START);
      const p = pool(['doomed-key-1', 'doomed-key-2']);
      await p.markBad('doomed-key-1', '401');
      await p.markBad(apiKeyId('doomed-key-2'), '403');
      await assert.rejects(p.take(), (err: unknown) => err instanceof TasaError && /marked bad/.test(err.message));
    });

    it('never lets a key out: status, leases, logs and stored rows carry ids only', async () => {
      clock = new ManualClock(START);
      const { logger, lines } = captureLogger();
      const p = new KeyPool({ keys: KEYS, clock, store: opened.store(), logger });
      const lease = await p.take();
      await p.markExhausted(lease, 'minute');
      await p.markBad(KEYS[1] ?? '', `refused: ${KEYS[1] ?? ''} is not valid`);
      await p.markBad('not-a-pool-key', 'whatever');
      const rows = opened.db ? await opened.db.query('SELECT * FROM api_keys') : [];
      const everything = [JSON.stringify(await p.status()), JSON.stringify(lease), inspect(lease), JSON.stringify(rows), ...lines].join('\n');
      for (const key of [...KEYS, 'not-a-pool-key']) assert.ok(!everything.includes(key), `${key} leaked`);
      assert.equal(lease.apiKey, KEYS[0], 'the client can still read it');
      assert.ok(everything.includes(apiKeyId(KEYS[1] ?? '')));
    });
  });
}
