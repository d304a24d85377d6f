import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { TasaError } from '../../src/errors.ts';
import { toIsoUtc } from '../../src/domain/time.ts';
import { StrategyRunner } from '../../src/execution/strategy-runner.ts';
import { createLogger } from '../../src/log.ts';
import { decideTargets } from '../../src/research/backtest.ts';
import { baselinePolicy } from '../../src/research/baselines.ts';
import { computeIndicatorColumns } from '../../src/research/indicators.ts';
import { toSeries } from '../../src/research/series.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { listStrategies, strategyPosition } from '../../src/store/strategies-repo.ts';
import { listOrders } from '../../src/store/trading-repo.ts';
import { bar } from '../support/store-fixtures.ts';
import { databaseTargets } from '../support/test-db.ts';
import { CLOSE, startRig, SYMBOL, T0, type Rig } from './trading-rig.ts';

const calendar = new MarketCalendar();
const NOTIONAL = 100_000n;
const MONDAY_OPEN = Date.parse('2024-03-04T13:00:00Z');
const TUESDAY_OPEN = Date.parse('2024-03-05T13:00:00Z');

/** Monday's session and Tuesday's first 24 bars rising (stored before the runner starts); then Tuesday falls, then rises. */
const HISTORY: Bar[] = [
  ...Array.from({ length: 60 }, (_, i) => bar(MONDAY_OPEN + i * BAR_MS, 4000 + i * 0.5)),
  ...Array.from({ length: 24 }, (_, i) => bar(TUESDAY_OPEN + i * BAR_MS, 4030 + i * 0.5)),
];
const LIVE: Bar[] = Array.from({ length: 16 }, (_, i) => bar(T0 + i * BAR_MS, i < 8 ? 4040 - i * 3 : 4019 + (i - 8) * 3));

/** sma-crossover's decision at each live bar, as L6 computes it over the same bars. */
function expectedDecisions(): number[] {
  const series = toSeries([...HISTORY, ...LIVE], calendar);
  const policy = baselinePolicy('sma-crossover');
  const targets = decideTargets(policy, series, computeIndicatorColumns(series, policy.indicators ?? []), () => new Float32Array(0));
  return [...targets.slice(HISTORY.length)];
}

