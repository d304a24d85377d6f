/**
 * The alert engine end to end: a real bus (in-process, and Redis with TEST_REDIS_URL), a real
 * database (PGlite, and PostgreSQL with TEST_DATABASE_URL), the manual clock driving its timer.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { startAlertEngine, type AlertEngine } from '../../src/alerts/alert-engine.ts';
import type { Notifier } from '../../src/alerts/notifiers.ts';
import type { BusEvent, Unsubscribe } from '../../src/bus/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import type { AlertMessage, LatestPrice } from '../../src/contracts/bus-messages.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { INGEST_STATUS_KEY, type IngestStatusSnapshot, type SystemStatus } from '../../src/ingest/status-publisher.ts';
import { barMessage } from '../../src/ingest/tick-processor.ts';
import { COVERAGE_ALERT_KIND } from '../../src/jobs/failsafe.ts';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.ts';
import { registerApiKeys, takeApiKeyCredits } from '../../src/store/api-keys-repo.ts';
import { listAlerts, raiseAlert, type Alert } from '../../src/store/alerts-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { MARKER, START, waitFor, type AnyDataBus } from '../bus/helpers.ts';
import { cleanupRedis, memoryTarget, redisTarget, type BusScope, type BusTarget } from '../bus/targets.ts';
import { databaseTargets } from '../support/test-db.ts';

const SYMBOL = 'USD/COP';
const calendar = new MarketCalendar();
const logger = pino({ level: 'silent' });
const config = loadConfig({});
const MIN = 60_000;
/** Monday 2025-03-03: START is the 08:00 Bogota open (13:00Z); the session closes at 18:00Z. */
const CLOSE = START + 5 * 60 * MIN;

const busTargets = [memoryTarget, redisTarget()].filter((t): t is BusTarget => t !== null);

/** Polls an async condition on real time (the Redis bus delivers on its own schedule). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A `bars` event exactly as the tick pipeline publishes it. */
function barEvent(time: number, open: number, high: number, low: number, close: number, final = true): Record<string, unknown> {
  return barMessage({ symbol: SYMBOL, time, open, high, low, close, volume: null, tickCount: 10, source: 'simulator', revision: 1, flags: [] }, final);
}

/** A `ticks` event in the pipeline's shape. */
function tickEvent(receivedAt: number, price = 4000): LatestPrice {
  const iso = new Date(receivedAt).toISOString();
  return { symbol: SYMBOL, price, bid: null, ask: null, spread: null, timestamp: iso, receivedAt: iso, source: 'simulator' };
}

/** A notifier that keeps what it was sent. */
function capturingNotifier(): Notifier & { sent: AlertMessage[] } {
  const sent: AlertMessage[] = [];
  return { name: 'capture', sent, send: (a) => Promise.resolve(void sent.push(a)) };
}

async function alertsOf(db: Db, kind: string): Promise<Alert[]> {
  return listAlerts(db, { kind });
}

