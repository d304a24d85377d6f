/**
 * Gauges whose value is a fact about the shared state rather than an event in this process, set
 * when Prometheus scrapes: market open (calendar), data freshness (bus latest-tick cache, only
 * while the market is open), key credits left (`api_keys`) and gaps open (missing bars of the
 * current and previous sessions, the failsafe's coverage figure, cached for `gapsCacheMs`), the
 * live parity record (the parity monitor's runs, whichever process ran them), each symbol's bar
 * freshness (the latest stored bar) and the database's disk use; and one fact about this process:
 * its bus publish backlog (events waiting for Redis).
 * They read the database and the bus, so any API process reports them, whichever process ingests.
 */
import { cachedLatestPrice, type Bus } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import type { Calendars } from '../domain/calendar.ts';
import { errorMessage } from '../errors.ts';
import { BAR_MS } from '../domain/bar.ts';
import { BAR_DUE_GRACE_MS, recentSessions } from '../domain/gaps.ts';
import { lastBarBefore } from '../store/bars-repo.ts';
import { coverageOf } from '../store/coverage.ts';
import type { Logger } from '../log.ts';
import { listApiKeys, windowUsage } from '../store/api-keys-repo.ts';
import type { Db } from '../store/db.ts';
import { parityRecord } from '../store/parity-repo.ts';
import type { Metrics } from './metrics.ts';

export interface ScrapeGaugeOptions {
  db: Db;
  bus: Bus;
  clock: Clock;
  calendar: Calendars;
  metrics: Metrics;
  symbols: readonly string[];
  logger: Logger;
  /** How long the gaps figure is reused (it costs a query over two sessions); default 30 s of the clock. */
  gapsCacheMs?: number;
}

export interface ScrapeGauges {
  /** Sets every scrape-time gauge; a part that fails is logged and its gauge cleared, never thrown. */
  update(): Promise<void>;
}

const DEFAULT_GAPS_CACHE_MS = 30_000;

export function createScrapeGauges(o: ScrapeGaugeOptions): ScrapeGauges {
  const cacheMs = o.gapsCacheMs ?? DEFAULT_GAPS_CACHE_MS;
  let gapsAt: number | null = null;
  const guarded = async (name: string, clear: () => void, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      clear();
      o.logger.warn({ gauge: name, err: errorMessage(err) }, 'metrics: could not read a scrape-time gauge');
    }
  };
  const update = async (): Promise<void> => {
    const now = o.clock.now();
    for (const symbol of o.symbols) o.metrics.marketOpen.set({ symbol }, o.calendar.of(symbol).isMarketOpen(now) ? 1 : 0);
    setBusBacklog(o, now);
    await Promise.all([
      guarded('tasa_data_freshness_seconds', () => o.metrics.dataFreshness.reset(), () => setFreshness(o, now)),
      guarded('tasa_key_credits_left', () => o.metrics.keyCreditsLeft.reset(), () => setKeyCredits(o, now)),
      guarded('tasa_parity_*', () => resetParity(o.metrics), () => setParity(o)),
      guarded('tasa_bar_freshness_seconds', () => o.metrics.barFreshness.reset(), () => setBarFreshness(o, now)),
      guarded('tasa_store_bytes', () => o.metrics.storeBytes.reset(), () => setStoreBytes(o)),
      guarded(
        'tasa_gaps_open',
        () => {
          o.metrics.gapsOpen.reset();
          gapsAt = null;
        },
        async () => {
          if (gapsAt !== null && now - gapsAt < cacheMs && now >= gapsAt) return;
          await setGapsOpen(o, now);
          gapsAt = now;
        },
      ),
    ]);
  };
  // Concurrent scrapes share one update, so one never renders another's half-reset gauges.
  let inflight: Promise<void> | null = null;
  return {
    update: () =>
      (inflight ??= update().finally(() => {
        inflight = null;
      })),
  };
}

/** Seconds since the latest tick was received, per symbol, while the market is open; no sample otherwise. */
/** Each symbol's tick age, only while its own market is open. */
async function setFreshness(o: ScrapeGaugeOptions, now: number): Promise<void> {
  for (const symbol of o.symbols) {
    const latest = o.calendar.of(symbol).isMarketOpen(now) ? await cachedLatestPrice(o.bus, symbol) : null;
    const receivedAt = latest === null ? NaN : Date.parse(latest.receivedAt);
    // No known tick: no sample (a made-up age would be a guess); deploy rules alert on the absence in session.
    if (!Number.isFinite(receivedAt)) o.metrics.dataFreshness.remove({ symbol });
    else o.metrics.dataFreshness.set({ symbol }, Math.max(0, now - receivedAt) / 1000);
  }
}

