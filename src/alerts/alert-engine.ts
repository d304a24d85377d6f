/**
 * The alert engine: evaluates the rules (alert-rules.ts) on live events and on a timer, stores
 * what they decide in the `alerts` table (deduplicated by key), and announces alerts that are new
 * (not repeats) on the `alerts` bus channel and to the notifiers (webhook, e-mail).
 *
 * Inputs:
 * - the bus, every symbol, `ticks` (last receive time, resolves "no ticks") and `bars` (price
 *   moves, on forming and final bars: one occurrence per bar, not per tick);
 * - a timer every `pollMs`: "no ticks" (only in session), the ingest status (this process's own
 *   when it ingests, else the snapshot the ingest process publishes on the bus, key
 *   `status:ingest`) for "feed disconnected", the `api_keys` table for the
 *   key budget, and the failsafe's coverage alerts, which the failsafe stores itself: the engine
 *   only forwards the newly raised ones (id above the highest seen at start) to the channel and
 *   notifiers.
 *
 * Database work runs one step at a time (a promise chain), so decisions apply in event order.
 * Several engines on one database (one per process on Redis) store each condition once: the
 * dedupe key makes every raise but the first a repeat, and only the first is announced. The
 * failsafe forwarding is per process, so run one engine per deployment to avoid duplicate
 * notifications of those.
 */
