/**
 * Ticks -> 5-minute bars for one symbol, on the market calendar's session grid.
 *
 * Pure: no I/O, no timers, no clock reads. The aggregator's "now" is the latest `advanceTo(now)`;
 * the caller drives it from a timer scheduled with `nextDeadline`. Ticks come in validated
 * (`TickValidator`); the caller stores every tick whatever its outcome here.
 *
 * Semantics
 * - Slot: a tick belongs to the slot [t, t + 5 min) with t = floor(exchangeTime / 5 min), by its
 *   EXCHANGE time, never its arrival time. A slot outside every session (before 13:00Z, from 18:00Z,
 *   weekends, Colombian holidays) makes the tick `outside_session`: counted, not aggregated.
 * - OHLC: open is the price of the tick with the earliest exchange time in the slot, close the
 *   latest; ties (TwelveData stamps whole seconds) go by arrival order, first for open, last for
 *   close. So out-of-order arrival gives the same bar as in-order arrival. High/low are max/min,
 *   tickCount the aggregated ticks, volume null (spot FX has none), flags ['flat'] when O=H=L=C.
 * - Duplicates: a tick equal to one already aggregated in its slot (same exchange time, price,
 *   bid, ask) is `duplicate` and not counted; each slot remembers its quotes while it is kept.
 * - Closing on the clock: a slot closes when now >= end + watermark, even if no tick follows
 *   (other systems close a bar only when the next tick arrives, so the session's last bar waits
 *   until the next morning). `advanceTo(now)` emits the final bars and empty slots, in time order.
 *   The watermark only delays the close: a tick stamped 13:04:59 arriving at 13:05:01 still lands
 *   in the 13:00 bar; a tick stamped 13:05:01 is the 13:05 bar's whatever its arrival.
 * - Coverage: the aggregator watches the feed from `startedAt` (default: the first `advanceTo`'s
 *   now), and the caller reports the feed's outages with `feedDown(at)` / `feedUp(at)` (a
 *   disconnect, a stall from its last frame, a lost lease). A bar's `coverage` is the share of its
 *   slot [open, open + 5 min) that was watched with the feed up; below 1 the bar is flagged
 *   `partial` (it may miss ticks; the failsafe replaces it with the vendor's bar). An outage
 *   reported late (a stall is detected only after the silence timeout) downgrades the closed bars
 *   it overlaps: they are revised with their lower coverage.
 * - Empty slots: a session slot that closes with no tick yields an `EmptySlot` event, not a bar
 *   (no forward fill). Only slots watched whole (coverage 1) are reported: a slot seen only partly,
 *   or before the aggregator started, may have had ticks it never saw. The gap-fill job finds
 *   those holes from the calendar and the store.
 * - Revisions: the first final bar of a slot is revision 1; forming updates carry the revision the
 *   bar will get (1) with final = false. A tick for a closed slot, before the revision horizon,
 *   is aggregated (`late_revision`) and marks the slot dirty: the revised bar (revision + 1) is
 *   emitted on the next `advanceTo`, due `lateFlushMs` after the tick's arrival (`nextDeadline`),
 *   so a burst of late ticks makes one revision per flush window, not one per tick. An empty slot
 *   that gets late ticks becomes a bar with revision 1, as does a closed slot that was never
 *   tracked (it closed before the aggregator started). After the horizon: `too_late`.
 * - Horizon: `revisionHorizonMs` after the slot's end, or by default until the session's close
 *   + 1 h, measured on the aggregator's now. Slot state (OHLC and the slot's quotes for duplicate
 *   detection) is dropped at the horizon; with the default one, memory holds one session at most.
 * - Source: the bar's source is its first tick's (one aggregator serves one feed); replayed ticks
 *   make `simulator` bars, since they are a re-enactment, not a live observation.
 */
import { BAR_MS, barOpenTime, isFlat, type Bar, type BarFlag, type BarSource } from './bar.ts';
import type { MarketCalendar, Session } from './calendar.ts';
import type { SymbolCode } from './symbol.ts';
import type { Tick, TickSource } from './tick.ts';
import { HOUR_MS } from './time.ts';

export const DEFAULT_WATERMARK_MS = 2_000;
/** Late ticks for a closed slot are gathered this long into one revision. */
const DEFAULT_LATE_FLUSH_MS = 1_000;
/** With no `revisionHorizonMs`, late ticks revise bars until this long after the session's close. */
export const DEFAULT_SESSION_REVISION_GRACE_MS = HOUR_MS;

