/**
 * The ingest service: turns a live feed into stored bars and bus events during Colombian market
 * hours only, following the lifecycle in lifecycle.ts. It holds a database lease per symbol so
 * that one process writes a symbol at a time; a standby takes over when the holder stops renewing.
 */
import type { Bus } from '../bus/index.ts';
import type { Clock, CancelTimer } from '../clock.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/time.ts';
import { errorMessage } from '../errors.ts';
import type { FeedEvent, LiveFeed } from '../feeds/feed-events.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { barsBetween } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { acquireLease, ingestLeaseName, releaseLease } from '../store/leases-repo.ts';
import { DurableWriter, type WriteFence, type WriterStats } from './durable-writer.ts';
import { Lifecycle, type LifecycleState, type Transition } from './lifecycle.ts';
import { checkData, DEFAULT_READINESS, historyEvidence, type DataCheck, type ReadinessOptions } from './readiness.ts';
import { TickProcessor, type TickCounters } from './tick-processor.ts';

export interface IngestServiceOptions {
  db: Db;
  bus: Bus;
  clock: Clock;
  calendar: MarketCalendar;
  logger: Logger;
  symbols: string[];
  /** Opens the live feed for the symbols (called at each session open; closed at its end). */
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

export interface IngestStatus {
  /** This process's name in the lease table. */
  holder?: string;
  state: LifecycleState;
  transitions: readonly Transition[];
  /** Symbols whose lease this process holds. */
  leases: string[];
  /** The fencing epoch of each lease held. */
  leaseEpochs?: Record<string, number>;
  feed: { state: string; detail: string | null; connects: number; problems: Record<string, number>; failedSymbols: string[] };
  dataChecks: DataCheck[];
  symbols: Record<string, TickCounters>;
  writer: WriterStats;
}

export class IngestService {
  readonly lifecycle: Lifecycle;
  private readonly writer: DurableWriter;
  private readonly processors = new Map<string, TickProcessor>();
  private readonly readiness: ReadinessOptions;
  private readonly leaseTtlMs: number;
  /** Symbol -> the lease epoch this process holds it under. */
  private readonly held = new Map<string, number>();
  /** Whether the last lease renewal failed on the database (logged once per outage). */
  private leaseUnknown = false;
  private readonly feedStatus: IngestStatus['feed'] = { state: 'stopped', detail: null, connects: 0, problems: {}, failedSymbols: [] };
  private dataChecks: DataCheck[] = [];
  private feed: LiveFeed | null = null;
  /** Whether the current feed has connected once: its later connections are reconnects. */
  private feedConnected = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: IngestServiceOptions) {
    this.lifecycle = new Lifecycle(() => opts.clock.now());
    this.readiness = { ...DEFAULT_READINESS, ...opts.readiness };
    this.leaseTtlMs = opts.leaseTtlMs ?? 30_000;
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
    this.lifecycle.onTransition((t) => this.announce(t));
  }