/** Seconds since the end of each symbol's latest stored bar (any source); no sample for a symbol without bars. */
async function setBarFreshness(o: ScrapeGaugeOptions, now: number): Promise<void> {
  for (const symbol of o.symbols) {
    const bar = await lastBarBefore(o.db, symbol, now + 1);
    if (bar === null) o.metrics.barFreshness.remove({ symbol });
    else o.metrics.barFreshness.set({ symbol }, Math.max(0, now - (bar.time + BAR_MS)) / 1000);
  }
}

/** The database's size on disk, as PostgreSQL (or PGlite) counts it. */
async function setStoreBytes(o: ScrapeGaugeOptions): Promise<void> {
  const [row] = await o.db.query<{ bytes: number }>('SELECT pg_database_size(current_database())::int8 AS bytes');
  o.metrics.storeBytes.set(row?.bytes ?? 0);
}

/** This process's bus events waiting for Redis (publish buffer), and those it had to refuse. */
function setBusBacklog(o: ScrapeGaugeOptions, now: number): void {
  const backlog = o.bus.backlog();
  o.metrics.busPublishBacklog.set(backlog.pending);
  o.metrics.busPublishOldestAge.set(backlog.oldestAt === null ? 0 : Math.max(0, now - backlog.oldestAt) / 1000);
  o.metrics.busPublishRefused.set(backlog.dropped);
}

/** Credits left in the current minute and day windows of each key; a bad key has none. */
async function setKeyCredits(o: ScrapeGaugeOptions, now: number): Promise<void> {
  const keys = await listApiKeys(o.db);
  o.metrics.keyCreditsLeft.reset();
  for (const k of keys) {
    const used = windowUsage(k, now);
    const bad = k.status === 'bad';
    o.metrics.keyCreditsLeft.set({ key_id: k.id, window: 'minute' }, bad ? 0 : Math.max(0, k.minuteLimit - used.minuteUsed));
    o.metrics.keyCreditsLeft.set({ key_id: k.id, window: 'day' }, bad ? 0 : Math.max(0, k.dayLimit - used.dayUsed));
  }
}

/** Missing due bars of the current (if a slot of it is due) and previous sessions, as the failsafe counts them. */
async function setGapsOpen(o: ScrapeGaugeOptions, now: number): Promise<void> {
  const dueBy = now - BAR_DUE_GRACE_MS;
  for (const symbol of o.symbols) {
    const calendar = o.calendar.of(symbol);
    const sessions = recentSessions(calendar, dueBy, 2);
    const coverage = await coverageOf(o.db, calendar, symbol, sessions, dueBy);
    o.metrics.gapsOpen.set({ symbol }, coverage.reduce((sum, c) => sum + c.missing, 0));
  }
}

const PARITY_GAUGES = ['paritySessions', 'paritySessionsMismatched', 'parityTradesCompared', 'parityTradesMatched', 'parityLastMismatch', 'parityPriceDiffBps'] as const;

function resetParity(metrics: Metrics): void {
  for (const name of PARITY_GAUGES) metrics[name].reset();
}

/** Per strategy the monitor compared: sessions, trades, the last session's outcome and price difference. */
async function setParity(o: ScrapeGaugeOptions): Promise<void> {
  const record = await parityRecord(o.db);
  resetParity(o.metrics);
  for (const r of record) {
    const labels = { strategy: r.strategy };
    o.metrics.paritySessions.set(labels, r.sessions);
    o.metrics.paritySessionsMismatched.set(labels, r.sessionsMismatched);
    o.metrics.parityTradesCompared.set(labels, r.tradesCompared);
    o.metrics.parityTradesMatched.set(labels, r.tradesMatched);
    o.metrics.parityLastMismatch.set(labels, r.lastSessionMatched ? 0 : 1);
    if (r.lastPriceDiffBps !== null) o.metrics.parityPriceDiffBps.set(labels, r.lastPriceDiffBps);
  }
}
