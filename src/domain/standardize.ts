/**
 * L0 -> L1 standardization rules for 5-minute bars (pure: no I/O, no clock).
 *
 * Given every parsed raw row of a period, produce one clean bar per session slot:
 * - rows on non-trading days and outside the session are dropped (they stay in L0);
 * - rows off the 5-minute grid are dropped;
 * - sessions recorded in Bogota wall-clock time but labelled UTC (08:00-12:55 "Z" instead of
 *   13:00-17:55Z) are detected and shifted onto the real session; where the correctly
 *   labelled bar exists too, the correct one is kept and the mislabelled copy dropped;
 * - duplicate rows for one slot keep the first in input order.
 */
import { BAR_MS, isFlat, type Bar, type BarFlag } from './bar.ts';
import type { MarketCalendar, Session } from './calendar.ts';
import type { ParsedRawBar } from './raw-bar.ts';
import type { SymbolCode } from './symbol.ts';
import { DAY_MS, HOUR_MS, addDays, toIsoUtc, type IsoDate } from './time.ts';

export type DropReason = 'non_trading_day' | 'off_session' | 'off_grid' | 'duplicate' | 'mislabelled_duplicate';

export interface StandardizeCounts {
  input: number;
  standardized: number;
  repaired: number;
  dropped: Record<DropReason, number>;
}

/** One session whose timestamps were shifted, for the audit log. */
export interface TimezoneRepair {
  date: IsoDate;
  shiftedBars: number;
  droppedCopies: number;
  /** How the mislabelling was recognised. */
  evidence: 'matching_prices' | 'session_shape';
}

/** What became of one input row: kept (possibly shifted), or dropped and why. */
export type RowOutcome =
  | { kind: 'kept'; repaired: boolean }
  /** `keptRow`: for a duplicate, the row that holds the slot; for a mislabelled copy, its correctly labelled twin. */
  | { kind: 'dropped'; reason: DropReason; keptRow?: ParsedRawBar };

export interface StandardizeResult {
  bars: Bar[];
  counts: StandardizeCounts;
  repairs: TimezoneRepair[];
  /** Every input row's outcome, so a caller can count its own rows among others (import). */
  outcomes: Map<ParsedRawBar, RowOutcome>;
}

export interface StandardizeOptions {
  /** Relative tolerance for "the same bar five hours apart" (close prices). */
  priceTolerance?: number;
  /** Fewest mislabelled rows that make a session-shaped block when no price match confirms it. */
  minSessionShapeRows?: number;
}

const BACKFILL_LABEL = /backfill|gap_fill/i;

export function emptyCounts(): StandardizeCounts {
  return {
    input: 0,
    standardized: 0,
    repaired: 0,
    dropped: { non_trading_day: 0, off_session: 0, off_grid: 0, duplicate: 0, mislabelled_duplicate: 0 },
  };
}

export function standardizeBars(
  rows: readonly ParsedRawBar[],
  symbol: SymbolCode,
  calendar: MarketCalendar,
  options: StandardizeOptions = {},
): StandardizeResult {
  const result: StandardizeResult = { bars: [], counts: emptyCounts(), repairs: [], outcomes: new Map() };
  result.counts.input = rows.length;
  for (const [date, dayRows] of groupBySessionDate(rows, calendar)) {
    standardizeDay(date, dayRows, symbol, calendar, options, result);
  }
  result.bars.sort((a, b) => a.time - b.time);
  result.counts.standardized = result.bars.length;
  return result;
}

/**
 * Groups rows by the date of the session that holds them (a 24-hour FX session dated D opens on
 * the evening of D-1). A row outside every session falls back to its UTC date: a session recorded
 * in wall-clock time but labelled UTC carries its open date as the UTC date, so the mislabelled
 * rows meet their session's date; the rest are counted as off-session or non-trading-day rows.
 * For a same-day session inside one UTC date (USD/COP: 13:00-18:00Z) this is the UTC date.
 */