  /** Starts the lifecycle in the background; `stop()` ends it. */
  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      this.opts.logger.error({ err: errorMessage(err) }, 'ingest stopped on an error');
      this.lifecycle.transition('ERROR', errorMessage(err));
    });
  }

  async stop(): Promise<void> {
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
    this.lifecycle.transition('SHUTDOWN', 'stopped');
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
      writer: this.writer.stats(),
    };
  }

  private async run(): Promise<void> {
    this.lifecycle.transition('WAITING_L0', 'started');
    await this.waitForHistory();
    if (this.stopped) return;
    this.lifecycle.transition('CHECKING_DATA', 'history available or wait over');
    await this.checkAndRepair();
    this.lifecycle.transition('READY', 'data checked');
    while (!this.stopped) {
      const now = this.opts.clock.now();
      const session = this.opts.calendar.sessionAt(now);
      if (session && (await this.holdLeases()) === 'held') {
        this.lifecycle.transition('ACTIVE', `session ${session.date} open`);
        await this.streamUntil(session.close);
        this.lifecycle.transition('READY', this.stopped ? 'stopping' : `session ${session.date} closed or lease lost`);
      } else {
        const next = session ? now + this.leaseTtlMs : this.opts.calendar.nextSession(now).open;
        await this.sleepUntil(next);
      }
    }
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

  /** Freshness and completeness of recent sessions; fills gaps when a filler is configured. */
  private async checkAndRepair(): Promise<void> {
    const now = this.opts.clock.now();
    this.dataChecks = [];
    for (const symbol of this.opts.symbols) {
      let check = await checkData(this.opts.db, this.opts.calendar, symbol, now, this.readiness);
      if ((!check.complete || !check.fresh) && this.opts.fillGaps) {
        await this.fillRecent(symbol, check);
        check = await checkData(this.opts.db, this.opts.calendar, symbol, now, this.readiness);
      }
      if (!check.complete || !check.fresh) {
        this.opts.logger.warn({ symbol, completeness: check.completeness, lastBarAt: check.lastBarAt }, 'recent data is incomplete or stale');
      }
      this.dataChecks.push(check);
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

  /** Streams the feed until `closeAt` (+ the watermark), a lost lease, or stop. */
  private async streamUntil(closeAt: number): Promise<void> {
    await this.ensureProcessors();
    // Not connected yet: slots count as covered from the 'connected' event (bars know their coverage).
    for (const p of this.processors.values()) p.feedDown();
    const feed = this.opts.openFeed(this.opts.symbols);
    this.feed = feed;
    this.feedConnected = false;
    this.feedStatus.connects++;
    const timers = [this.closeFeedAt(feed, closeAt + (this.opts.watermarkMs ?? 2_000) + 1_000), this.renewLeasesWhile(feed)];
    try {
      for await (const event of feed.events()) this.onFeedEvent(event);
    } catch (err) {
      this.opts.logger.error({ err: errorMessage(err) }, 'live feed failed; will reconnect');
    } finally {
      for (const cancel of timers) cancel();
      this.feed = null;
      this.feedStatus.state = 'stopped';
      for (const p of this.processors.values()) p.feedDown();
    }
  }

  private closeFeedAt(feed: LiveFeed, at: number): CancelTimer {
    return this.opts.clock.setTimer(Math.max(0, at - this.opts.clock.now()), () => void feed.close());
  }

  private renewLeasesWhile(feed: LiveFeed): CancelTimer {
    let cancel: CancelTimer = () => undefined;
    const renew = (): void => {
      cancel = this.opts.clock.setTimer(this.leaseTtlMs / 3, () => {
        void this.holdLeases().then((leases) => {
          if (leases !== 'lost') return renew();
          this.opts.logger.warn({ holder: this.opts.holder }, 'ingest lease lost; another process writes now');
          return feed.close();
        });
      });
    };
    renew();
    return () => cancel();
  }

  private onFeedEvent(event: FeedEvent): void {
    switch (event.type) {
      case 'tick':
        this.processors.get(event.tick.symbol)?.addTick(event.tick);
        return;
      case 'status':
        this.feedStatus.state = event.state;
        this.feedStatus.detail = event.detail ?? null;
        if (event.state === 'connected') this.countConnection();
        if (event.state === 'connected') for (const p of this.processors.values()) p.feedUp();
        if (event.state === 'disconnected' || event.state === 'stopped') for (const p of this.processors.values()) p.feedDown(event.lastFrameAt);
        return;
      case 'subscription':
        this.feedStatus.failedSymbols = event.failed;
        for (const symbol of event.failed) this.opts.metrics?.subscriptionFailures.inc({ symbol });
        if (event.failed.length > 0) this.opts.logger.warn({ failed: event.failed }, 'symbols failed to subscribe');
        return;
      case 'problem':
        this.feedStatus.problems[event.kind] = (this.feedStatus.problems[event.kind] ?? 0) + 1;
        return;
      case 'silence':
        for (const p of this.processors.values()) p.silent(event.from, event.to);
        return;
    }
  }

  /** A session's first connection is expected; every later one of the same feed is a reconnect. */
  private countConnection(): void {
    if (this.feedConnected) this.opts.metrics?.feedReconnects.inc();
    this.feedConnected = true;
  }

  private async ensureProcessors(): Promise<void> {
    for (const symbol of this.opts.symbols) {
      if (this.processors.has(symbol)) continue;
      const lastPrice = await this.lastStoredClose(symbol);
      this.processors.set(
        symbol,
        new TickProcessor({
          symbol,
          calendar: this.opts.calendar,
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

  private announce(t: Transition): void {
    this.opts.logger.info({ from: t.from, to: t.to, reason: t.reason }, 'ingest lifecycle');
    for (const symbol of this.opts.symbols) {
      this.opts.bus.publish('status', symbol, { kind: 'lifecycle', state: t.to, from: t.from, reason: t.reason, at: new Date(t.at).toISOString() }).catch(() => undefined);
    }
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
