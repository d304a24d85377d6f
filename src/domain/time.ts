/**
 * Time conventions. Storage and wire are UTC epoch milliseconds (or ISO 8601 with `Z`);
 * people see America/Bogota. Calendar dates are ISO `YYYY-MM-DD` strings in Bogota.
 */
import { DateTime } from 'luxon';

export const MARKET_ZONE = 'America/Bogota';
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** An ISO calendar date, `YYYY-MM-DD`. */
export type IsoDate = string;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** True when `s` is a real calendar date in `YYYY-MM-DD` form (rejects 2024-02-30). */
export function isIsoDate(s: string): s is IsoDate {
  return ISO_DATE.test(s) && DateTime.fromISO(s, { zone: 'UTC' }).isValid;
}

/** The Bogota calendar date of an instant. */
export function bogotaDate(t: number): IsoDate {
  return DateTime.fromMillis(t, { zone: MARKET_ZONE }).toISODate() as IsoDate;
}

/** The UTC instant of a Bogota wall-clock time on a date, e.g. (2024-01-02, 8, 0) -> 13:00Z. */
export function bogotaWallTime(date: IsoDate, hour: number, minute = 0): number {
  return DateTime.fromISO(date, { zone: MARKET_ZONE }).set({ hour, minute, second: 0, millisecond: 0 }).toMillis();
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(date: IsoDate, days: number): IsoDate {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate() as IsoDate;
}

/** ISO weekday, 1 = Monday .. 7 = Sunday. */
export function weekday(date: IsoDate): number {
  return DateTime.fromISO(date, { zone: 'UTC' }).weekday;
}

/** Every date from `from` to `to`, both inclusive. */
export function datesBetween(from: IsoDate, to: IsoDate): IsoDate[] {
  const out: IsoDate[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** UTC ISO 8601 with `Z`, the wire and storage format. */
export function toIsoUtc(t: number): string {
  return new Date(t).toISOString();
}

/** Bogota wall time with its offset, for people: `2024-01-02 08:00:00 -05:00`. */
export function toBogotaText(t: number): string {
  return DateTime.fromMillis(t, { zone: MARKET_ZONE }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
}
