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
export function isIsoDate(s: string): boolean {
  return ISO_DATE.test(s) && DateTime.fromISO(s, { zone: 'UTC' }).isValid;
}

/** The Bogota calendar date of an instant (Bogota keeps one offset all day: no DST). */
export function bogotaDate(t: number): IsoDate {
  const utcDate = new Date(t).toISOString().slice(0, 10);
  return new Date(t + bogotaOffsetOn(utcDate) * MINUTE_MS).toISOString().slice(0, 10);
}

/** The Bogota hour of day (0-23) of an instant. */
export function bogotaHour(t: number): number {
  const offsetMs = bogotaOffsetOn(new Date(t).toISOString().slice(0, 10)) * MINUTE_MS;
  return Math.floor((((t + offsetMs) % DAY_MS) + DAY_MS) % DAY_MS / HOUR_MS);
}

/** The UTC instant of a Bogota wall-clock time on a date, e.g. (2024-01-02, 8, 0) -> 13:00Z. */
export function bogotaWallTime(date: IsoDate, hour: number, minute = 0): number {
  return utcMidnight(date) + hour * HOUR_MS + minute * MINUTE_MS - bogotaOffsetOn(date) * MINUTE_MS;
}

const offsetByDate = new Map<IsoDate, number>();

/**
 * Bogota's UTC offset in minutes on a date (-300 since 1993), from the zone database. Asking
 * the zone is slow (Intl), and the calendar asks for every day of every year it builds, so the
 * answer is kept per date. Bogota has no DST, so noon stands for the whole day.
 */
function bogotaOffsetOn(date: IsoDate): number {
  let offset = offsetByDate.get(date);
  if (offset === undefined) {
    offset = DateTime.fromMillis(utcMidnight(date) + 12 * HOUR_MS, { zone: MARKET_ZONE }).offset;
    offsetByDate.set(date, offset);
  }
  return offset;
}

/** Midnight UTC of a `YYYY-MM-DD` date (plain integer arithmetic: calendar code calls this in loops). */
function utcMidnight(date: IsoDate): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
}

/**
 * The UTC instant of a wall-clock time on a date in any IANA zone, e.g. (New York, 2024-07-01,
 * 17, 0) -> 21:00Z. The date's offset is taken at 12:00 UTC and kept per zone and date (the
 * calendar asks for every day of every year it builds): right for any time after the night's
 * DST change, which is every market session (changes happen between 00:00 and 03:00 local).
 */
export function zonedWallTime(zone: string, date: IsoDate, hour: number, minute = 0): number {
  return utcMidnight(date) + hour * HOUR_MS + minute * MINUTE_MS - zoneOffsetOn(zone, date) * MINUTE_MS;
}

const zoneOffsets = new Map<string, number>();

function zoneOffsetOn(zone: string, date: IsoDate): number {
  const key = `${zone}|${date}`;
  let offset = zoneOffsets.get(key);
  if (offset === undefined) {
    offset = DateTime.fromMillis(utcMidnight(date) + 12 * HOUR_MS, { zone }).offset;
    zoneOffsets.set(key, offset);
  }
  return offset;
}

/** The UTC offset of a zone at an instant, e.g. `-05:00`. */
export function utcOffsetText(zone: string, t: number): string {
  return DateTime.fromMillis(t, { zone }).toFormat('ZZ');
}

/** The calendar date of an instant in an IANA zone. */
export function zonedDate(zone: string, t: number): IsoDate {
  return DateTime.fromMillis(t, { zone }).toISODate() as IsoDate;
}

/**
 * The wall-clock hour (0-23) of an instant in a zone, with the instants [from, to) that hour of
 * the clock spans: one zone lookup, the span from the minutes past the hour. Right for zones that
 * change offset on a whole hour of the clock, as every market zone does.
 */
export function zonedHour(zone: string, t: number): { hour: number; from: number; to: number } {
  const wall = DateTime.fromMillis(t, { zone });
  const from = t - (wall.minute * MINUTE_MS + wall.second * 1000 + wall.millisecond);
  return { hour: wall.hour, from, to: from + HOUR_MS };
}

/** The city an IANA zone is named after, for people: `America/Sao_Paulo` -> `Sao Paulo`. */
export function zoneCity(zone: string): string {
  return zone.slice(zone.lastIndexOf('/') + 1).replace(/_/g, ' ');
}

/** Minutes since midnight of a wall time `HH:MM`, e.g. `08:30` -> 510. */
export function minuteOfDay(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** True when `zone` is an IANA time zone this runtime knows, e.g. America/Bogota. */
export function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(date: IsoDate, days: number): IsoDate {
  return new Date(utcMidnight(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** ISO weekday, 1 = Monday .. 7 = Sunday. */
export function weekday(date: IsoDate): number {
  return new Date(utcMidnight(date)).getUTCDay() || 7;
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
  return toZonedText(MARKET_ZONE, t);
}

/** An instant in a zone's wall time with its offset, e.g. `2024-01-02 10:00:00 -05:00`. */
export function toZonedText(zone: string, t: number): string {
  return DateTime.fromMillis(t, { zone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
}