import { cachedLatestPrice, type Bus, type BusEvent, type Unsubscribe } from '../bus/index.ts';
import type { CancelTimer, Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { AlertMessage, BarEvent, LatestPrice } from '../contracts/bus-messages.ts';
import { anyMarketOpen, type Calendars } from '../domain/calendar.ts';
import { errorMessage } from '../errors.ts';
import { readIngestStatus, type SystemStatus } from '../ingest/status-publisher.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { listApiKeys } from '../store/api-keys-repo.ts';
import { listAlerts, raiseAlert, resolveAlert, type Alert } from '../store/alerts-repo.ts';
import { barsBetween } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { alertMessage, publishAlert } from './alert-message.ts';
import {
  ALERT_KINDS,
  dedupeKeys,
  feedDownDecision,
  keyBudgetDecision,
  priceMoveAlert,
  stalenessDecision,
  thresholdsFromConfig,
  type AlertCandidate,
  type AlertThresholds,
  type BarPrices,
  type RuleDecision,
} from './alert-rules.ts';
import { notifiersFromConfig, notifyAll, type Notifier } from './notifiers.ts';

export const DEFAULT_ALERT_POLL_MS = 10_000;

export type AlertConfig = Pick<
  Config,
  'TASA_ALERT_PRICE_MOVE_PCT' | 'TASA_ALERT_STALE_SECONDS' | 'TASA_ALERT_KEY_BUDGET_PCT' | 'TASA_ALERT_WEBHOOK_URL' | 'TASA_SMTP_URL' | 'TASA_ALERT_EMAIL_TO' | 'TASA_ALERT_EMAIL_FROM'
>;

export interface AlertEngineOptions {
  db: Db;
  bus: Bus;
  clock: Clock;
  calendar: Calendars;
  config: AlertConfig;
  logger: Logger;
  metrics?: Metrics;
  /** Symbols to watch (normalized); events of other symbols are ignored. */
  symbols: readonly string[];
  /** Default: from the configuration (webhook and/or e-mail). */
  notifiers?: Notifier[];
  /** Timer period of the staleness, feed, key budget and failsafe checks; default 10 s. */
  pollMs?: number;
  /** Feed down this long in session before it is alerted; default 30 s. */
  feedDownGraceMs?: number;
  /** The system's status when this process ingests; otherwise (null or absent) the published snapshot is read. */
  localStatus?: (() => SystemStatus) | null;
}

export interface AlertEngine {
  /** Resolves when every decision taken so far is stored and announced (notifications sent or failed). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Subscribes to the bus and starts the timer; `stop()` ends both. */
export async function startAlertEngine(o: AlertEngineOptions): Promise<AlertEngine> {
  const engine = new AlertEngineRun(o);
  await engine.start();
  return { settled: () => engine.settled(), stop: () => engine.stop() };
}

interface SymbolState {
  lastTickAt: number | null;
  /** The latest final bars (time, close), oldest first: the previous close of a bar. */
  finals: Array<{ time: number; close: number }>;
  /** Open time of the bar a price move was last raised for: one occurrence per bar. */
  priceMoveBar: number | null;
}

type OpenAlert = Omit<Alert, 'occurrences' | 'lastSeenAt' | 'resolvedAt'>;

const FINALS_KEPT = 3;
/** Polls waiting behind a stuck database are skipped beyond this many (the next ones see the same state). */
const MAX_QUEUED_POLLS = 60;
const ENGINE_KINDS = new Set<string>([ALERT_KINDS.priceMove, ALERT_KINDS.noTicks, ALERT_KINDS.feedDisconnected, ALERT_KINDS.keyBudgetLow]);

class AlertEngineRun {
  private readonly thresholds: AlertThresholds;
  private readonly notifiers: Notifier[];
  private readonly pollMs: number;
  private readonly watched: ReadonlySet<string>;
  private readonly state = new Map<string, SymbolState>();
  /** Dedupe key -> the alerts this engine believes open (it resolves only those). */
  private readonly open = new Map<string, OpenAlert>();
  private readonly sending = new Set<Promise<void>>();
  private chain: Promise<void> = Promise.resolve();
  private feedDownSince: number | null = null;
  private forwardedUpTo = 0;
  private queuedPolls = 0;
  private pollsSkipped = false;
  private timer: CancelTimer | null = null;
  private unsubscribe: Unsubscribe | null = null;
  private stopped = false;

  constructor(private readonly o: AlertEngineOptions) {
    this.thresholds = thresholdsFromConfig(o.config, o.feedDownGraceMs);
    this.notifiers = o.notifiers ?? notifiersFromConfig(o.config);
    this.pollMs = o.pollMs ?? DEFAULT_ALERT_POLL_MS;
    this.watched = new Set(o.symbols);
    for (const symbol of o.symbols) this.state.set(symbol, { lastTickAt: null, finals: [], priceMoveBar: null });
  }

  async start(): Promise<void> {
    await this.seed();
    this.unsubscribe = await this.o.bus.subscribe('*', (e) => this.onEvent(e), { channels: ['ticks', 'bars'] });
    this.schedule();
    this.o.logger.info({ symbols: this.o.symbols, notifiers: this.notifiers.map((n) => n.name), thresholds: this.thresholds }, 'alerts: engine started');
  }

  async settled(): Promise<void> {
    for (;;) {
      const chain = this.chain;
      await chain;
      await Promise.all(this.sending);
      if (chain === this.chain && this.sending.size === 0) return;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.();
    await this.unsubscribe?.();
    await this.settled();
    for (const n of this.notifiers) n.close?.();
  }

  /** What the engine must know before the first event: open alerts, last ticks and closes, the failsafe watermark. */
  private async seed(): Promise<void> {
    const { db, bus, clock } = this.o;
    for (const a of await listAlerts(db, { openOnly: true, limit: 1000 })) if (ENGINE_KINDS.has(a.kind)) this.open.set(a.dedupeKey, a);
    this.forwardedUpTo = (await listAlerts(db, { limit: 1 }))[0]?.id ?? 0;
    const now = clock.now();
    for (const [symbol, st] of this.state) {
      const latest = await cachedLatestPrice(bus, symbol);
      const receivedAt = latest === null ? NaN : Date.parse(latest.receivedAt);
      st.lastTickAt = Number.isFinite(receivedAt) ? receivedAt : null;
      const last = (await barsBetween(db, symbol, now - 7 * 24 * 3600_000, now + 1)).at(-1);
      if (last) st.finals.push({ time: last.time, close: last.close });
    }
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: unknown) => {
      this.o.logger.error({ err: errorMessage(err) }, 'alerts: evaluation failed');
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimer(this.pollMs, () => {
      // The time of the tick, not of when the chain gets to it (slow queries must not shift it).
      const now = this.o.clock.now();
      if (this.queuedPolls < MAX_QUEUED_POLLS) {
        this.queuedPolls++;
        this.enqueue(() => {
          this.queuedPolls--;
          this.pollsSkipped = false;
          return this.poll(now);
        });
      } else if (!this.pollsSkipped) {
        this.pollsSkipped = true;
        this.o.logger.warn({ queued: this.queuedPolls }, 'alerts: checks are falling behind (database slow?); skipping timer ticks');
      }
      this.schedule();
    });
  }

  // ---- live events ----

  private onEvent(e: BusEvent): void {
    const st = this.state.get(e.symbol);
    if (this.stopped || st === undefined) return;
    if (e.channel === 'ticks') this.onTick(e.symbol, st, e.data);
    else if (e.channel === 'bars') this.onBar(e.symbol, st, e.data);
  }

  private onTick(symbol: string, st: SymbolState, data: LatestPrice): void {
    const receivedAt = Date.parse(data.receivedAt);
    if (!Number.isFinite(receivedAt)) return;
    st.lastTickAt = Math.max(st.lastTickAt ?? receivedAt, receivedAt);
    if (!this.open.has(dedupeKeys.noTicks(symbol))) return;
    const now = this.o.clock.now();
    this.enqueue(() => this.apply(this.staleness(symbol, st, now), now));
  }

  private onBar(symbol: string, st: SymbolState, data: BarEvent): void {
    const bar = barOf(data);
    if (bar === null) return;
    const now = this.o.clock.now();
    const previousClose = st.finals.filter((f) => f.time < bar.time).at(-1)?.close ?? null;
    const alert = priceMoveAlert({ symbol, bar, previousClose, thresholdPct: this.thresholds.priceMovePct, at: now });
    if (alert !== null && st.priceMoveBar !== bar.time) {
      st.priceMoveBar = bar.time;
      this.enqueue(() => this.raise(alert));
    } else if (alert === null && bar.final && bar.time >= (st.priceMoveBar ?? -Infinity)) {
      // A calm final bar ends the move (a calm forming bar may still move).
      this.enqueue(() => this.apply({ action: 'resolve', dedupeKey: dedupeKeys.priceMove(symbol) }, now));
    }
    if (bar.final) rememberFinal(st, bar);
  }

  // ---- timer ----

  private async poll(now: number): Promise<void> {
    const checks: Array<[string, () => Promise<void>]> = [
      ['staleness', () => this.checkStaleness(now)],
      ['feed', () => this.checkFeed(now)],
      ['key budget', () => this.checkKeyBudget(now)],
      ['failsafe alerts', () => this.forwardFailsafeAlerts()],
    ];
    for (const [name, check] of checks) {
      await check().catch((err: unknown) => this.o.logger.warn({ check: name, err: errorMessage(err) }, 'alerts: check failed'));
    }
  }

  private staleness(symbol: string, st: SymbolState, now: number): RuleDecision {
    return stalenessDecision({ symbol, now, session: this.o.calendar.of(symbol).sessionAt(now), lastTickAt: st.lastTickAt, staleMs: this.thresholds.staleMs });
  }

  private async checkStaleness(now: number): Promise<void> {
    for (const [symbol, st] of this.state) await this.apply(this.staleness(symbol, st, now), now);
  }

  private async checkFeed(now: number): Promise<void> {
    // A snapshot expires when its publisher stops: then the status is unknown, and "no ticks" speaks.
    const { status } = await readIngestStatus({ localStatus: this.o.localStatus ?? null, bus: this.o.bus, clock: this.o.clock });
    const result = feedDownDecision({
      now,
      marketOpen: anyMarketOpen(this.o.calendar, this.o.symbols, now),
      ingest: status?.ingest ?? null,
      downSince: this.feedDownSince,
      graceMs: this.thresholds.feedDownGraceMs,
    });
    this.feedDownSince = result.downSince;
    await this.apply(result.decision, now);
  }

  private async checkKeyBudget(now: number): Promise<void> {
    await this.apply(keyBudgetDecision(await listApiKeys(this.o.db), now, this.thresholds.keyBudgetPct), now);
  }

  /** Coverage alerts the failsafe raised since the last look: announced as they are, never raised again. */
  private async forwardFailsafeAlerts(): Promise<void> {
    const raised = await listAlerts(this.o.db, { kind: ALERT_KINDS.sessionGap, limit: 100 });
    const fresh = raised.filter((a) => a.id > this.forwardedUpTo).reverse();
    for (const a of fresh) {
      this.forwardedUpTo = Math.max(this.forwardedUpTo, a.id);
      if (a.symbol !== null && !this.watched.has(a.symbol)) continue;
      await this.announce(alertMessage({ ...a, resolvedAt: null }));
    }
  }

  // ---- storing and announcing ----

  /** `at`: when the decision was taken (the chain may run it later; the clock has moved on by then). */
  private async apply(decision: RuleDecision | null, at: number): Promise<void> {
    if (decision === null) return;
    if (decision.action === 'raise') return this.raise(decision.alert);
    return this.resolve(decision.dedupeKey, at);
  }

  private async raise(alert: AlertCandidate): Promise<void> {
    const { id, created } = await raiseAlert(this.o.db, alert);
    this.open.set(alert.dedupeKey, { ...alert, id });
    if (created) await this.announce(alertMessage({ ...alert, id, resolvedAt: null }));
  }

  private async resolve(dedupeKey: string, at: number): Promise<void> {
    const alert = this.open.get(dedupeKey);
    if (alert === undefined) return;
    const resolved = await resolveAlert(this.o.db, dedupeKey, at);
    this.open.delete(dedupeKey);
    // Not open any more: an operator resolved it meanwhile, and announced that.
    if (resolved) await publishAlert(this.o.bus, this.o.symbols, alertMessage({ ...alert, resolvedAt: at }), this.o.logger);
  }

  /** A new alert: counted, published, and handed to the notifiers without waiting for them. */
  private async announce(msg: AlertMessage): Promise<void> {
    this.o.metrics?.alertsRaised.inc({ kind: msg.kind });
    this.o.logger.warn({ alert: msg.dedupeKey, severity: msg.severity, id: msg.id }, msg.message);
    await publishAlert(this.o.bus, this.o.symbols, msg, this.o.logger);
    if (this.notifiers.length === 0) return;
    const sending = notifyAll(this.notifiers, msg, this.o.logger).finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }
}

function rememberFinal(st: SymbolState, bar: BarPrices): void {
  const kept = st.finals.filter((f) => f.time !== bar.time);
  kept.push({ time: bar.time, close: bar.close });
  kept.sort((a, b) => a.time - b.time);
  st.finals = kept.slice(-FINALS_KEPT);
}

/** A `bars` channel message with prices (not an empty slot), or null. */
function barOf(data: BarEvent): (BarPrices & { final: boolean }) | null {
  if (data.empty === true) return null;
  const time = Date.parse(data.time);
  const { open, high, low, close, final } = data;
  if (!Number.isFinite(time) || !(open > 0)) return null;
  return { time, open, high, low, close, final };
}
