/**
 * The live parity monitor over sessions a strategy traded live: the strategy runner and the order
 * service with the paper broker, on bars and ticks published by hand (as strategy-runner.test.ts),
 * then the monitor after each close. Monday trades cleanly; on Tuesday an extra order is placed
 * for the strategy; Wednesday trades cleanly again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { toIsoUtc, type IsoDate } from '../../src/domain/time.ts';
import { StrategyRunner, strategyActor } from '../../src/execution/strategy-runner.ts';
import { PARITY_ALERT_KIND, runParityMonitor } from '../../src/jobs/parity-monitor.ts';
import { createLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { createScrapeGauges } from '../../src/metrics/scrape-gauges.ts';
import { listAlerts } from '../../src/store/alerts-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { parityRecord } from '../../src/store/parity-repo.ts';
import { listRuns } from '../../src/store/pipeline-runs-repo.ts';
import { strategyPosition } from '../../src/store/strategies-repo.ts';
import { marketOrder, startRig, SYMBOL, type Rig } from '../execution/trading-rig.ts';
import { bar } from '../support/store-fixtures.ts';
import { databaseTargets } from '../support/test-db.ts';

const calendar = new MarketCalendar();
const NOTIONAL = 100_000n;
const FLATTEN_LEAD_MS = 60_000;
/** Bar of the session after which the tampering order goes in. */
const TAMPER_AFTER = 30;

/** A wave of about two crossings of SMA 10 / 20 per 20 bars, shifted per session. */
function sessionBars(date: IsoDate, phase: number): Bar[] {
  const session = calendar.sessionFor(date);
  assert.ok(session, date);
  return calendar.barGrid(session).map((time, i) => bar(time, Math.round((4000 + 15 * Math.sin((2 * Math.PI * (i + phase)) / 20)) * 100) / 100));
}

/** Monday 2024-03-04, 12:55Z: before the open. */
const START = Date.parse('2024-03-04T12:55:00Z');
/** 13:20 Bogota: when the job's cron fires. */
const afterClose = (date: IsoDate) => Date.parse(`${date}T18:20:00Z`);