export interface BarUpdate {
  kind: 'bar';
  bar: Bar;
  final: boolean;
}

/** A session slot that closed with no tick: NOT a bar, never forward-filled. */
export interface EmptySlot {
  kind: 'empty';
  symbol: SymbolCode;
  time: number;
}

export type AggregatorEvent = BarUpdate | EmptySlot;

export type TickOutcome = 'accepted' | 'duplicate' | 'outside_session' | 'late_revision' | 'too_late';

export interface TickResult {
  outcome: TickOutcome;
  events: AggregatorEvent[];
}

export interface AggregatorStats {
  /** Ticks aggregated into a bar still open. */
  accepted: number;
  duplicates: number;
  outsideSession: number;
  /** Ticks aggregated into a closed slot (they are emitted as revisions, several ticks to one). */
  lateRevisions: number;
  /** Revised final bars emitted: at most one per dirty slot per flush. */
  revisions: number;
  tooLate: number;
  /** Slots closed on the clock with no tick. */
  emptySlots: number;
  /** Slots closed on the clock with ticks (revision 1); revisions are counted by `lateRevisions`. */
  finalBars: number;
}

export interface BarAggregatorOptions {
  symbol: SymbolCode;
  calendar: MarketCalendar;
  /** How long after a slot's end it stays open for ticks stamped inside it; default 2 s. */
  watermarkMs?: number;
  /** How long after a slot's end a late tick still revises it; default: until session close + 1 h. */
  revisionHorizonMs?: number;
  /** Since when the aggregator watches the feed (slots opening earlier are partial, never reported empty). */
  startedAt?: number;
  /** How long late ticks for a closed slot are gathered into one revision; default 1 s. */
  lateFlushMs?: number;
}

/** A time span [from, to) during which the feed was down; `to` is Infinity while it still is. */
interface Outage {
  from: number;
  to: number;
}

/** What the aggregator keeps per slot while the slot can still change. */
interface Slot {
  readonly time: number;
  /** From this instant on, ticks for the slot are too late and its state is dropped. */
  readonly expiresAt: number;
  /** Quotes already aggregated, for duplicate detection. */
  readonly quotes: QuoteSet;
  source: BarSource;
  open: number;
  openAt: number;
  high: number;
  low: number;
  close: number;
  closeAt: number;
  ticks: number;
  /** Revision of the last final bar emitted; 0 before the first. */
  revision: number;
  closed: boolean;
  /** When the revision gathering this closed slot's late ticks is due; Infinity when none is pending. */
  flushAt: number;
  /** The coverage of the last final bar emitted (NaN before the first). */
  emittedCoverage: number;
}

export function barSourceOf(source: TickSource): BarSource {
  return source === 'twelvedata_ws' ? 'twelvedata_ws' : 'simulator';
}

export class BarAggregator {
  private readonly symbol: SymbolCode;
  private readonly calendar: MarketCalendar;
  private readonly watermarkMs: number;
  private readonly revisionHorizonMs: number | null;
  private readonly lateFlushMs: number;
  /** Since when the feed is watched: the option, else the first `advanceTo`'s now. */
  private startedAt: number | null;
  /** The feed's outages, in time order, disjoint; the last may still be open. */
  private readonly outages: Outage[] = [];
  /** Closed slots with late ticks (or a lower coverage) not yet emitted as a revision. */
  private readonly dirtySlots = new Set<Slot>();
  /** Every slot still inside its revision horizon. */
  private readonly slots = new Map<number, Slot>();
  /** Slots with ticks not yet closed: usually the forming one, briefly its predecessor. */
  private readonly openSlots = new Set<Slot>();
  /** The last slot a tick went to: consecutive ticks mostly share one. */
  private lastSlot: Slot | null = null;
  private now: number | null = null;
  /** The next grid slot to check for emptiness. */
  private emptyCursor: number | null = null;
  private readonly counts: AggregatorStats = {
    accepted: 0,
    duplicates: 0,
    outsideSession: 0,
    lateRevisions: 0,
    revisions: 0,
    tooLate: 0,
    emptySlots: 0,
    finalBars: 0,
  };

  constructor(opts: BarAggregatorOptions) {
    assertOptions(opts);
    this.symbol = opts.symbol;
    this.calendar = opts.calendar;
    this.watermarkMs = opts.watermarkMs ?? DEFAULT_WATERMARK_MS;
    this.revisionHorizonMs = opts.revisionHorizonMs ?? null;
    this.lateFlushMs = opts.lateFlushMs ?? DEFAULT_LATE_FLUSH_MS;
    this.startedAt = opts.startedAt ?? null;
  }

