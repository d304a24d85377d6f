/**
 * The ingest service: turns one live feed into stored bars and bus events for several symbols,
 * each only in its own market's hours, following the lifecycle in lifecycle.ts.
 *
 * - One WebSocket for all symbols, open while any served market is open. It subscribes to exactly
 *   the symbols being served (market-hours.ts: from a market's open until its close plus the
 *   watermark grace); when a market opens or closes during the stream, that symbol alone is
 *   subscribed or unsubscribed on the live connection: the socket stays, and the other symbols'
 *   bars keep their coverage.
 * - Each symbol has its own lifecycle (READY while its market is closed, ACTIVE while served), its
 *   own calendar, session close, tick processor, lease and gap-fill before going live. The
 *   overall lifecycle is ACTIVE while any symbol is (what /status and the alerts read).
 * - Ticks stamped while their symbol's market is closed are counted and dropped, never aggregated.
 *
 * It holds a database lease per symbol so that one process writes a symbol at a time; a standby
 * takes over when the holder stops renewing.
 */
import type { Bus } from '../bus/index.ts';
import type { Clock, CancelTimer } from '../clock.ts';
import type { Calendars, MarketCalendar } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/time.ts';
import { errorMessage } from '../errors.ts';
import type { Tick } from '../domain/tick.ts';
import type { FeedEvent, LiveFeed } from '../feeds/feed-events.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { barsBetween } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { acquireLease, ingestLeaseName, releaseLease } from '../store/leases-repo.ts';
import { DurableWriter, type WriteFence, type WriterStats } from './durable-writer.ts';
import { Lifecycle, type LifecycleState, type Transition } from './lifecycle.ts';
import { nextChangeOfAny, symbolsServedAt } from './market-hours.ts';
import { checkData, DEFAULT_READINESS, historyEvidence, type DataCheck, type ReadinessOptions } from './readiness.ts';
import { TickProcessor, type TickCounters } from './tick-processor.ts';

export interface IngestServiceOptions {
  db: Db;
  bus: Bus;
  clock: Clock;
  calendar: Calendars;
  logger: Logger;
  symbols: string[];
  /**
   * Opens the live feed for the symbols served at that moment (called when the first market
   * opens; closed when the last one closes). Later changes go through its subscribe/unsubscribe.
   */
  openFeed: (symbols: string[]) => LiveFeed;
  /** Where batches wait when the database is down. */
  spoolPath: string;
  /** Bound of the spool file, bytes (default 1 GiB). */
  spoolMaxBytes?: number;
  /** This process's name in the lease table. */
  holder: string;
  leaseTtlMs?: number;
  /** Relative price jump rejected as absurd (default 5 %). */
  maxJump?: number;
  watermarkMs?: number;
  readiness?: Partial<ReadinessOptions>;
  /** Fills gaps of recent sessions from REST (the failsafe job's gap-fill), used in CHECKING_DATA. */
  fillGaps?: (symbol: string, from: IsoDate, to: IsoDate) => Promise<unknown>;
  /** Prometheus metrics, passed on to the tick processors and the writer; feed reconnects and refused subscriptions. */
  metrics?: Metrics;
}

/** One symbol's market and lifecycle, as the ingest sees them. */
export interface SymbolMarketStatus {
  /** READY while its market is closed, ACTIVE while the feed serves it. */
  state: LifecycleState;
  /** Its market is open now (its own calendar). */
  marketOpen: boolean;
  /** The live feed tracks it now (its open until its close plus the watermark grace). */
  subscribed: boolean;
  /** The session open now, or else the next one (ISO 8601 UTC). */
  session: { date: IsoDate; open: string; close: string } | null;
  /** When it entered `state` (ISO 8601 UTC). */
  since: string | null;
  /** Why it entered `state`, e.g. `market open`, `market closed`, `feed stopped or lease lost`. */
  reason: string | null;
  /** Ticks stamped while its market was closed: dropped, never aggregated. */
  ignoredMarketClosed: number;
}