for (const target of databaseTargets()) {
  describe(`parity monitor on ${target.name}`, () => {
    let db: Db;
    let clock: ManualClock;
    let rig: Rig;
    let runner: StrategyRunner;
    const monitor = () => runParityMonitor({ db, calendar, clock });
    /** The strategy's record as the API reads it, checked against what /metrics renders from it. */
    const recorded = async (strategy: string) => {
      const record = (await parityRecord(db)).find((r) => r.strategy === strategy);
      assert.ok(record, `a parity record for ${strategy}`);
      const metrics = createMetrics({ defaultMetrics: false });
      await createScrapeGauges({ db, bus: rig.bus, clock, calendar, metrics, symbols: [SYMBOL], logger: createLogger('silent') }).update();
      const text = await metrics.registry.metrics();
      const sample = (name: string) => Number(new RegExp(`^${name}\\{strategy="${strategy}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.deepEqual(
        [sample('tasa_parity_sessions_compared'), sample('tasa_parity_sessions_mismatched'), sample('tasa_parity_trades_compared'), sample('tasa_parity_trades_matched'), sample('tasa_parity_last_session_mismatch')],
        [record.sessions, record.sessionsMismatched, record.tradesCompared, record.tradesMatched, record.lastSessionMatched ? 0 : 1],
        '/metrics shows the stored record',
      );
      return record;
    };

    /** The ingest side, as strategy-runner.test.ts: a tick, the bar stored and published at its close, a tick that fills the decision. */
    const liveBar = async (b: Bar) => {
      await clock.advanceTo(b.time + BAR_MS + 2_000);
      await rig.tick(b.close - 1, b.close + 1);
      await upsertBars(db, [b]);
      await rig.bus.publish('bars', SYMBOL, { time: toIsoUtc(b.time), open: b.open, high: b.high, low: b.low, close: b.close, tickCount: 10, revision: 1, final: true, source: 'twelvedata_ws' });
      await runner.idle();
      await rig.tick(b.close - 1, b.close + 1);
      await runner.idle();
    };
    /** Ticks around the flatten time so the feed is fresh when the runner flattens, and its order fills. */
    const flatten = async (close: number, price: number) => {
      await clock.advanceTo(close - FLATTEN_LEAD_MS - 10_000);
      await rig.tick(price - 1, price + 1);
      await clock.advanceTo(close - FLATTEN_LEAD_MS);
      await runner.idle();
      await rig.tick(price - 1, price + 1);
      await runner.idle();
    };
    /** An order for the strategy beside its runner: it moves the position off the policy's decision. */
    const tamper = async (price: number) => {
      const held = await strategyPosition(db, 'sma', SYMBOL);
      await rig.service.place(marketOrder('s.sma.extra', held > 0n ? 'sell' : 'buy', NOTIONAL), { actor: strategyActor('sma'), strategyId: 'sma' });
      await rig.tick(price - 1, price + 1);
    };
    const tradeSession = async (date: IsoDate, phase: number, tampered = false) => {
      const bars = sessionBars(date, phase);
      for (const [i, b] of bars.entries()) {
        if (i === bars.length - 1) await flatten(b.time + BAR_MS, b.close);
        await liveBar(b);
        if (tampered && i === TAMPER_AFTER) await tamper(b.close);
      }
      assert.equal(await strategyPosition(db, 'sma', SYMBOL), 0n, `${date}: flat after the close`);
      await clock.advanceTo(afterClose(date));
    };

    before(async () => {
      db = await target.open();
      clock = new ManualClock(START);
      await upsertBars(db, sessionBars('2024-03-01', 0));
      rig = await startRig(db, clock, { broker: { fillModel: { slippageBps: 0n, feeBps: 0n, fixedFee: 0n, maxFillPerTick: null } } });
      runner = new StrategyRunner({ db, bus: rig.bus, clock, calendar, logger: createLogger('silent'), orders: rig.service }, { flattenLeadMs: FLATTEN_LEAD_MS });
      await runner.start();
      await runner.enable({ id: 'sma', symbol: SYMBOL, policyId: 'sma-crossover', targetNotional: NOTIONAL }, 'test');
    });
    after(async () => {
      await runner.stop();
      await rig.stop();
      await db.close();
    });

    it('finds every trade of a session traded live equal to the backtest, and raises nothing', async () => {
      await tradeSession('2024-03-04', 3);
      const result = await monitor();
      assert.equal(result.session, '2024-03-04');
      const [sma, ...others] = result.strategies;
      assert.equal(others.length, 0);
      assert.ok(sma);
      assert.ok(sma.compared >= 4, `the wave trades: ${sma.compared} round trips`);
      assert.deepEqual([sma.matched, sma.firstDifference, sma.alert], [sma.compared, null, null]);
      // Live fills are at the tick's bid or ask, the backtest's at the bar's open or close: a figure, not a failure.
      assert.ok(sma.priceDiffBps !== null && sma.priceDiffBps > 0 && sma.priceDiffBps < 50, `price difference ${sma.priceDiffBps} bps`);
      assert.deepEqual(await listAlerts(db, { kind: PARITY_ALERT_KIND }), []);
      const record = await recorded('sma');
      assert.deepEqual([record.sessions, record.tradesCompared, record.tradesMatched, record.sessionsMismatched, record.lastSession, record.lastSessionMatched], [1, sma.compared, sma.compared, 0, '2024-03-04', true]);
      assert.equal(record.lastPriceDiffBps, sma.priceDiffBps);
      await monitor();
      assert.equal((await recorded('sma')).sessions, 1, 'a session compared again counts once');
      const [run] = await listRuns(db, { layer: 'parity' });
      assert.deepEqual([run?.status, run?.rowsIn, run?.rowsOut, run?.params['session']], ['completed', sma.compared, sma.compared, '2024-03-04']);
    });

    it('raises an alert naming the session and the first difference when an extra order traded for the strategy', async () => {
      await tradeSession('2024-03-05', 7, true);
      const [sma] = (await monitor()).strategies;
      assert.ok(sma?.firstDifference, 'a difference');
      assert.ok(sma.matched < sma.compared);
      assert.equal(sma.alert, 'raised');
      const [alert, ...others] = await listAlerts(db, { kind: PARITY_ALERT_KIND, openOnly: true });
      assert.equal(others.length, 0);
      assert.equal(alert?.dedupeKey, 'parity_mismatch:sma');
      assert.equal(alert?.details['session'], '2024-03-05');
      assert.match(alert?.message ?? '', new RegExp(`sma .*2024-03-05: ${sma.matched} of ${sma.compared} paper trades agree.*first difference at trade ${sma.firstDifference.index + 1} \\(`));
      const record = await recorded('sma');
      assert.deepEqual([record.sessions, record.sessionsMismatched, record.lastSession, record.lastSessionMatched], [2, 1, '2024-03-05', false]);
      assert.ok(record.tradesCompared > record.tradesMatched);
    });

    it('resolves the alert when the next session agrees again', async () => {
      await tradeSession('2024-03-06', 11);
      const [sma] = (await monitor()).strategies;
      assert.deepEqual([sma?.matched, sma?.firstDifference, sma?.alert], [sma?.compared, null, 'resolved']);
      assert.deepEqual(await listAlerts(db, { kind: PARITY_ALERT_KIND, openOnly: true }), []);
      const record = await recorded('sma');
      assert.deepEqual([record.sessions, record.sessionsMismatched, record.lastSessionMatched], [3, 1, true]);
    });
  });
}