  /**
   * The feed went down at `at` (a disconnect; for a stall, its last frame). Slots overlapping the
   * outage get a coverage below 1; closed bars it overlaps are revised on the next `advanceTo`.
   * Idempotent while down; an `at` before the last recovery merges with that outage.
   */
  feedDown(at: number): void {
    assertInstant('feedDown', at);
    let from = at;
    for (let last = this.outages.at(-1); last !== undefined && last.to >= from; last = this.outages.at(-1)) {
      from = Math.min(from, last.from);
      this.outages.pop();
    }
    this.outages.push({ from, to: Infinity });
    this.downgradeClosedSlots(from);
  }

  /** The feed is up again (connected) from `at`. */
  feedUp(at: number): void {
    assertInstant('feedUp', at);
    const last = this.outages.at(-1);
    if (last !== undefined && last.to === Infinity) last.to = Math.max(at, last.from);
  }

  /** Adds a tick (already validated). Returns its outcome and the events it causes. */
  addTick(tick: Tick): TickResult {
    this.assertAggregatable(tick);
    const time = barOpenTime(tick.time);
    const slot = this.trackedSlot(time) ?? this.newSlot(time);
    if (typeof slot === 'string') return this.skip(slot);
    if (!slot.quotes.add(tick.time, tick.price, tick.bid ?? NaN, tick.ask ?? NaN)) return this.skip('duplicate');
    aggregate(slot, tick);
    return slot.closed ? this.markLate(slot, tick) : this.updateForming(slot);
  }

  /**
   * Closes every slot whose end + watermark <= now, emitting final bars and empty slots, and emits
   * one revision per dirty slot (late ticks gathered since the last call), in time order.
   */
  advanceTo(now: number): AggregatorEvent[] {
    if (!Number.isFinite(now)) throw new RangeError(`advanceTo needs epoch milliseconds (got ${now})`);
    const events: AggregatorEvent[] = [];
    if (this.now === null || now > this.now) {
      assertCalendarCovers(this.calendar, now);
      this.now = now;
      this.startedAt ??= now;
      this.emptyCursor ??= ceilToSlot(this.startedAt);
      events.push(...this.closeOpenSlots(now), ...this.reportEmptySlots(now));
    }
    events.push(...this.flushRevisions());
    this.dropExpiredSlots(this.now);
    return events.sort(byEventTime);
  }

  /**
   * When `advanceTo` next has work: the earliest end + watermark of a slot not yet closed (the
   * next session slot, or an open one). It may be <= now when a close is overdue. Null when
   * nothing is open and the calendar knows no session ahead.
   */
  nextDeadline(now: number): number | null {
    let earliest = Infinity;
    for (const slot of this.openSlots) earliest = Math.min(earliest, this.closesAt(slot.time));
    for (const slot of this.dirtySlots) earliest = Math.min(earliest, slot.flushAt);
    const from = this.now === null ? barOpenTime(now) : this.firstUnclosedSlot(this.now);
    const session = this.sessionFrom(from);
    if (session !== null) earliest = Math.min(earliest, this.closesAt(Math.max(from, session.open)));
    return earliest === Infinity ? null : earliest;
  }

  /** The latest bar not yet closed that has ticks, as a forming update would carry it. */
  forming(): Bar | null {
    let latest: Slot | null = null;
    for (const slot of this.openSlots) if (latest === null || slot.time > latest.time) latest = slot;
    return latest === null ? null : this.barOf(latest, latest.revision + 1);
  }

  stats(): AggregatorStats {
    return { ...this.counts };
  }

  // -- ticks -------------------------------------------------------------------------------------

  private assertAggregatable(tick: Tick): void {
    if (tick.symbol !== this.symbol) throw new RangeError(`Aggregator for ${this.symbol} got a ${tick.symbol} tick`);
    // Cheap guards against a caller skipping validation: one NaN would corrupt a bar silently.
    if (!Number.isFinite(tick.time) || !(tick.price > 0 && tick.price < Infinity)) {
      throw new RangeError(`Unvalidated tick reached the aggregator: time ${tick.time}, price ${tick.price}`);
    }
  }

  private trackedSlot(time: number): Slot | undefined {
    const last = this.lastSlot;
    if (last !== null && last.time === time) return last;
    const slot = this.slots.get(time);
    if (slot !== undefined) this.lastSlot = slot;
    return slot;
  }

