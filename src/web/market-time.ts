/**
 * Wall time in a market's own zone, in the browser: the date and clock of an instant there, the
 * instant of a wall time there (daylight saving included), and the session rules the terminal
 * needs on the client (a candle's session date, its session open, whether a tick is in session
 * hours). The rules come from the instrument (GET /api/instruments); the server's calendar stays
 * the truth for holidays.
 */
export interface SessionRules {
  /** IANA zone of the market. */
  zone: string;
  /** Wall times `HH:MM` in the zone. */
  open: string;
  close: string;
  /** The session opens the evening before its date (the 24-hour FX week). */
  opensDayBefore: boolean;
  /** ISO weekdays (1 = Monday) of the session dates. */
  weekdays: readonly number[];
}

const DAY_MS = 86_400_000;
const partsFormats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(zone: string): Intl.DateTimeFormat {
  let format = partsFormats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    partsFormats.set(zone, format);
  }
  return format;
}

/** The wall clock of `ms` in `zone` read through Intl (slow: tens of microseconds a call). */
function wallFromParts(zone: string, ms: number): number {
  const p: Record<string, number> = {};
  for (const part of partsFormat(zone).formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p['year'] ?? 1970, (p['month'] ?? 1) - 1, p['day'] ?? 1, p['hour'] ?? 0, p['minute'] ?? 0, p['second'] ?? 0);
}

/** Zone offsets change only on quarter-hour boundaries (DST and zone changes): one Intl read per zone and quarter hour. */
const QUARTER_HOUR_MS = 900_000;
const offsets = new Map<string, Map<number, number>>();

/**
 * `zone`'s UTC offset at `ms`, cached: the live chart folds every tick against hundreds of
 * candles, and an Intl read per candle per tick would keep the page's main thread busy.
 */
function offsetAt(zone: string, ms: number): number {
  let byQuarter = offsets.get(zone);
  if (byQuarter === undefined) {
    byQuarter = new Map();
    offsets.set(zone, byQuarter);
  }
  const quarter = Math.floor(ms / QUARTER_HOUR_MS);
  let offset = byQuarter.get(quarter);
  if (offset === undefined) {
    const probe = quarter * QUARTER_HOUR_MS;
    offset = wallFromParts(zone, probe) - probe;
    byQuarter.set(quarter, offset);
  }
  return offset;
}

/** The wall clock of `ms` in `zone` as if it were UTC (epoch ms), e.g. 08:00 Bogota -> 08:00Z. */
function wallAsUtc(zone: string, ms: number): number {
  return ms + offsetAt(zone, ms);
}

/** `YYYY-MM-DD` of `ms` in `zone`. */
export function zonedDate(zone: string, ms: number): string {
  return new Date(wallAsUtc(zone, ms)).toISOString().slice(0, 10);
}

/** Minutes after midnight of `ms` in `zone`. */
function zonedMinute(zone: string, ms: number): number {
  const wall = new Date(wallAsUtc(zone, ms));
  return wall.getUTCHours() * 60 + wall.getUTCMinutes();
}

/** The instant of wall time `hhmm` on `date` in `zone` (the offset of that instant, found in two steps around a DST change). */
export function wallTime(zone: string, date: string, hhmm: string): number {
  const guess = Date.parse(`${date}T${hhmm}:00Z`);
  const first = guess - (wallAsUtc(zone, guess) - guess);
  return guess - (wallAsUtc(zone, first) - first);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** ISO weekday of a date, 1 = Monday. */
export function isoWeekday(date: string): number {
  return ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The session date `ms` belongs to: its date in the zone, or the next date after the open of a session that opens the day before. */
export function sessionDateOf(rules: SessionRules, ms: number): string {
  const date = zonedDate(rules.zone, ms);
  return rules.opensDayBefore && zonedMinute(rules.zone, ms) >= minutesOf(rules.open) ? addDays(date, 1) : date;
}

const opens = new WeakMap<SessionRules, Map<string, number>>();

/** Open of the session dated `date` (whether or not it trades that day); cached per rules and date (the live chart asks per candle per tick). */
export function sessionOpenOn(rules: SessionRules, date: string): number {
  let byDate = opens.get(rules);
  if (byDate === undefined) {
    byDate = new Map();
    opens.set(rules, byDate);
  }
  let open = byDate.get(date);
  if (open === undefined) {
    open = wallTime(rules.zone, rules.opensDayBefore ? addDays(date, -1) : date, rules.open);
    byDate.set(date, open);
  }
  return open;
}

export function sessionCloseOn(rules: SessionRules, date: string): number {
  return wallTime(rules.zone, date, rules.close);
}

/** `ms` is inside session hours on a session weekday; holidays are the server's to say (the market status). */
export function inSessionHours(rules: SessionRules, ms: number): boolean {
  const date = sessionDateOf(rules, ms);
  return rules.weekdays.includes(isoWeekday(date)) && ms >= sessionOpenOn(rules, date) && ms < sessionCloseOn(rules, date);
}