for (const busTarget of busTargets) {
  for (const dbTarget of databaseTargets()) {
    describe(`alert engine on the ${busTarget.name} bus and ${dbTarget.name}`, () => {
      let db: Db;
      let scope: BusScope;
      let bus: AnyDataBus;
      let engine: AlertEngine | null;
      let metrics: Metrics;
      let notifier: ReturnType<typeof capturingNotifier>;
      let published: BusEvent[];
      let unsubscribe: Unsubscribe;

      before(async () => {
        db = await dbTarget.open();
      });
      after(async () => {
        await db?.close();
        await cleanupRedis();
      });
      beforeEach(async () => {
        await db.exec('DELETE FROM alerts; DELETE FROM api_keys;');
        scope = await busTarget.scope();
        bus = await scope.open();
        metrics = createMetrics({ defaultMetrics: false });
        notifier = capturingNotifier();
        published = [];
        unsubscribe = await bus.subscribe(SYMBOL, (e) => void published.push(e), { channels: ['alerts'] });
        engine = null;
      });
      afterEach(async () => {
        await engine?.stop();
        await unsubscribe();
        await scope.close();
      });

      const start = async (clock: ManualClock): Promise<AlertEngine> => {
        engine = await startAlertEngine({ db, bus, clock, calendar, config, logger, metrics, symbols: [SYMBOL], notifiers: [notifier], pollMs: 10_000 });
        return engine;
      };
      const messages = (): AlertMessage[] => published.filter((e) => !('marker' in (e.data as object))).map((e) => e.data as AlertMessage);
      /** Everything the engine published so far has arrived once a marker published after it has. */
      const drained = async (): Promise<void> => {
        await engine?.settled();
        const before = published.length;
        await bus.publish('alerts', SYMBOL, MARKER);
        await waitFor(() => published.slice(before).some((e) => 'marker' in (e.data as object)), 'the marker');
      };

      it('raises a 0.6 % move once, counts a repeat without announcing it again, and resolves on a calm bar', async () => {
        const clock = new ManualClock(START + 20 * MIN);
        await start(clock);
        await bus.publish('bars', SYMBOL, barEvent(START, 4000, 4024, 4000, 4020));
        await until('the move is stored', async () => (await alertsOf(db, 'price_move')).length === 1);
        await drained();
        assert.deepEqual(
          messages().map((m) => [m.state, m.kind, m.symbol]),
          [['open', 'price_move', SYMBOL]],
        );
        assert.equal(notifier.sent.length, 1);

        // The next bar closes 0.62 % above the previous close: the same condition, a repeat.
        await bus.publish('bars', SYMBOL, barEvent(START + 5 * MIN, 4020, 4045, 4020, 4045));
        await until('the repeat is counted', async () => (await alertsOf(db, 'price_move'))[0]?.occurrences === 2);
        await drained();
        assert.equal(messages().length, 1, 'a repeat is not published again');
        assert.equal(notifier.sent.length, 1, 'a repeat is not notified again');
        assert.equal((await alertsOf(db, 'price_move')).length, 1);
        assert.equal((await metrics.alertsRaised.get()).values.find((v) => v.labels['kind'] === 'price_move')?.value, 1);

        // Forming updates of one bar count once, not once per tick.
        await bus.publish('bars', SYMBOL, barEvent(START + 10 * MIN, 4045, 4075, 4045, 4070, false));
        await bus.publish('bars', SYMBOL, barEvent(START + 10 * MIN, 4045, 4076, 4045, 4071, false));
        await bus.publish('bars', SYMBOL, barEvent(START + 10 * MIN, 4045, 4076, 4045, 4071));
        await until('the forming move is counted', async () => (await alertsOf(db, 'price_move'))[0]?.occurrences === 3);

        await bus.publish('bars', SYMBOL, barEvent(START + 15 * MIN, 4071, 4072, 4070, 4071));
        await until('the move is resolved', async () => (await alertsOf(db, 'price_move'))[0]?.resolvedAt !== null);
        await drained();
        assert.equal((await alertsOf(db, 'price_move'))[0]?.occurrences, 3, 'the final of the forming bar is no new occurrence');
        assert.deepEqual(
          messages().map((m) => m.state),
          ['open', 'resolved'],
        );
      });

      it('raises "no ticks" after 2 minutes in session, resolves when ticks resume, and measures from the last tick', async () => {
        const clock = new ManualClock(START);
        await start(clock);
        await clock.advance(2 * MIN);
        await engine?.settled();
        assert.equal((await alertsOf(db, 'no_ticks')).length, 0, 'exactly 2 minutes is not over the limit');
        await clock.advance(10_000);
        await engine?.settled();
        const [stale] = await alertsOf(db, 'no_ticks');
        assert.ok(stale, 'raised after more than 2 minutes');
        assert.equal(stale.severity, 'critical');
        assert.equal(stale.resolvedAt, null);

        await bus.publish('ticks', SYMBOL, tickEvent(clock.now()));
        await until('ticks resumed', async () => (await alertsOf(db, 'no_ticks'))[0]?.resolvedAt !== null);
        const tickAt = clock.now();
        await clock.advanceTo(tickAt + 2 * MIN);
        await engine?.settled();
        assert.equal((await alertsOf(db, 'no_ticks')).length, 1, 'silence is measured from the last tick');
        await clock.advanceTo(tickAt + 2 * MIN + 10_000);
        await engine?.settled();
        const rows = await alertsOf(db, 'no_ticks');
        assert.equal(rows.length, 2, 'a new stretch of silence is a new alert');
        await drained();
        assert.deepEqual(
          messages().map((m) => `${m.kind} ${m.state}`),
          ['no_ticks open', 'no_ticks resolved', 'no_ticks open'],
        );
      });

      it('says nothing about missing ticks outside the session, and resolves a stale alert at the close', async () => {
        const clock = new ManualClock(CLOSE - 2 * MIN);
        await start(clock);
        await clock.advance(10_000);
        await engine?.settled();
        assert.equal((await alertsOf(db, 'no_ticks'))[0]?.resolvedAt, null, 'no tick since the open: stale');
        await clock.advanceTo(CLOSE + 2 * MIN);
        await engine?.settled();
        const rows = await alertsOf(db, 'no_ticks');
        assert.equal(rows.length, 1, 'no new alert after the close');
        assert.equal(rows[0]?.resolvedAt, CLOSE);

        const evening = new ManualClock(CLOSE + 3 * 3600_000);
        await engine?.stop();
        await start(evening);
        await evening.advance(3 * MIN);
        await engine?.settled();
        assert.equal((await alertsOf(db, 'no_ticks')).length, 1, 'nothing raised while closed');
      });

      it('raises "feed disconnected" from the ingest status after the grace period, as a system alert on every symbol stream', async () => {
        const clock = new ManualClock(START + 60 * MIN);
        // The parts of the published snapshot the rule reads.
        const status = (feed: string) =>
          ({
            publishedAt: new Date(clock.now()).toISOString(),
            everyMs: 5000,
            status: { now: '', store: '', bus: '', upstream: '', ingest: { state: 'ACTIVE', feed: { state: feed, detail: 'socket closed', connects: 1, problems: {}, failedSymbols: [] } } },
          }) as unknown as IngestStatusSnapshot;
        await bus.setLatest(INGEST_STATUS_KEY, status('reconnecting'), 3600_000);
        await start(clock);
        await clock.advance(30_000);
        await engine?.settled();
        assert.equal((await alertsOf(db, 'feed_disconnected')).length, 0, 'within the grace period');
        await clock.advance(10_000);
        await engine?.settled();
        const [down] = await alertsOf(db, 'feed_disconnected');
        assert.ok(down);
        assert.equal(down.symbol, null);
        await bus.setLatest(INGEST_STATUS_KEY, status('subscribed'), 3600_000);
        await clock.advance(10_000);
        await engine?.settled();
        assert.notEqual((await alertsOf(db, 'feed_disconnected'))[0]?.resolvedAt, null);
        await drained();
        const feedMessages = messages().filter((m) => m.kind === 'feed_disconnected');
        assert.deepEqual(
          feedMessages.map((m) => [m.state, m.symbol, m.id]),
          [
            ['open', null, down.id],
            ['resolved', null, down.id],
          ],
        );
      });

      it('reads the in-process status instead of the snapshot when it runs beside ingestion', async () => {
        const clock = new ManualClock(START + 60 * MIN);
        let lifecycle = 'ERROR';
        const localStatus = () => ({ now: '', store: '', bus: '', upstream: '', ingest: { state: lifecycle, feed: { state: 'stopped', detail: null } } }) as unknown as SystemStatus;
        engine = await startAlertEngine({ db, bus, clock, calendar, config, logger, symbols: [SYMBOL], notifiers: [], localStatus, feedDownGraceMs: 0 });
        await clock.advance(10_000);
        await engine.settled();
        assert.match((await alertsOf(db, 'feed_disconnected'))[0]?.message ?? '', /ingestion stopped on an error/);
        lifecycle = 'ACTIVE';
        await clock.advance(10_000);
        await engine.settled();
        assert.equal((await alertsOf(db, 'feed_disconnected'))[0]?.resolvedAt, null, 'ACTIVE with the feed stopped is still down');
      });

      it('raises "key budget low" when the usable keys have less than 10 % of their day credits left', async () => {
        const clock = new ManualClock(START + 60 * MIN);
        await registerApiKeys(db, [{ id: 'k_00000000aa', minuteLimit: 1000, dayLimit: 800 }], clock.now());
        await takeApiKeyCredits(db, 'k_00000000aa', 700, clock.now());
        await start(clock);
        await clock.advance(10_000);
        await engine?.settled();
        assert.equal((await alertsOf(db, 'key_budget_low')).length, 0, '12.5 % left');
        await takeApiKeyCredits(db, 'k_00000000aa', 50, clock.now());
        await clock.advance(10_000);
        await engine?.settled();
        const [low] = await alertsOf(db, 'key_budget_low');
        assert.ok(low);
        assert.match(low.message, /50 of 800 credits left/);
        assert.equal(notifier.sent.filter((a) => a.kind === 'key_budget_low').length, 1);
      });

      it('forwards coverage alerts the failsafe raises after it started, without storing them twice', async () => {
        const clock = new ManualClock(START + 60 * MIN);
        const coverage = (date: string) => ({
          kind: COVERAGE_ALERT_KIND,
          severity: 'warning' as const,
          symbol: SYMBOL,
          message: `USD/COP ${date}: 50 of 60 due bars stored`,
          details: { date },
          dedupeKey: `${COVERAGE_ALERT_KIND}:${SYMBOL}:${date}`,
        });
        await raiseAlert(db, coverage('2025-02-27'));
        await start(clock);
        await raiseAlert(db, coverage('2025-02-28'));
        await clock.advance(10_000);
        await engine?.settled();
        // The failsafe repeating the open alert is no new alert.
        await raiseAlert(db, coverage('2025-02-28'));
        await clock.advance(10_000);
        await engine?.settled();
        const forwarded = (list: AlertMessage[]) => list.filter((a) => a.kind === COVERAGE_ALERT_KIND).map((a) => a.dedupeKey);
        assert.deepEqual(forwarded(notifier.sent), [`${COVERAGE_ALERT_KIND}:${SYMBOL}:2025-02-28`]);
        await drained();
        assert.deepEqual(forwarded(messages()), [`${COVERAGE_ALERT_KIND}:${SYMBOL}:2025-02-28`]);
        assert.equal((await alertsOf(db, COVERAGE_ALERT_KIND)).length, 2);
      });
    });
  }
}