  /** State for a slot seen for the first time, or why its tick is not aggregated. */
  private newSlot(time: number): Slot | 'outside_session' | 'too_late' {
    const session = this.calendar.sessionAt(time);
    if (session === null) return 'outside_session';
    const expiresAt = this.expiryOf(time, session);
    if (this.now !== null && this.now >= expiresAt) return 'too_late';
    const slot = emptySlotState(time, expiresAt);
    // A slot already past its close was never tracked (it closed before the aggregator started).
    slot.closed = this.now !== null && this.now >= this.closesAt(time);
    if (!slot.closed) this.openSlots.add(slot);
    this.slots.set(time, slot);
    this.lastSlot = slot;
    return slot;
  }

  private skip(outcome: 'duplicate' | 'outside_session' | 'too_late'): TickResult {
    if (outcome === 'duplicate') this.counts.duplicates++;
    else if (outcome === 'outside_session') this.counts.outsideSession++;
    else this.counts.tooLate++;
    return { outcome, events: [] };
  }

  private updateForming(slot: Slot): TickResult {
    this.counts.accepted++;
    return { outcome: 'accepted', events: [{ kind: 'bar', bar: this.barOf(slot, 1), final: false }] };
  }

  /** A late tick went into a closed slot: its revision waits for the flush (see `advanceTo`). */
  private markLate(slot: Slot, tick: Tick): TickResult {
    this.counts.lateRevisions++;
    this.markDirty(slot, Math.max(tick.receivedAt, this.now ?? -Infinity) + this.lateFlushMs);
    return { outcome: 'late_revision', events: [] };
  }

  private markDirty(slot: Slot, flushAt: number): void {
    slot.flushAt = Math.min(slot.flushAt, flushAt);
    this.dirtySlots.add(slot);
  }

  private flushRevisions(): BarUpdate[] {
    const revised: BarUpdate[] = [];
    for (const slot of this.dirtySlots) {
      slot.flushAt = Infinity;
      slot.revision++;
      this.counts.revisions++;
      revised.push({ kind: 'bar', bar: this.finalBar(slot), final: true });
    }
    this.dirtySlots.clear();
    return revised;
  }

  /** Closed bars overlapping an outage that starts at `from` and whose coverage drops: revised on the next flush. */
  private downgradeClosedSlots(from: number): void {
    for (const slot of this.slots.values()) {
      if (!slot.closed || slot.ticks === 0 || slot.time + BAR_MS <= from) continue;
      if (slot.revision > 0 && this.coverageOf(slot.time) !== slot.emittedCoverage) this.markDirty(slot, -Infinity);
    }
  }

  /**
   * The share of the slot watched with the feed up: from `startedAt` (the slot's own open while
   * unknown, before the first `advanceTo`), less the outages.
   */
  private coverageOf(time: number): number {
    const end = time + BAR_MS;
    const watchedFrom = Math.max(time, this.startedAt ?? time);
    let covered = Math.max(0, end - watchedFrom);
    for (const outage of this.outages) {
      const overlap = Math.min(outage.to, end) - Math.max(outage.from, watchedFrom);
      if (overlap > 0) covered -= overlap;
    }
    return covered / BAR_MS;
  }

  // -- the clock ---------------------------------------------------------------------------------

  private closesAt(slotTime: number): number {
    return slotTime + BAR_MS + this.watermarkMs;
  }

  /** Open time of the first slot that is not closed at `now`. */
  private firstUnclosedSlot(now: number): number {
    return barOpenTime(now - BAR_MS - this.watermarkMs) + BAR_MS;
  }

  private expiryOf(slotTime: number, session: Session): number {
    return this.revisionHorizonMs === null ? session.close + DEFAULT_SESSION_REVISION_GRACE_MS : slotTime + BAR_MS + this.revisionHorizonMs;
  }

  private closeOpenSlots(now: number): BarUpdate[] {
    const closed: BarUpdate[] = [];
    for (const slot of this.openSlots) {
      if (now < this.closesAt(slot.time)) continue;
      this.openSlots.delete(slot);
      slot.closed = true;
      slot.revision = 1;
      this.counts.finalBars++;
      closed.push({ kind: 'bar', bar: this.finalBar(slot), final: true });
    }
    return closed;
  }

