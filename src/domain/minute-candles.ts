/**
 * Stored ticks -> 1-minute candles (`1min`), inside sessions only (the market calendar's). Imported
 * history has bars but no ticks, and ticks are kept only for the retention period, so 1-minute
 * candles exist only where ticks are stored.
 *
 * - Minute: a tick belongs to [m, m + 1 min), m = its exchange time floored to the minute (minutes
 *   divide the session's 5-minute grid, so a minute never spans two slots or two sessions). A tick
 *   outside every session is dropped.
 * - OHLC from the ticks' prices in (exchange time, arrival) order: open the first, close the last,
 *   as the aggregator does for 5-minute bars (domain/aggregator.ts); a tick equal to one already in
 *   the minute (same exchange time, price, bid and ask: a second delivery) counts once, as there.
 *   So the five minutes of a slot agree with a live bar that watched the whole slot (open of the
 *   first, max high, min low, close of the last); not with a reconciled, backfilled or imported bar
 *   (the vendor's values), nor where the aggregator took the slot's source from its first tick
 *   while its minutes split at a provenance change, nor with ticks it refused as too late.
 * - `bars` = 1 and `expected` = 1 for a minute with ticks; `ticks` = how many. A minute without a
 *   tick gets no candle: gaps stay gaps (never forward-filled).
 * - `complete` only when the minute has ended (by `now`) AND the stored 5-minute bar of its slot
 *   exists and says the live feed watched the whole slot (`coversWholeSlot`: built from ticks and
 *   not partial), so no tick of the minute can be missing; otherwise not complete.
 * - Provenance, the rule of resample.ts: a tick's class is its bar source's (`barSourceOf`: only
 *   TwelveData's stream is real). A candle never blends simulated and real ticks: where the class
 *   changes inside a minute, the candle so far closes and a new one opens at the first tick of the
 *   other class (its `time` is that tick's, 1 ms after the previous part's when they share a
 *   time). Neither part holds the whole minute, so neither is `complete`.
 * Pure: ticks in, candles out.
 */
import { barSourceOf } from './aggregator.ts';
import { barOpenTime, isPartial, isSimulatedSource, type Bar } from './bar.ts';
import type { MarketCalendar } from './calendar.ts';
import { collectCandles, type Candle } from './resample.ts';
import type { Tick } from './tick.ts';
import { MINUTE_MS } from './time.ts';

/** What `1min` means, for the API docs. */
export const MINUTE_CANDLES_TEXT =
  '1min: built from the stored ticks (not the 5-minute bars), so only where ticks are kept (live ticks for the retention period; imported history has none): a minute without a tick has no candle; bars = expected = 1 and ticks = the tick count; complete only once the minute has ended and the stored 5-minute bar holding it was built live from ticks over its whole slot (not partial; a reconciled, backfilled or imported bar does not vouch for the ticks).';

/**
 * The stored 5-minute bar says the live feed watched its whole slot: built from ticks (a
 * reconciled, backfilled or imported bar has no tick count: it replaced or stood in for what the
 * feed saw) and not `partial`.
 */
export function coversWholeSlot(bar: Pick<Bar, 'flags' | 'tickCount'>): boolean {
  return bar.tickCount !== null && !isPartial(bar);
}

export function minuteOpenTime(t: number): number {
  return Math.floor(t / MINUTE_MS) * MINUTE_MS;
}

export interface MinuteCandleContext {
  /** The clock: a minute that has not ended by `now` is not complete. */
  now: number;
  /** Open times of the stored 5-minute bars that cover their whole slot (`coversWholeSlot`), over the ticks' span at least. */
  wholeSlots: ReadonlySet<number>;
}

/** Builds 1-minute candles from ticks fed in (exchange time, arrival) order. */
export class MinuteCandleBuilder {
  private candle: Candle | null = null;
  /** Open of the current candle's minute. */
  private minute = Number.NaN;
  /** The current candle holds only part of its minute (split where the provenance changed). */
  private split = false;
  private seen = new Set<string>();
  private lastTime = -Infinity;

  constructor(
    private readonly calendar: MarketCalendar,
    private readonly ctx: MinuteCandleContext,
  ) {}

  /** Adds a tick; returns the candle it closed (the previous minute's, or the other class's part of this one), if any. */
  add(tick: Tick): Candle | null {
    const source = barSourceOf(tick.source);
    const simulated = isSimulatedSource(source);
    const c = this.candle;
    const minute = minuteOpenTime(tick.time);
    if (tick.time < this.lastTime) throw new RangeError(`Ticks must come in time order: ${new Date(tick.time).toISOString()} after a later one.`);
    this.lastTime = tick.time;
    const key = `${tick.time}|${tick.price}|${tick.bid}|${tick.ask}`;
    // Second deliveries are recognised per minute, across a provenance split too.
    if (c !== null && minute === this.minute && this.seen.has(key)) return null;
    if (c !== null && minute === this.minute && c.simulated === simulated) {
      this.seen.add(key);
      c.high = Math.max(c.high, tick.price);
      c.low = Math.min(c.low, tick.price);
      c.close = tick.price;
      c.ticks = (c.ticks ?? 0) + 1;
      if (!c.sources.includes(source)) c.sources.push(source);
      return null;
    }
    const session = this.calendar.sessionAt(tick.time);
    if (session === null) return null;
    const splitHere = c !== null && minute === this.minute;
    if (splitHere) this.split = true;
    const closed = this.flush();
    // A split minute's second part opens at its own first tick (see the provenance rule).
    const time = splitHere && closed !== null ? Math.max(tick.time, closed.time + 1) : minute;
    if (!splitHere) this.seen = new Set();
    this.seen.add(key);
    this.minute = minute;
    this.split = splitHere;
    this.candle = { time, session: session.date, open: tick.price, high: tick.price, low: tick.price, close: tick.price, bars: 1, expected: 1, complete: false, simulated, sources: [source], ticks: 1 };
    return closed;
  }

  /** The candle being built (its minute may still get ticks), which is then forgotten. */
  flush(): Candle | null {
    const c = this.candle;
    if (c === null) return null;
    c.complete = !this.split && this.minute + MINUTE_MS <= this.ctx.now && this.ctx.wholeSlots.has(barOpenTime(this.minute));
    this.candle = null;
    return c;
  }
}

/** The 1-minute candles of `ticks` (any order: sorted here by exchange time, then arrival). */
export function minuteCandles(calendar: MarketCalendar, ticks: Iterable<Tick>, ctx: MinuteCandleContext): Candle[] {
  const ordered = [...ticks].sort((a, b) => a.time - b.time || a.receivedAt - b.receivedAt);
  return collectCandles(new MinuteCandleBuilder(calendar, ctx), ordered);
}
