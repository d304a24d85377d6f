/**
 * One symbol's path from a feed tick to stored bars and bus events:
 * validate -> aggregate (bars close on the clock) -> store (ticks and final bars) -> publish.
 * Nothing here blocks on the database or the bus; their failures are counted and logged once.
 */
import type { CancelTimer, Clock } from '../clock.ts';
import { cacheLatestPrice, type Bus, type BusMessages, type Channel } from '../bus/index.ts';
import type { BarUpdate, LatestPrice } from '../contracts/bus-messages.ts';
import { BarAggregator, type AggregatorEvent } from '../domain/aggregator.ts';
import { isPartial, type Bar } from '../domain/bar.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import type { Tick } from '../domain/tick.ts';
import { TickValidator } from '../domain/tick-validation.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { DurableWriter } from './durable-writer.ts';
import { pushBounded } from './samples.ts';

export interface TickProcessorOptions {
  symbol: string;
  calendar: MarketCalendar;
  clock: Clock;
  bus: Bus;
  writer: DurableWriter;
  logger: Logger;
  /** Relative jump vs the last accepted price above which a tick is rejected (e.g. 0.05). */
  maxJump: number;
  /** Last stored close, the validator's first reference price. */
  lastPrice?: number;
  watermarkMs?: number;
  /** How long the latest price stays in the cache without a new tick. */
  latestTtlMs?: number;
  /** Prometheus metrics: ticks received/rejected, bars closed, exchange -> receive latency. */
  metrics?: Metrics;
}

export interface TickCounters {
  received: number;
  rejected: Record<string, number>;
  outcomes: Record<string, number>;
  barsFinal: number;
  emptySlots: number;
  publishFailures: number;
  lastTickAt: number | null;
  /** Exchange time -> receive, ms, latest samples. */
  feedLatenciesMs: number[];
}

export class TickProcessor {
  private readonly validator: TickValidator;
  private readonly aggregator: BarAggregator;
  private timer: CancelTimer | null = null;
  private publishDown = false;
  readonly counters: TickCounters = {
    received: 0,
    rejected: {},
    outcomes: {},
    barsFinal: 0,
    emptySlots: 0,
    publishFailures: 0,
    lastTickAt: null,
    feedLatenciesMs: [],
  };

  constructor(private readonly opts: TickProcessorOptions) {
    this.validator = new TickValidator({ maxJump: opts.maxJump, ...(opts.lastPrice === undefined ? {} : { lastPrice: opts.lastPrice }) });
    this.aggregator = new BarAggregator({
      symbol: opts.symbol,
      calendar: opts.calendar,
      startedAt: opts.clock.now(),
      ...(opts.watermarkMs === undefined ? {} : { watermarkMs: opts.watermarkMs }),
    });
    this.scheduleClose();
  }

  /** Feeds one tick through; returns what became of it. */
  addTick(tick: Tick): string {
    const c = this.counters;
    const metrics = this.opts.metrics;
    c.received++;
    metrics?.ticksReceived.inc({ symbol: this.opts.symbol });
    const verdict = this.validator.check(tick);
    if (!verdict.ok) {
      c.rejected[verdict.reason] = (c.rejected[verdict.reason] ?? 0) + 1;
      metrics?.ticksRejected.inc({ symbol: this.opts.symbol, reason: verdict.reason });
      return verdict.reason;
    }
    const { outcome, events } = this.aggregator.addTick(tick);
    c.outcomes[outcome] = (c.outcomes[outcome] ?? 0) + 1;
    if (outcome === 'duplicate' || outcome === 'outside_session') return outcome;
    c.lastTickAt = tick.receivedAt;
    pushBounded(c.feedLatenciesMs, tick.receivedAt - tick.time);
    // An exchange stamp ahead of our clock is skew, not a negative latency.
    metrics?.exchangeToReceive.observe({ symbol: this.opts.symbol }, Math.max(0, tick.receivedAt - tick.time) / 1000);
    this.opts.writer.addTick(tick);
    this.publishTick(tick);
    this.handle(events);
    // A late tick's revision is gathered with the others of its flush window: make sure it is due.
    if (outcome === 'late_revision') this.scheduleClose();
    return outcome;
  }