  /** Walks the session grid from the cursor, one session at a time, over the slots now closed. */
  private reportEmptySlots(now: number): EmptySlot[] {
    const empties: EmptySlot[] = [];
    let time = this.emptyCursor ?? ceilToSlot(now);
    for (let session = this.sessionFrom(time); session !== null; session = this.sessionFrom(time)) {
      time = Math.max(time, session.open);
      for (; time < session.close && now >= this.closesAt(time); time += BAR_MS) {
        // A slot not watched whole may have had ticks the aggregator never saw: unknown, not empty.
        if (!this.slots.has(time) && this.coverageOf(time) === 1) empties.push(this.markEmpty(time, session));
      }
      if (time < session.close) break;
    }
    this.emptyCursor = time;
    return empties;
  }

  /** Keeps a closed state for the empty slot so that a late tick revises it (to revision 1). */
  private markEmpty(time: number, session: Session): EmptySlot {
    const slot = emptySlotState(time, this.expiryOf(time, session));
    slot.closed = true;
    this.slots.set(time, slot);
    this.counts.emptySlots++;
    return { kind: 'empty', symbol: this.symbol, time };
  }

  private dropExpiredSlots(now: number): void {
    for (const [time, slot] of this.slots) {
      if (now < slot.expiresAt) continue;
      this.slots.delete(time);
      this.openSlots.delete(slot);
      this.dirtySlots.delete(slot);
      if (this.lastSlot === slot) this.lastSlot = null;
    }
    // No slot that ends before this can still get a tick (it would be too late), so its outages are moot.
    const forgetBefore = now - BAR_MS - (this.revisionHorizonMs ?? OUTAGE_MEMORY_MS);
    while ((this.outages[0]?.to ?? Infinity) < forgetBefore) this.outages.shift();
  }

  /** The session open at `time` or the next one; null when the calendar knows none ahead. */
  private sessionFrom(time: number): Session | null {
    try {
      return this.calendar.nextSession(time);
    } catch {
      // The calendar throws past its last year or after 400 days without a session.
      return null;
    }
  }

  /** The slot's bar at its current revision, as emitted final (its coverage remembered). */
  private finalBar(slot: Slot): Bar {
    const bar = this.barOf(slot, slot.revision);
    slot.emittedCoverage = bar.coverage ?? NaN;
    return bar;
  }

  private barOf(slot: Slot, revision: number): Bar {
    const coverage = this.coverageOf(slot.time);
    const flags: BarFlag[] = isFlat(slot) ? ['flat'] : [];
    if (coverage < 1) flags.push('partial');
    return {
      symbol: this.symbol,
      time: slot.time,
      open: slot.open,
      high: slot.high,
      low: slot.low,
      close: slot.close,
      volume: null,
      tickCount: slot.ticks,
      source: slot.source,
      revision,
      flags,
      coverage,
    };
  }
}

function emptySlotState(time: number, expiresAt: number): Slot {
  return {
    time,
    expiresAt,
    quotes: new QuoteSet(),
    source: 'simulator',
    open: NaN,
    openAt: Infinity,
    high: -Infinity,
    low: Infinity,
    close: NaN,
    closeAt: -Infinity,
    ticks: 0,
    revision: 0,
    closed: false,
    flushAt: Infinity,
    emittedCoverage: NaN,
  };
}

function aggregate(slot: Slot, tick: Tick): void {
  const { time, price } = tick;
  if (slot.ticks === 0) slot.source = barSourceOf(tick.source);
  // Strict for open, non-strict for close: equal exchange times resolve by arrival order.
  if (time < slot.openAt) {
    slot.open = price;
    slot.openAt = time;
  }
  if (time >= slot.closeAt) {
    slot.close = price;
    slot.closeAt = time;
  }
  if (price > slot.high) slot.high = price;
  if (price < slot.low) slot.low = price;
  slot.ticks++;
}

/**
 * The quotes (exchange time, price, bid, ask; a missing bid or ask as NaN) aggregated in one slot:
 * an open-addressing hash set over typed arrays, so that remembering a tick allocates nothing
 * (amortized) and takes 40-80 bytes. A Map of per-time arrays cost more than the rest of `addTick`.
 */
class QuoteSet {
  private static readonly STRIDE = 4;
  private quotes: Float64Array = new Float64Array(8 * QuoteSet.STRIDE);
  /** Quote index + 1 per bucket, 0 when free; kept at most half full. */
  private buckets = new Int32Array(16);
  private size = 0;