function groupBySessionDate(rows: readonly ParsedRawBar[], calendar: MarketCalendar): Map<IsoDate, ParsedRawBar[]> {
  const byDate = new Map<IsoDate, ParsedRawBar[]>();
  const utcDates = new Map<number, IsoDate>();
  for (const row of rows) {
    const date = calendar.sessionAt(row.time)?.date ?? utcDateOf(row.time, utcDates);
    const list = byDate.get(date);
    if (list) list.push(row);
    else byDate.set(date, [row]);
  }
  return byDate;
}

function utcDateOf(t: number, cache: Map<number, IsoDate>): IsoDate {
  const day = Math.floor(t / DAY_MS);
  let date = cache.get(day);
  if (date === undefined) {
    date = toIsoUtc(day * DAY_MS).slice(0, 10);
    cache.set(day, date);
  }
  return date;
}

/** Rows of one session date, split into one row per grid slot. */
interface DaySlots {
  /** Correctly labelled rows inside the session, by open time. */
  session: Map<number, ParsedRawBar>;
  /** Rows in the window where Bogota wall-clock session times land when labelled UTC. */
  wallClock: Map<number, ParsedRawBar>;
  others: number;
  /** Of `others`: rows in the FLANK_MS just before the wall-clock window. */
  beforeWallClock: number;
}

/** How far before the wall-clock window a session-shaped block must be (nearly) empty. */
const FLANK_MS = 2 * HOUR_MS;

function standardizeDay(
  date: IsoDate,
  rows: ParsedRawBar[],
  symbol: SymbolCode,
  calendar: MarketCalendar,
  options: StandardizeOptions,
  out: StandardizeResult,
): void {
  const session = calendar.isTradingDay(date) ? calendar.sessionFor(date) : null;
  if (!session) {
    for (const row of rows) drop(out, row, 'non_trading_day');
    return;
  }
  const shift = wallClockShift(session, wallClockOpenDate(date, calendar), calendar.sessionHours().open);
  const slots = splitDay(rows, session, shift, out);
  for (const row of slots.session.values()) keep(out, toBar(row, symbol, row.time, false), row);

  const evidence = mislabellingEvidence(slots, session, shift, options);
  if (!evidence) {
    for (const row of slots.wallClock.values()) drop(out, row, 'off_session');
    return;
  }
  let shifted = 0;
  for (const row of slots.wallClock.values()) {
    const twin = slots.session.get(row.time + shift);
    if (twin) {
      out.outcomes.set(row, { kind: 'dropped', reason: 'mislabelled_duplicate', keptRow: twin });
      continue;
    }
    keep(out, toBar(row, symbol, row.time + shift, true), row);
    shifted++;
  }
  const copies = slots.wallClock.size - shifted;
  out.counts.repaired += shifted;
  out.counts.dropped.mislabelled_duplicate += copies;
  out.repairs.push({ date, shiftedBars: shifted, droppedCopies: copies, evidence });
}

/** The date a session opens on in its own wall clock: the day before its date for a 24-hour FX session. */
function wallClockOpenDate(date: IsoDate, calendar: MarketCalendar): IsoDate {
  return calendar.sessionHours().opensDayBefore ? addDays(date, -1) : date;
}

/** How far the market's wall-clock time labelled UTC sits before the true UTC instant (USD/COP: 5 h). */
function wallClockShift(session: Session, openDate: IsoDate, openAt: string): number {
  const wallClockOpen = Date.parse(`${openDate}T${openAt}:00Z`);
  return session.open - wallClockOpen;
}

function keep(out: StandardizeResult, bar: Bar, row: ParsedRawBar): void {
  out.bars.push(bar);
  out.outcomes.set(row, { kind: 'kept', repaired: bar.time !== row.time });
}

function drop(out: StandardizeResult, row: ParsedRawBar, reason: DropReason, keptRow?: ParsedRawBar): void {
  out.counts.dropped[reason]++;
  out.outcomes.set(row, keptRow === undefined ? { kind: 'dropped', reason } : { kind: 'dropped', reason, keptRow });
}

