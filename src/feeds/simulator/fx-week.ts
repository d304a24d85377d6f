/**
 * The global FX week the aggregated forex quote follows: it prints from Sunday 17:00 New York to
 * Friday 17:00 New York (DST included: 21:00Z in summer, 22:00Z in winter), for every pair, local
 * market or not. Pure calendar arithmetic on UTC days; the zone database is asked once per Friday
 * or Sunday, so callers memoise per day.
 */
import { DateTime } from 'luxon';
import { BAR_MS } from '../../domain/bar.ts';
import { DAY_MS } from '../../domain/time.ts';

const FX_WEEK_ZONE = 'America/New_York';
const FX_WEEK_HOUR = 17;
const SLOTS_PER_DAY = DAY_MS / BAR_MS;
const SUNDAY = 0;
const FRIDAY = 5;
const SATURDAY = 6;

/** 0 = Sunday .. 6 = Saturday, of a UTC day number (1970-01-01, day 0, was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** The slots of a UTC day inside the FX week, as slot indices [first, end) of its 288 (empty when first >= end). */
export function fxWeekSlots(day: number): { first: number; end: number } {
  switch (weekdayOf(day)) {
    case SATURDAY:
      return { first: 0, end: 0 };
    case SUNDAY:
      return { first: newYorkBoundarySlot(day), end: SLOTS_PER_DAY };
    case FRIDAY:
      return { first: 0, end: newYorkBoundarySlot(day) };
    default:
      return { first: 0, end: SLOTS_PER_DAY };
  }
}

/** The slot index at which 17:00 New York falls on the UTC day (the same calendar date: 21:00Z or 22:00Z). */
function newYorkBoundarySlot(day: number): number {
  const date = new Date(day * DAY_MS);
  const boundary = DateTime.fromObject(
    { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: FX_WEEK_HOUR },
    { zone: FX_WEEK_ZONE },
  ).toMillis();
  return (boundary - day * DAY_MS) / BAR_MS;
}
