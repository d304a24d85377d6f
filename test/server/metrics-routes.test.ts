/**
 * GET /metrics on the real server: the Prometheus text of the one registry, with counters moved by
 * ticks flowing through the real TickProcessor and DurableWriter, and the gauges read at scrape time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import type { FeedEvent, LiveFeed } from '../../src/feeds/feed-events.ts';
import { DurableWriter } from '../../src/ingest/durable-writer.ts';
import { IngestService } from '../../src/ingest/ingest-service.ts';
import { dispatch, JOB_SCHEDULES } from '../../src/jobs/boss.ts';
import { TickProcessor } from '../../src/ingest/tick-processor.ts';
import { registerApiKeys, takeApiKeyCredits } from '../../src/store/api-keys-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const SYMBOL = 'USD/COP';
const logger = pino({ level: 'silent' });
/** OPEN_TIME is 2024-01-02 15:00Z (10:00 Bogota). The previous session is Friday 2023-12-29 (60 bars; Jan 1 is a holiday). */
const SESSION_OPEN = Date.UTC(2024, 0, 2, 13, 0);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined when absent. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

function tick(time: number, price: number, receivedAt = time + 150): Tick {
  return { symbol: SYMBOL, time, price, bid: price - 1, ask: price + 1, receivedAt, source: 'simulator' };
}

function bar(time: number): Bar {
  return { symbol: SYMBOL, time, open: 4000, high: 4001, low: 3999, close: 4000, volume: null, tickCount: 3, source: 'simulator', revision: 1, flags: [] };
}