for (const target of databaseTargets()) {
  describe(`strategy runner on ${target.name}`, () => {
    let db: Db;
    let clock: ManualClock;
    let rig: Rig;
    let runner: StrategyRunner | undefined;
    const logger = createLogger('silent');
    const newRunner = async () => {
      runner = new StrategyRunner({ db, bus: rig.bus, clock, calendar, logger, orders: rig.service }, { flattenLeadMs: 60_000 });
      await runner.start();
      return runner;
    };
    /** The ingest side: the bar stored and its final event published at its close; a tick before (the feed is live) and after (the order fills). */
    const liveBar = async (b: Bar, revision = 1) => {
      await clock.advanceTo(b.time + BAR_MS + 2_000);
      await rig.tick(4000, 4002);
      await upsertBars(db, [b]);
      await rig.bus.publish('bars', SYMBOL, { time: toIsoUtc(b.time), open: b.open, high: b.high, low: b.low, close: b.close, tickCount: 10, revision, final: true, source: 'twelvedata_ws' });
      await runner?.idle();
      await rig.tick(4000, 4002);
      await runner?.idle();
    };
    const held = () => strategyPosition(db, 'sma', SYMBOL);
    const strategyOrders = async () => (await listOrders(db, { limit: 1000 })).filter((o) => o.strategyId === 'sma');

    beforeEach(async () => {
      db = await target.open();
      clock = new ManualClock(T0);
      await upsertBars(db, HISTORY);
      rig = await startRig(db, clock);
    });
    afterEach(async () => {
      await runner?.stop();
      runner = undefined;
      await rig.stop();
      await db.close();
    });

    it('moves the position to each decision, trades a bar once, resumes after a restart and stops when switched off', async () => {
      const decisions = expectedDecisions();
      assert.ok(decisions.includes(1) && decisions.includes(-1), `the fixture crosses both ways: ${decisions.join(',')}`);
      await newRunner();
      await rig.tick(4000, 4002);
      await runner!.enable({ id: 'sma', symbol: SYMBOL, policyId: 'sma-crossover', targetNotional: NOTIONAL }, 'trader-1');
      // Bars 3-6 are stored but their messages are lost: the runner reads them before bar 7 (without them its SMAs would decide bar 7 otherwise).
      const LOST = new Set([3, 4, 5, 6]);
      for (let k = 0; k < 10; k++) {
        if (LOST.has(k)) {
          await upsertBars(db, [LIVE[k]!]);
          continue;
        }
        await liveBar(LIVE[k]!);
        assert.equal(await held(), BigInt(decisions[k]!) * NOTIONAL, `after live bar ${k}`);
      }
      const orders = (await strategyOrders()).length;
      await liveBar({ ...LIVE[9]!, close: LIVE[9]!.close - 1, low: LIVE[9]!.low - 1, revision: 2 }, 2);
      assert.equal((await strategyOrders()).length, orders, 'a revised bar trades nothing');

      await runner!.stop();
      await newRunner();
      assert.deepEqual(runner!.running().map((s) => s.id), ['sma']);
      for (let k = 10; k < 13; k++) {
        await liveBar(LIVE[k]!);
        assert.equal(await held(), BigInt(decisions[k]!) * NOTIONAL, `after live bar ${k}, restarted`);
      }

      await runner!.disable('sma', 'trader-1');
      const before = (await strategyOrders()).length;
      const position = await held();
      for (let k = 13; k < 16; k++) await liveBar(LIVE[k]!);
      assert.deepEqual([(await strategyOrders()).length, await held()], [before, position], 'switched off: no order');
      assert.deepEqual((await listStrategies(db)).map((s) => [s.id, s.enabled]), [['sma', false]]);
      await runner!.stop();
      await newRunner();
      assert.deepEqual(runner!.running(), []);

      const audit = await listAudit(db, { limit: 1000 });
      const actors = new Set(audit.filter((e) => e.action === 'order.placed').map((e) => e.actor));
      assert.deepEqual([...actors], ['strategy:sma']);
      const switches = audit.filter((e) => e.entity === 'strategy:sma').map((e) => [e.action, e.actor, e.details['enabled']]);
      assert.deepEqual(switches, [['strategy.started', 'trader-1', true], ['strategy.stopped', 'trader-1', false]]);
    });

    it('closes the strategy position before the session close', async () => {
      await newRunner();
      await rig.tick(4000, 4002);
      const refused = (code: string) => (err: unknown) => err instanceof TasaError && err.code === code;
      await assert.rejects(runner!.enable({ id: 'bad id', symbol: SYMBOL, policyId: 'flat', targetNotional: NOTIONAL }, 'trader-1'), refused('bad_argument'));
      await assert.rejects(runner!.enable({ id: 'x', symbol: SYMBOL, policyId: 'no-such-model', targetNotional: NOTIONAL }, 'trader-1'), refused('not_found'));
      await assert.rejects(runner!.enable({ id: 'bh', symbol: SYMBOL, policyId: 'buy-and-hold', targetNotional: NOTIONAL }, 'trader-1'), refused('bad_argument'));
      assert.deepEqual(await listStrategies(db), [], 'nothing saved');
      await runner!.enable({ id: 'sma', symbol: SYMBOL, policyId: 'always-long', targetNotional: NOTIONAL }, 'trader-1');
      await liveBar(LIVE[0]!);
      assert.equal(await held(), NOTIONAL);
      await clock.advanceTo(CLOSE - 70_000);
      await rig.tick(4000, 4002);
      await clock.advanceTo(CLOSE - 60_000);
      await runner!.idle();
      await rig.tick(4000, 4002);
      await runner!.idle();
      assert.equal(await held(), 0n);
      const flatten = (await strategyOrders()).find((o) => o.clientOrderId === 's.sma.flat-2024-03-05');
      assert.deepEqual([flatten?.status, flatten?.timeInForce, flatten?.side], ['filled', 'GTC', 'sell']);
    });
  });
}