function splitDay(rows: ParsedRawBar[], session: Session, shift: number, out: StandardizeResult): DaySlots {
  const slots: DaySlots = { session: new Map(), wallClock: new Map(), others: 0, beforeWallClock: 0 };
  const wallClockOpen = session.open - shift;
  for (const row of rows) {
    if (row.time % BAR_MS !== 0) {
      drop(out, row, 'off_grid');
      continue;
    }
    const target = inWindow(row.time, session.open, session.close)
      ? slots.session
      : inWindow(row.time + shift, session.open, session.close)
        ? slots.wallClock
        : null;
    const holder = target?.get(row.time);
    if (!target) {
      slots.others++;
      if (inWindow(row.time, wallClockOpen - FLANK_MS, wallClockOpen)) slots.beforeWallClock++;
      drop(out, row, 'off_session');
    } else if (holder) {
      drop(out, row, 'duplicate', holder);
    } else {
      target.set(row.time, row);
    }
  }
  return slots;
}

function inWindow(t: number, from: number, toExclusive: number): boolean {
  return t >= from && t < toExclusive;
}

/**
 * Decides whether the wall-clock-window rows of a day are the session mislabelled as UTC
 * rather than genuine overnight prints. Evidence, strongest first:
 * - matching prices: where both copies exist, the mislabelled bar's close equals the close of
 *   the correctly labelled bar five hours later (the same bar, recorded twice);
 * - session shape: no correctly labelled copy to compare with, the rows form a session-sized
 *   block (at least `minSessionShapeRows`), and either
 *   - the true session window holds no row at all, the wall-clock window holds at least half a
 *     session, and the two hours before it are at most half as dense: a block with edges, five
 *     hours early, whatever overnight rows share its date. A 24-hour quote stream prints in
 *     the true session window, and runs into the wall-clock window without an edge; or
 *   - the rest of the day is (almost) empty: at most one row elsewhere for every ten inside.
 */
function mislabellingEvidence(slots: DaySlots, session: Session, shift: number, options: StandardizeOptions): TimezoneRepair['evidence'] | null {
  if (slots.wallClock.size === 0) return null;
  const tolerance = options.priceTolerance ?? 5e-4;
  let overlapping = 0;
  let matching = 0;
  for (const row of slots.wallClock.values()) {
    const twin = slots.session.get(row.time + shift);
    if (!twin) continue;
    overlapping++;
    if (Math.abs(twin.close - row.close) <= tolerance * twin.close) matching++;
  }
  if (overlapping > 0) return matching * 2 >= overlapping ? 'matching_prices' : null;
  const minRows = options.minSessionShapeRows ?? 6;
  if (slots.wallClock.size < minRows) return null;
  const sessionSlots = (session.close - session.open) / BAR_MS;
  const flankSlots = FLANK_MS / BAR_MS;
  const edgeBefore = (slots.beforeWallClock / flankSlots) * 2 <= slots.wallClock.size / sessionSlots;
  const sessionOnlyEarly = slots.session.size === 0 && slots.wallClock.size * 2 >= sessionSlots && edgeBefore;
  const quietElsewhere = slots.others * 10 <= slots.wallClock.size;
  return sessionOnlyEarly || quietElsewhere ? 'session_shape' : null;
}

function toBar(row: ParsedRawBar, symbol: SymbolCode, time: number, repaired: boolean): Bar {
  const flags: BarFlag[] = [];
  if (repaired) flags.push('repaired');
  if (isFlat(row)) flags.push('flat');
  if (row.sourceLabel !== null && BACKFILL_LABEL.test(row.sourceLabel)) flags.push('backfilled');
  return {
    symbol,
    time,
    open: row.open,
    high: row.high,
    low: row.low,
    close: row.close,
    volume: row.volume,
    tickCount: null,
    source: 'import',
    revision: 1,
    flags,
  };
}