/** A feed that plays its events, then stays open until closed. */
class ScriptedFeed implements LiveFeed {
  private release: () => void = () => undefined;
  private readonly closed = new Promise<void>((resolve) => (this.release = resolve));
  constructor(private readonly script: FeedEvent[]) {}
  async *events(): AsyncIterable<FeedEvent> {
    for (const event of this.script) yield event;
    await this.closed;
  }
  subscribe(): void {}
  unsubscribe(): void {}
  close(): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await check()); i++) {
    if (i > 800) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const target of databaseTargets()) {
  describe(`GET /metrics on ${target.name}`, () => {
    let db: Db;
    let ts: TestServer;

    before(async () => {
      db = await target.open();
      ts = await startTestServer({ db });
    });
    after(async () => {
      await ts?.close();
      await db?.close();
    });

    const scrape = async (): Promise<{ text: string; samples: Sample[]; contentType: string }> => {
      const res = await ts.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      return { text: res.body, samples: parseSamples(res.body), contentType: String(res.headers['content-type']) };
    };

    it('renders the registry in Prometheus text format with its content type, without a token', async () => {
      const { text, contentType } = await scrape();
      assert.equal(contentType, ts.deps.metrics.registry.contentType);
      for (const line of ['# TYPE tasa_ticks_received_total counter', '# TYPE tasa_market_open gauge', '# TYPE tasa_receive_to_stored_seconds histogram', '# HELP tasa_gaps_open']) {
        assert.ok(text.includes(line), `missing "${line}"`);
      }
      const spec = (await ts.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
      assert.ok('/metrics' in spec.paths, '/metrics is documented');
    });

    it('reads market open, gaps, key credits and freshness at scrape time', async () => {
      let { samples } = await scrape();
      assert.equal(value(samples, 'tasa_market_open', { symbol: SYMBOL }), 1);
      // Due by 14:58Z: 23 bars of today (13:00..14:50) and all 60 of Friday, none stored.
      assert.equal(value(samples, 'tasa_gaps_open', { symbol: SYMBOL }), 83);
      assert.equal(value(samples, 'tasa_data_freshness_seconds', { symbol: SYMBOL }), undefined, 'no tick known: no sample');
      assert.equal(value(samples, 'tasa_key_credits_left', { window: 'day' }), undefined, 'no key registered');

      await upsertBars(db, [bar(SESSION_OPEN), bar(SESSION_OPEN + BAR_MS), bar(SESSION_OPEN + 2 * BAR_MS)]);
      await registerApiKeys(db, [{ id: 'k_00000000ab', minuteLimit: 8, dayLimit: 800 }], ts.clock.now());
      await takeApiKeyCredits(db, 'k_00000000ab', 3, ts.clock.now());
      await ts.deps.bus.setLatest(`latest:${SYMBOL}`, { symbol: SYMBOL, price: 4000, receivedAt: new Date(ts.clock.now() - 4_000).toISOString() }, 60_000);
      await ts.clock.advance(10_000);
      ({ samples } = await scrape());
      assert.equal(value(samples, 'tasa_gaps_open', { symbol: SYMBOL }), 83, 'the gaps figure is cached for 30 s');
      assert.equal(value(samples, 'tasa_key_credits_left', { key_id: 'k_00000000ab', window: 'minute' }), 5);
      assert.equal(value(samples, 'tasa_key_credits_left', { key_id: 'k_00000000ab', window: 'day' }), 797);
      assert.equal(value(samples, 'tasa_data_freshness_seconds', { symbol: SYMBOL }), 14);

      await ts.clock.advance(51_000);
      ({ samples } = await scrape());
      assert.equal(value(samples, 'tasa_gaps_open', { symbol: SYMBOL }), 80, 'three stored bars fewer missing');
      assert.equal(value(samples, 'tasa_key_credits_left', { key_id: 'k_00000000ab', window: 'minute' }), 8, 'a new minute');
    });

    it('counts ticks, rejections, closed and stored bars and latencies as ticks flow through the pipeline', async () => {
      const metrics = ts.deps.metrics;
      const writer = new DurableWriter({ db, clock: ts.clock, logger, spoolPath: join(mkdtempSync(join(tmpdir(), 'metrics-spool-')), 'spool.jsonl'), tickFlushMs: 10, metrics });
      const pipeline = new TickProcessor({ symbol: SYMBOL, calendar: ts.deps.calendar.of(SYMBOL), clock: ts.clock, bus: ts.deps.bus, writer, logger, maxJump: 0.05, metrics });
      const before = parseSamples(await metrics.registry.metrics());
      const now = ts.clock.now();
      const slot = now - (now % BAR_MS);
      try {
        pipeline.addTick(tick(now - 2_000, 4000));
        pipeline.addTick(tick(now - 1_000, 4002));
        pipeline.addTick(tick(now - 500, -1));
        pipeline.addTick(tick(now, 4001));
        await writer.flush();
        // The slot closes on the clock (its end + the 2 s watermark): a final bar, stored at once.
        await ts.clock.advanceTo(slot + BAR_MS + 2_500);
        await writer.flush();
      } finally {
        pipeline.stop();
        await writer.close();
      }
      const { samples } = await scrape();
      const delta = (name: string, labels: Record<string, string> = {}) => (value(samples, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
      assert.equal(delta('tasa_ticks_received_total', { symbol: SYMBOL }), 4);
      assert.equal(delta('tasa_ticks_rejected_total', { symbol: SYMBOL, reason: 'non_positive_price' }), 1);
      assert.equal(delta('tasa_ticks_stored_total'), 3);
      assert.equal(delta('tasa_bars_closed_total', { symbol: SYMBOL, kind: 'final' }), 1);
      assert.equal(delta('tasa_bars_stored_total'), 1);
      assert.equal(delta('tasa_exchange_to_receive_seconds_count', { symbol: SYMBOL }), 3);
      assert.ok(Math.abs(delta('tasa_exchange_to_receive_seconds_sum', { symbol: SYMBOL }) - 0.45) < 1e-9, 'three ticks 150 ms late');
      assert.equal(delta('tasa_receive_to_stored_seconds_count', { kind: 'tick' }), 3);
      assert.equal(delta('tasa_receive_to_stored_seconds_count', { kind: 'bar' }), 1);
      // The pipeline published the latest tick: its age is the freshness (the market is open).
      assert.equal(value(samples, 'tasa_data_freshness_seconds', { symbol: SYMBOL }), (ts.clock.now() - (now + 150)) / 1000);
    });

    it('counts feed reconnects and refused subscriptions from the ingest service, and passes the metrics to its pipelines', async () => {
      const metrics = ts.deps.metrics;
      const now = ts.clock.now();
      const before = parseSamples(await metrics.registry.metrics());
      const feed = new ScriptedFeed([
        { type: 'status', state: 'connecting', attempt: 0 },
        { type: 'status', state: 'connected' },
        { type: 'subscription', success: [], failed: [SYMBOL] },
        { type: 'status', state: 'disconnected', detail: 'socket closed' },
        { type: 'status', state: 'reconnecting', attempt: 1, delayMs: 1000 },
        { type: 'status', state: 'connected' },
        { type: 'subscription', success: [SYMBOL], failed: [] },
        { type: 'tick', tick: tick(now - 1_000, 4000) },
        { type: 'status', state: 'disconnected', detail: 'socket closed' },
        { type: 'status', state: 'connected' },
      ]);
      const ingest = new IngestService({
        db,
        bus: ts.deps.bus,
        clock: ts.clock,
        calendar: ts.deps.calendar,
        logger,
        symbols: [SYMBOL],
        holder: 'metrics-test',
        spoolPath: join(mkdtempSync(join(tmpdir(), 'metrics-ingest-')), 'spool.jsonl'),
        readiness: { waitForL0Ms: 0 },
        openFeed: () => feed,
        metrics,
      });
      ingest.start();
      try {
        await until('the feed is consumed', async () => (await metrics.feedReconnects.get()).values[0]?.value === 2);
      } finally {
        await ingest.stop();
      }
      const { samples } = await scrape();
      const delta = (name: string, labels: Record<string, string> = {}) => (value(samples, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
      assert.equal(delta('tasa_feed_reconnects_total'), 2, 'the first connection is no reconnect');
      assert.equal(delta('tasa_feed_subscription_failures_total', { symbol: SYMBOL }), 1);
      assert.equal(delta('tasa_ticks_received_total', { symbol: SYMBOL }), 1);
      assert.equal(delta('tasa_ticks_stored_total'), 1);
    });

    it('counts job runs by outcome and times them', async () => {
      const metrics = ts.deps.metrics;
      const schedule = JOB_SCHEDULES.find((s) => s.job === 'sync');
      assert.ok(schedule);
      const handlers = { sync: () => Promise.resolve({ ok: true }), failsafe: () => Promise.reject(new Error('REST down')) };
      const o = { clock: ts.clock, calendar: ts.deps.calendar, logger, handlers, metrics };
      await dispatch(schedule, o);
      await assert.rejects(dispatch({ ...schedule, job: 'failsafe' }, o), /REST down/);
      const { samples } = await scrape();
      assert.equal(value(samples, 'tasa_job_runs_total', { job: 'sync', outcome: 'ok' }), 1);
      assert.equal(value(samples, 'tasa_job_runs_total', { job: 'failsafe', outcome: 'failed' }), 1);
      assert.equal(value(samples, 'tasa_job_duration_seconds_count', { job: 'sync' }), 1);
      assert.equal(value(samples, 'tasa_job_duration_seconds_count', { job: 'failsafe' }), 1);
    });

    it('drops the freshness sample and reports the market closed outside the session', async () => {
      await ts.clock.advanceTo(Date.UTC(2024, 0, 2, 18, 30));
      const { samples } = await scrape();
      assert.equal(value(samples, 'tasa_market_open', { symbol: SYMBOL }), 0);
      assert.equal(value(samples, 'tasa_data_freshness_seconds', { symbol: SYMBOL }), undefined);
      // A job fired on a day without a session is counted as skipped.
      const holiday = { clock: new ManualClock(Date.UTC(2024, 0, 1, 15, 0)), calendar: ts.deps.calendar, logger, handlers: { sync: () => Promise.resolve(1), failsafe: () => Promise.resolve(1) }, metrics: ts.deps.metrics };
      await dispatch({ queue: 'sync', job: 'sync', cron: '' }, holiday);
      const after = parseSamples(await ts.deps.metrics.registry.metrics());
      assert.equal(value(after, 'tasa_job_runs_total', { job: 'sync', outcome: 'skipped' }), 1);
    });
  });
}