  /** The feed is connected: slots are covered from now on. */
  feedUp(): void {
    this.aggregator.feedUp(this.opts.clock.now());
  }

  /**
   * The feed is down (disconnected, stalled, closed, the lease lost) since `since` (default now; a
   * stall: its last frame). Bars of the slots it overlaps are stored `partial`; closed ones revised.
   */
  feedDown(since?: number): void {
    const now = this.opts.clock.now();
    this.aggregator.feedDown(Math.min(since ?? now, now));
    this.closeDueBars();
  }

  /** The open socket carried nothing over [from, to) (a stall that ended): not covered. */
  silent(from: number, to: number): void {
    this.aggregator.feedDown(from);
    this.aggregator.feedUp(to);
    this.closeDueBars();
  }

  /** Closes every slot that is due (called on the clock; also at disconnect and shutdown). */
  closeDueBars(): void {
    this.handle(this.aggregator.advanceTo(this.opts.clock.now()));
    this.scheduleClose();
  }

  forming(): Bar | null {
    return this.aggregator.forming();
  }

  stop(): void {
    this.timer?.();
    this.timer = null;
  }

  private scheduleClose(): void {
    this.timer?.();
    const now = this.opts.clock.now();
    const deadline = this.aggregator.nextDeadline(now);
    this.timer = deadline === null ? null : this.opts.clock.setTimer(Math.max(0, deadline - now), () => this.closeDueBars());
  }

  private handle(events: AggregatorEvent[]): void {
    const now = this.opts.clock.now();
    for (const e of events) {
      if (e.kind === 'empty') {
        this.counters.emptySlots++;
        this.publish('bars', { time: new Date(e.time).toISOString(), empty: true, final: true });
        continue;
      }
      if (e.final) {
        this.counters.barsFinal++;
        this.opts.metrics?.barsReceived.inc({ symbol: this.opts.symbol, kind: e.bar.revision > 1 ? 'revision' : 'final' });
        this.opts.writer.addBar(e.bar, now);
      }
      this.publish('bars', barMessage(e.bar, e.final));
    }
  }

  private publishTick(tick: Tick): void {
    const latest: LatestPrice = {
      symbol: tick.symbol,
      price: tick.price,
      bid: tick.bid,
      ask: tick.ask,
      spread: tick.bid !== null && tick.ask !== null ? round(tick.ask - tick.bid) : null,
      timestamp: new Date(tick.time).toISOString(),
      receivedAt: new Date(tick.receivedAt).toISOString(),
      source: tick.source,
    };
    this.publish('ticks', latest);
    this.guard(cacheLatestPrice(this.opts.bus, latest, this.opts.latestTtlMs ?? 24 * 3600_000));
  }

  private publish<C extends Channel>(channel: C, data: BusMessages[C]): void {
    this.guard(this.opts.bus.publish(channel, this.opts.symbol, data));
  }

  /** Bus failures never stop ingestion: the database write is the durable path. */
  private guard(p: Promise<unknown>): void {
    p.then(
      () => {
        if (this.publishDown) this.opts.logger.info({ symbol: this.opts.symbol }, 'bus publishing recovered');
        this.publishDown = false;
      },
      (err: unknown) => {
        this.counters.publishFailures++;
        if (!this.publishDown) this.opts.logger.warn({ symbol: this.opts.symbol, err: errorMessage(err) }, 'bus publish failed; ticks and bars are still stored');
        this.publishDown = true;
      },
    );
  }
}

export function barMessage(bar: Bar, final: boolean): BarUpdate {
  return {
    time: new Date(bar.time).toISOString(),
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    tickCount: bar.tickCount,
    revision: bar.revision,
    final,
    source: bar.source,
    // A partial bar may miss ticks (the feed was not up for all of its slot): not complete.
    partial: isPartial(bar),
    coverage: bar.coverage ?? null,
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