  /** Adds the quote; false when an equal one is already there. */
  add(time: number, price: number, bid: number, ask: number): boolean {
    const mask = this.buckets.length - 1;
    for (let i = hashQuote(time, price) & mask; ; i = (i + 1) & mask) {
      const entry = this.buckets[i] ?? 0;
      if (entry === 0) {
        this.insert(i, time, price, bid, ask);
        return true;
      }
      if (this.equals(entry - 1, time, price, bid, ask)) return false;
    }
  }

  private equals(index: number, time: number, price: number, bid: number, ask: number): boolean {
    const q = this.quotes;
    const at = index * QuoteSet.STRIDE;
    // Object.is: a missing bid or ask (NaN) equals a missing one.
    return q[at] === time && q[at + 1] === price && Object.is(q[at + 2], bid) && Object.is(q[at + 3], ask);
  }

  private insert(bucket: number, time: number, price: number, bid: number, ask: number): void {
    const at = this.size * QuoteSet.STRIDE;
    if (at + QuoteSet.STRIDE > this.quotes.length) this.quotes = doubled(this.quotes);
    const quotes = this.quotes;
    quotes[at] = time;
    quotes[at + 1] = price;
    quotes[at + 2] = bid;
    quotes[at + 3] = ask;
    this.buckets[bucket] = ++this.size;
    if (this.size * 2 > this.buckets.length) this.rehash();
  }

  private rehash(): void {
    this.buckets = new Int32Array(this.buckets.length * 2);
    const mask = this.buckets.length - 1;
    for (let index = 0; index < this.size; index++) {
      const at = index * QuoteSet.STRIDE;
      let i = hashQuote(this.quotes[at] ?? 0, this.quotes[at + 1] ?? 0) & mask;
      while (this.buckets[i] !== 0) i = (i + 1) & mask;
      this.buckets[i] = index + 1;
    }
  }
}

function doubled(array: Float64Array): Float64Array {
  const bigger = new Float64Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** 32 bits from time and price; bid and ask only break ties, so they stay out of the hash. */
function hashQuote(time: number, price: number): number {
  // `| 0` keeps the low 32 bits: enough, since times in one slot differ by under 300,000 ms.
  let h = Math.imul(time | 0, 0x9e3779b1) ^ Math.imul(Math.round(price * 10_000) | 0, 0x85ebca77);
  // Mix high bits down: whole-second times would otherwise leave the low bits (the bucket) constant.
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

function ceilToSlot(t: number): number {
  return Math.ceil(t / BAR_MS) * BAR_MS;
}

function byEventTime(a: AggregatorEvent, b: AggregatorEvent): number {
  return eventTime(a) - eventTime(b);
}

function eventTime(event: AggregatorEvent): number {
  return event.kind === 'bar' ? event.bar.time : event.time;
}

/** How long outages are remembered with the default (session) revision horizon: longer than any session plus its grace. */
const OUTAGE_MEMORY_MS = 24 * HOUR_MS;

function assertInstant(what: string, at: number): void {
  if (!Number.isFinite(at)) throw new RangeError(`${what} needs epoch milliseconds (got ${at})`);
}

function assertOptions(opts: BarAggregatorOptions): void {
  const { watermarkMs = DEFAULT_WATERMARK_MS, revisionHorizonMs, startedAt, lateFlushMs = DEFAULT_LATE_FLUSH_MS } = opts;
  if (!Number.isFinite(lateFlushMs) || lateFlushMs < 0) throw new RangeError(`lateFlushMs must be >= 0 (got ${lateFlushMs})`);
  if (!Number.isFinite(watermarkMs) || watermarkMs < 0) throw new RangeError(`watermarkMs must be >= 0 (got ${watermarkMs})`);
  // A slot must close before it expires, or ticks inside the watermark would be called too late.
  const horizon = revisionHorizonMs ?? DEFAULT_SESSION_REVISION_GRACE_MS;
  if (!Number.isFinite(horizon) || horizon <= watermarkMs) {
    throw new RangeError(`revisionHorizonMs (${horizon}) must be finite and greater than watermarkMs (${watermarkMs})`);
  }
  if (startedAt !== undefined) assertCalendarCovers(opts.calendar, startedAt);
}

/**
 * Throws a RangeError for an instant outside the calendar's years. Without it, a bogus `now` or
 * `startedAt` (say 0) would park the empty-slot cursor where the calendar answers nothing, and
 * empties would silently never be reported again.
 */
function assertCalendarCovers(calendar: MarketCalendar, t: number): void {
  calendar.sessionAt(t);
}
