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
import { SESSION_OPEN_HOUR, type MarketCalendar, type Session } from './calendar.ts';
import type { ParsedRawBar } from './raw-bar.ts';
import type { SymbolCode } from './symbol.ts';
import { DAY_MS, HOUR_MS, toIsoUtc, type IsoDate } from './time.ts';

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

export interface StandardizeResult {
  bars: Bar[];
  counts: StandardizeCounts;
  repairs: TimezoneRepair[];
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
  const result: StandardizeResult = { bars: [], counts: emptyCounts(), repairs: [] };
  result.counts.input = rows.length;
  for (const [date, dayRows] of groupByUtcDate(rows)) {
    standardizeDay(date, dayRows, symbol, calendar, options, result);
  }
  result.bars.sort((a, b) => a.time - b.time);
  result.counts.standardized = result.bars.length;
  return result;
}

function groupByUtcDate(rows: readonly ParsedRawBar[]): Map<IsoDate, ParsedRawBar[]> {
  const byDay = new Map<number, ParsedRawBar[]>();
  for (const row of rows) {
    const day = Math.floor(row.time / DAY_MS);
    const list = byDay.get(day);
    if (list) list.push(row);
    else byDay.set(day, [row]);
  }
  const byDate = new Map<IsoDate, ParsedRawBar[]>();
  for (const [day, list] of byDay) byDate.set(toIsoUtc(day * DAY_MS).slice(0, 10), list);
  return byDate;
}

/** Rows of one UTC date, split into one row per grid slot. */
interface DaySlots {
  /** Correctly labelled rows inside the session, by open time. */
  session: Map<number, ParsedRawBar>;
  /** Rows in the window where Bogota wall-clock session times land when labelled UTC. */
  wallClock: Map<number, ParsedRawBar>;
  others: number;
}

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
    out.counts.dropped.non_trading_day += rows.length;
    return;
  }
  const shift = wallClockShift(session, date);
  const slots = splitDay(rows, session, shift, out.counts);
  for (const row of slots.session.values()) out.bars.push(toBar(row, symbol, row.time, false));

  const evidence = mislabellingEvidence(slots, shift, options);
  if (!evidence) {
    out.counts.dropped.off_session += slots.wallClock.size;
    return;
  }
  let shifted = 0;
  for (const row of slots.wallClock.values()) {
    if (slots.session.has(row.time + shift)) continue;
    out.bars.push(toBar(row, symbol, row.time + shift, true));
    shifted++;
  }
  const copies = slots.wallClock.size - shifted;
  out.counts.repaired += shifted;
  out.counts.dropped.mislabelled_duplicate += copies;
  out.repairs.push({ date, shiftedBars: shifted, droppedCopies: copies, evidence });
}

/** How far a Bogota wall-clock time labelled UTC sits before the true UTC instant (5 h). */
function wallClockShift(session: Session, date: IsoDate): number {
  const wallClockOpen = Date.parse(`${date}T00:00:00Z`) + SESSION_OPEN_HOUR * HOUR_MS;
  return session.open - wallClockOpen;
}

function splitDay(rows: ParsedRawBar[], session: Session, shift: number, counts: StandardizeCounts): DaySlots {
  const slots: DaySlots = { session: new Map(), wallClock: new Map(), others: 0 };
  for (const row of rows) {
    if (row.time % BAR_MS !== 0) {
      counts.dropped.off_grid++;
      continue;
    }
    const target = inWindow(row.time, session.open, session.close)
      ? slots.session
      : inWindow(row.time + shift, session.open, session.close)
        ? slots.wallClock
        : null;
    if (!target) {
      slots.others++;
      counts.dropped.off_session++;
    } else if (target.has(row.time)) {
      counts.dropped.duplicate++;
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
 * - session shape: no correctly labelled copy to compare with, but the rows form a
 *   session-sized block and the day has (almost) nothing else, unlike a 24-hour quote stream.
 */
function mislabellingEvidence(slots: DaySlots, shift: number, options: StandardizeOptions): TimezoneRepair['evidence'] | null {
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
  const quietElsewhere = slots.others * 10 <= slots.wallClock.size;
  return slots.wallClock.size >= minRows && quietElsewhere ? 'session_shape' : null;
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