export interface IngestStatus {
  /** This process's name in the lease table. */
  holder?: string;
  /** ACTIVE while any symbol is ACTIVE (the per-symbol states are in `markets`). */
  state: LifecycleState;
  transitions: readonly Transition[];
  /** Symbols whose lease this process holds. */
  leases: string[];
  /** The fencing epoch of each lease held. */
  leaseEpochs?: Record<string, number>;
  feed: { state: string; detail: string | null; connects: number; problems: Record<string, number>; failedSymbols: string[] };
  dataChecks: DataCheck[];
  symbols: Record<string, TickCounters>;
  /** Per symbol: its market and lifecycle (absent in snapshots of versions before many instruments). */
  markets?: Record<string, SymbolMarketStatus>;
  writer: WriterStats;
}

/** A symbol's own lifecycle and what the service knows of its market. */
interface SymbolState {
  lifecycle: Lifecycle;
  ignoredMarketClosed: number;
}

/** The longest the feed's subscriptions go without being derived again from the calendars. */
const RECONCILE_EVERY_MS = 60_000;

export class IngestService {
  /** ACTIVE while any symbol is active. */
  readonly lifecycle: Lifecycle;
  private readonly markets = new Map<string, SymbolState>();
  /** The symbols the current feed tracks. */
  private readonly served = new Set<string>();
  /** The served symbols whose subscription the server confirmed on the current connection: they are covered. */
  private readonly covered = new Set<string>();
  /** Late ticks of a market's last bar still count this long after its close. */
  private readonly graceMs: number;
  private readonly writer: DurableWriter;
  private readonly processors = new Map<string, TickProcessor>();
  private readonly readiness: ReadinessOptions;
  private readonly leaseTtlMs: number;
  /** Symbol -> the lease epoch this process holds it under. */
  private readonly held = new Map<string, number>();
  /** Whether the last lease renewal failed on the database (logged once per outage). */
  private leaseUnknown = false;
  /** The stream's lease renewal on its way to the database, if any: the stream's end waits for it. */
  private renewal: Promise<unknown> = Promise.resolve();
  private readonly feedStatus: IngestStatus['feed'] = { state: 'stopped', detail: null, connects: 0, problems: {}, failedSymbols: [] };
  private dataChecks: DataCheck[] = [];
  private feed: LiveFeed | null = null;
  /** Whether the current feed has connected once: its later connections are reconnects. */
  private feedConnected = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly opts: IngestServiceOptions) {
    this.lifecycle = new Lifecycle(() => opts.clock.now());
    this.readiness = { ...DEFAULT_READINESS, ...opts.readiness };
    this.leaseTtlMs = opts.leaseTtlMs ?? 30_000;
    this.graceMs = (opts.watermarkMs ?? 2_000) + 1_000;
    for (const symbol of opts.symbols) {
      const lifecycle = new Lifecycle(() => opts.clock.now());
      lifecycle.onTransition((t) => this.announceSymbol(symbol, t));
      this.markets.set(symbol, { lifecycle, ignoredMarketClosed: 0 });
    }
    this.writer = new DurableWriter({
      db: opts.db,
      clock: opts.clock,
      logger: opts.logger,
      spoolPath: opts.spoolPath,
      fence: this.fence(),
      calendar: opts.calendar,
      ...(opts.spoolMaxBytes === undefined ? {} : { spoolMaxBytes: opts.spoolMaxBytes }),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
    this.lifecycle.onTransition((t) => this.opts.logger.info({ from: t.from, to: t.to, reason: t.reason }, 'ingest lifecycle'));
  }

  /** Starts the lifecycle in the background; `stop()` ends it. */
  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      this.opts.logger.error({ err: errorMessage(err) }, 'ingest stopped on an error');
      this.transitionAll('ERROR', errorMessage(err));
    });
  }

  /** Stops streaming, flushes and releases the leases; a second call waits for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.feed?.close();
    await this.running;
    for (const p of this.processors.values()) {
      p.closeDueBars();
      p.stop();
    }
    await this.writer.close();
    await this.releaseLeases();
    this.transitionAll('SHUTDOWN', 'stopped');
  }

  status(): IngestStatus {
    const symbols: Record<string, TickCounters> = {};
    for (const [symbol, p] of this.processors) symbols[symbol] = p.counters;
    return {
      holder: this.opts.holder,
      state: this.lifecycle.state,
      transitions: this.lifecycle.transitions(),
      leases: [...this.held.keys()],
      leaseEpochs: Object.fromEntries(this.held),
      feed: { ...this.feedStatus },
      dataChecks: this.dataChecks,
      symbols,
      markets: this.marketStatuses(),
      writer: this.writer.stats(),
    };
  }

  private marketStatuses(): Record<string, SymbolMarketStatus> {
    const now = this.opts.clock.now();
    const out: Record<string, SymbolMarketStatus> = {};
    for (const [symbol, market] of this.markets) {
      const calendar = this.calendarOf(symbol);
      const session = calendar.nextSession(now);
      out[symbol] = {
        state: market.lifecycle.state,
        marketOpen: calendar.isMarketOpen(now),
        subscribed: this.served.has(symbol),
        ...lastTransition(market.lifecycle),
        session: { date: session.date, open: new Date(session.open).toISOString(), close: new Date(session.close).toISOString() },
        ignoredMarketClosed: market.ignoredMarketClosed,
      };
    }
    return out;
  }

  private calendarOf(symbol: string): MarketCalendar {
    return this.opts.calendar.of(symbol);
  }

  /** The overall lifecycle and every symbol's (ERROR, SHUTDOWN and the steps before READY). */
  private transitionAll(to: LifecycleState, reason: string): void {
    this.lifecycle.transition(to, reason);
    for (const market of this.markets.values()) market.lifecycle.transition(to, reason);
  }

  private symbolLifecycle(symbol: string): Lifecycle | undefined {
    return this.markets.get(symbol)?.lifecycle;
  }

  private async run(): Promise<void> {
    this.transitionAll('WAITING_L0', 'started');
    await this.waitForHistory();
    if (this.stopped) return;
    this.transitionAll('CHECKING_DATA', 'history available or wait over');
    await this.checkAndRepair();
    this.lifecycle.transition('READY', 'data checked');
    while (!this.stopped) {
      const now = this.opts.clock.now();
      const served = this.servedAt(now);
      const leases = served.length > 0 ? await this.holdLeases() : null;
      if (leases === 'held') {
        this.lifecycle.transition('ACTIVE', `markets open: ${served.join(', ')}`);
        await this.stream(served);
        this.lifecycle.transition('READY', this.stopped ? 'stopping' : 'markets closed, feed stopped or lease lost');
      } else {
        if (leases === 'lost') await this.yieldHeldLeases();
        const next = served.length > 0 ? now + this.leaseTtlMs * (1 + Math.random() / 2) : nextChangeOfAny(this.opts.calendar, this.opts.symbols, now, this.graceMs);
        await this.sleepUntil(next);
      }
    }
  }

  private servedAt(t: number): string[] {
    return symbolsServedAt(this.opts.calendar, this.opts.symbols, t, this.graceMs);
  }

  private async waitForHistory(): Promise<void> {
    const deadline = this.opts.clock.now() + this.readiness.waitForL0Ms;
    while (!this.stopped) {
      const evidence = await this.firstHistoryEvidence();
      if (evidence) return this.opts.logger.info({ evidence }, 'history is available');
      if (this.opts.clock.now() >= deadline) {
        return this.opts.logger.warn({ waitedMs: this.readiness.waitForL0Ms }, 'no history loaded yet; going on, the data check will backfill');
      }
      await this.sleepUntil(Math.min(deadline, this.opts.clock.now() + this.readiness.pollMs));
    }
  }

  private async firstHistoryEvidence(): Promise<string | null> {
    for (const symbol of this.opts.symbols) {
      const evidence = await historyEvidence(this.opts.db, symbol, this.readiness.readySignalFile);
      if (evidence) return evidence;
    }
    return null;
  }

  /** Freshness and completeness of each symbol's recent sessions (its own calendar); fills gaps when a filler is configured. */
  private async checkAndRepair(): Promise<void> {
    const now = this.opts.clock.now();
    this.dataChecks = [];
    for (const symbol of this.opts.symbols) {
      const calendar = this.calendarOf(symbol);
      let check = await checkData(this.opts.db, calendar, symbol, now, this.readiness);
      if ((!check.complete || !check.fresh) && this.opts.fillGaps) {
        await this.fillRecent(symbol, check);
        check = await checkData(this.opts.db, calendar, symbol, now, this.readiness);
      }
      if (!check.complete || !check.fresh) {
        this.opts.logger.warn({ symbol, completeness: check.completeness, lastBarAt: check.lastBarAt }, 'recent data is incomplete or stale');
      }
      this.dataChecks.push(check);
      this.symbolLifecycle(symbol)?.transition('READY', 'data checked');
    }
  }

  private async fillRecent(symbol: string, check: DataCheck): Promise<void> {
    const first = check.sessions[0];
    const last = check.sessions.at(-1);
    if (!first || !last || !this.opts.fillGaps) return;
    try {
      await this.opts.fillGaps(symbol, first.date, last.date);
    } catch (err) {
      this.opts.logger.warn({ symbol, err: errorMessage(err) }, 'gap fill before going live failed; the failsafe job will retry');
    }
  }

  /**
   * Takes or renews every symbol's lease. 'lost': the database answered that another holder has
   * one. 'unknown': the database did not answer; the leases we had are kept, since a database
   * outage is not a lost lease (the fence refuses our bar writes if another process took one meanwhile).
   */
  private async holdLeases(): Promise<'held' | 'lost' | 'unknown'> {
    const now = this.opts.clock.now();
    let unknown = false;
    let lost = false;
    for (const symbol of this.opts.symbols) {
      try {
        const epoch = await acquireLease(this.opts.db, { name: ingestLeaseName(symbol), holder: this.opts.holder, now, ttlMs: this.leaseTtlMs });
        lost ||= epoch === null;
        if (epoch === null) this.held.delete(symbol);
        else this.held.set(symbol, epoch);
      } catch (err) {
        unknown = true;
        if (!this.leaseUnknown) this.opts.logger.warn({ symbol, err: errorMessage(err) }, 'lease renewal failed on the database; keeping the feed and spooling (bar writes are fenced)');
      }
    }
    if (!unknown && this.leaseUnknown) this.opts.logger.info({ leases: Object.fromEntries(this.held) }, 'lease renewal recovered');
    this.leaseUnknown = unknown;
    if (lost) return 'lost';
    return unknown ? 'unknown' : 'held';
  }

  /**
   * Another process holds some of our symbols' leases: give back the ones we hold, so that one
   * process can take them all. Two processes that each got part of the leases (started together,
   * or a lease lapsed during a database outage) would otherwise both wait forever with every
   * market dark. The retry waits a lease's time with jitter, so one of them goes first.
   */
  private async yieldHeldLeases(): Promise<void> {
    if (this.held.size === 0) return;
    this.opts.logger.warn({ held: [...this.held.keys()] }, 'another process holds some of the leases: releasing ours so one process can hold them all');
    await this.releaseLeases();
  }

  private async releaseLeases(): Promise<void> {
    for (const symbol of this.held.keys()) await releaseLease(this.opts.db, ingestLeaseName(symbol), this.opts.holder).catch(() => undefined);
    this.held.clear();
  }

  /** The writer's fence: our epochs; a refused write means another process has the lease. */
  private fence(): WriteFence {
    return {
      holder: this.opts.holder,
      epochOf: (symbol) => this.held.get(symbol) ?? null,
      onFencedOut: (symbol) => {
        this.held.delete(symbol);
        void this.feed?.close();
      },
    };
  }

  /**
   * Streams one feed while any served market is open: subscriptions follow each market's hours
   * on the live connection; ends when the last market closes, the lease is lost, or on stop.
   */
  private async stream(served: readonly string[]): Promise<void> {
    await this.ensureProcessors();
    // Not subscribed yet: a symbol's slots count as covered from its confirmed subscription (bars know their coverage).
    for (const p of this.processors.values()) p.feedDown();
    const feed = this.opts.openFeed([...served]);
    this.feed = feed;
    this.feedConnected = false;
    this.feedStatus.connects++;
    for (const symbol of served) this.startServing(symbol, 'market open');
    const timers = [this.followMarketHours(feed), this.renewLeasesWhile(feed)];
    try {
      for await (const event of feed.events()) this.onFeedEvent(event);
    } catch (err) {
      this.opts.logger.error({ err: errorMessage(err) }, 'live feed failed; will reconnect');
    } finally {
      for (const cancel of timers) cancel();
      this.feed = null;
      this.feedStatus.state = 'stopped';
      for (const symbol of [...this.served]) this.stopServing(symbol, this.stopped ? 'stopping' : 'feed stopped or lease lost');
      for (const p of this.processors.values()) p.feedDown();
      // A renewal still on its way must not take a lease again after the run loop released it.
      await this.renewal;
    }
  }

  /**
   * At each market's open and close (+ grace), subscribes or unsubscribes that symbol; closes the
   * feed when none is left. Reconciles at once too (a market may have opened while the feed was
   * being set up), and at least once a minute: the subscriptions are derived again from the
   * calendars each time, so a change whose timer came late or not at all (a starved process, a
   * wall clock stepped under a scaled one) costs at most a minute, never the rest of a session.
   */
  private followMarketHours(feed: LiveFeed): CancelTimer {
    let cancel: CancelTimer = () => undefined;
    const follow = (): void => {
      if (this.resubscribe(feed) === 0) {
        this.opts.logger.info('every served market has closed: stopping the feed');
        void feed.close();
        return;
      }
      const now = this.opts.clock.now();
      const at = Math.min(nextChangeOfAny(this.opts.calendar, this.opts.symbols, now, this.graceMs), now + RECONCILE_EVERY_MS);
      cancel = this.opts.clock.setTimer(Math.max(0, at - now), follow);
    };
    follow();
    return () => cancel();
  }

  /** Brings the feed's subscriptions in line with the markets open now; returns how many are served. */
  private resubscribe(feed: LiveFeed): number {
    const wanted = new Set(this.servedAt(this.opts.clock.now()));
    const opened = this.opts.symbols.filter((symbol) => wanted.has(symbol) && !this.served.has(symbol));
    const closed = [...this.served].filter((symbol) => !wanted.has(symbol));
    if (closed.length > 0) {
      feed.unsubscribe(closed);
      for (const symbol of closed) this.stopServing(symbol, 'market closed');
      this.opts.logger.info({ unsubscribed: closed }, 'market closed: unsubscribed on the live feed');
    }
    if (opened.length > 0) {
      // Served before the subscribe goes out: its first ticks may follow at once.
      for (const symbol of opened) this.startServing(symbol, 'market open');
      feed.subscribe(opened);
      this.opts.logger.info({ subscribed: opened }, 'market open: subscribed on the live feed');
    }
    return wanted.size;
  }

  /** The symbol is tracked by the feed from now: ACTIVE; covered once the server confirms its subscription. */
  private startServing(symbol: string, reason: string): void {
    this.served.add(symbol);
    this.symbolLifecycle(symbol)?.transition('ACTIVE', reason);
  }

  /** The symbol is no longer tracked: READY, its slots (none open any more) no longer covered. */
  private stopServing(symbol: string, reason: string): void {
    this.served.delete(symbol);
    this.covered.delete(symbol);
    this.symbolLifecycle(symbol)?.transition('READY', reason);
    this.processors.get(symbol)?.feedDown();
  }

  /**
   * Renews the leases every third of their time while the feed streams. Cancelling also stops a
   * renewal already on its way to the database: re-arming after it would renew (or take again,
   * after a release at the stop) leases this stream no longer uses.
   */
  private renewLeasesWhile(feed: LiveFeed): CancelTimer {
    let live = true;
    let cancel: CancelTimer = () => undefined;
    const renew = (): void => {
      cancel = this.opts.clock.setTimer(this.leaseTtlMs / 3, () => {
        this.renewal = this.holdLeases().then((leases) => {
          if (!live) return;
          if (leases !== 'lost') return renew();
          this.opts.logger.warn({ holder: this.opts.holder }, 'ingest lease lost; another process writes now');
          return feed.close();
        }).catch((err: unknown) => this.opts.logger.error({ err: errorMessage(err) }, 'lease renewal failed unexpectedly'));
      });
    };
    renew();
    return () => {
      live = false;
      cancel();
    };
  }

  private onFeedEvent(event: FeedEvent): void {
    switch (event.type) {
      case 'tick':
        return this.onTick(event.tick);
      case 'status':
        this.feedStatus.state = event.state;
        this.feedStatus.detail = event.detail ?? null;
        if (event.state === 'connected') this.onConnected();
        if (event.state === 'disconnected' || event.state === 'stopped') {
          this.covered.clear();
          for (const p of this.processors.values()) p.feedDown(event.deliveredUntil);
        }
        return;
      case 'subscription':
        this.coverConfirmed(event.success);
        // Subscriptions come one market at a time: a later answer does not clear an earlier failure.
        this.feedStatus.failedSymbols = [...this.feedStatus.failedSymbols.filter((s) => !event.success.includes(s) && !event.failed.includes(s)), ...event.failed];
        for (const symbol of event.failed) this.opts.metrics?.subscriptionFailures.inc({ symbol });
        if (event.failed.length > 0) this.opts.logger.warn({ failed: event.failed }, 'symbols failed to subscribe');
        return;
      case 'problem':
        this.feedStatus.problems[event.kind] = (this.feedStatus.problems[event.kind] ?? 0) + 1;
        return;
      case 'silence':
        // Only covered symbols: one not yet confirmed is down already, and a silence's end must not cover it.
        for (const symbol of this.covered) this.processors.get(symbol)?.silent(event.from, event.to);
        return;
    }
  }

  /**
   * A tick stamped while its market is closed (the symbol's own calendar) is counted, never
   * aggregated. One stamped in the session is aggregated even when it arrives after the
   * unsubscribe at the close: it was in flight, and completes (or revises) the last bar.
   */
  private onTick(tick: Tick): void {
    const market = this.markets.get(tick.symbol);
    if (market === undefined) return;
    if (this.calendarOf(tick.symbol).isMarketOpen(tick.time)) {
      this.processors.get(tick.symbol)?.addTick(tick);
      return;
    }
    market.ignoredMarketClosed++;
  }

  private onConnected(): void {
    // A feed's first connection is expected; every later one is a reconnect.
    if (this.feedConnected) this.opts.metrics?.feedReconnects.inc();
    this.feedConnected = true;
  }

  /**
   * The server confirmed these subscriptions: their prices flow from now, so their slots count
   * as covered from now. Not from the connection's open: prices printed between the open and
   * the server taking the subscribe were never sent, and a bar counted whole would miss them.
   */
  private coverConfirmed(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      if (!this.served.has(symbol)) continue;
      this.covered.add(symbol);
      this.processors.get(symbol)?.feedUp();
    }
  }

  private async ensureProcessors(): Promise<void> {
    for (const symbol of this.opts.symbols) {
      if (this.processors.has(symbol)) continue;
      const lastPrice = await this.lastStoredClose(symbol);
      this.processors.set(
        symbol,
        new TickProcessor({
          symbol,
          calendar: this.calendarOf(symbol),
          clock: this.opts.clock,
          bus: this.opts.bus,
          writer: this.writer,
          logger: this.opts.logger,
          maxJump: this.opts.maxJump ?? 0.05,
          ...(lastPrice === null ? {} : { lastPrice }),
          ...(this.opts.watermarkMs === undefined ? {} : { watermarkMs: this.opts.watermarkMs }),
          ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
        }),
      );
    }
  }

  private async lastStoredClose(symbol: string): Promise<number | null> {
    const now = this.opts.clock.now();
    const bars = await barsBetween(this.opts.db, symbol, now - 7 * 24 * 3600_000, now + 1);
    return bars.at(-1)?.close ?? null;
  }

  /** A symbol's own transition, on its status channel. */
  private announceSymbol(symbol: string, t: Transition): void {
    this.opts.logger.info({ symbol, from: t.from, to: t.to, reason: t.reason }, 'ingest lifecycle of a symbol');
    this.opts.bus.publish('status', symbol, { kind: 'lifecycle', state: t.to, from: t.from, reason: t.reason, at: new Date(t.at).toISOString() }).catch(() => undefined);
  }

  /** Sleeps on the clock until `t`, or until stop() wakes it. */
  private sleepUntil(t: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.opts.clock.setTimer(Math.max(0, t - this.opts.clock.now()), () => {
        this.wake = null;
        resolve();
      });
      this.wake = () => {
        cancel();
        this.wake = null;
        resolve();
      };
    });
  }
}

/** When the lifecycle entered its state, and why. */
function lastTransition(lifecycle: Lifecycle): { since: string | null; reason: string | null } {
  const last = lifecycle.transitions().at(-1);
  return last === undefined ? { since: null, reason: null } : { since: new Date(last.at).toISOString(), reason: last.reason };
}
