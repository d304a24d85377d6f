/**
 * How the dashboard shows numbers and times: prices with thousands separators and the
 * instrument's decimals, times in the selected market's own zone with the zone named
 * (`2024-01-02 08:00:00 America/Bogota`). Every time function takes the zone: it is the
 * instrument's (selected-symbol.ts), never a constant. Missing values show as an em dash.
 */
import { zonedDate } from './market-time.ts';

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

type TimeStyle = 'dateTime' | 'minute' | 'time' | 'day';
const TIME_OPTIONS: Record<TimeStyle, Intl.DateTimeFormatOptions> = {
  dateTime: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' },
  minute: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  time: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  day: { month: 'short', day: 'numeric' },
};
const timeFormats = new Map<string, Intl.DateTimeFormat>();

function timeFormat(zone: string, style: TimeStyle): Intl.DateTimeFormat {
  const key = `${zone} ${style}`;
  let format = timeFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, ...TIME_OPTIONS[style] });
    timeFormats.set(key, format);
  }
  return format;
}

const priceFormats = new Map<number, Intl.NumberFormat>();

function priceFormat(decimals: number): Intl.NumberFormat {
  let format = priceFormats.get(decimals);
  if (format === undefined) {
    format = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    priceFormats.set(decimals, format);
  }
  return format;
}

export const MISSING = '—';

const missing = (value: number | null | undefined): value is null | undefined => value === null || value === undefined || !Number.isFinite(value);

/** A price with the instrument's decimals (2 by default: COP and most money amounts). */
export function price(value: number | null | undefined, decimals = 2): string {
  return missing(value) ? MISSING : priceFormat(decimals).format(value);
}

/** A COP amount (research figures, P&L): 2 decimals. */
export function cop(value: number | null | undefined): string {
  return price(value, 2);
}

export function integer(value: number | null | undefined): string {
  return missing(value) ? MISSING : INTEGER.format(value);
}

export function percent(value: number | null | undefined, digits = 2): string {
  return missing(value) ? MISSING : `${(value * 100).toFixed(digits)} %`;
}

/** A change with its sign, with the instrument's decimals. */
export function signed(value: number | null | undefined, decimals = 2): string {
  if (missing(value)) return MISSING;
  return `${value > 0 ? '+' : ''}${priceFormat(decimals).format(value)}`;
}

function instant(t: number | string | null | undefined): number | null {
  if (t === null || t === undefined) return null;
  const ms = typeof t === 'number' ? t : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** `2024-01-02 10:05:00 America/Bogota` from epoch ms or an ISO string. */
export function zonedDateTime(zone: string, t: number | string | null | undefined): string {
  const ms = instant(t);
  return ms === null ? MISSING : `${timeFormat(zone, 'dateTime').format(ms).replace(',', '')} ${zone}`;
}

/** `2024-01-02 10:05 America/Bogota`. */
export function zonedMinute(zone: string, ms: number): string {
  return Number.isFinite(ms) ? `${timeFormat(zone, 'minute').format(ms).replace(',', '')} ${zone}` : MISSING;
}

/** `10:58:26 America/Bogota`. */
export function zonedClock(zone: string, t: number | string | null | undefined): string {
  const full = zonedDateTime(zone, t);
  return full === MISSING ? MISSING : full.slice(11);
}

/** `10:05` in the zone (axis ticks, table cells under a header naming the zone). */
export function zonedTime(zone: string, ms: number): string {
  return timeFormat(zone, 'time').format(ms);
}

/** `Jan 2` in the zone. */
export function zonedDay(zone: string, ms: number): string {
  return timeFormat(zone, 'day').format(ms);
}

/** `3 h 12 min`, `45 s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return h >= 48 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${h} h ${m % 60} min`;
}

const DECIMAL = (digits: number) => new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A plain number with a fixed count of decimals and thousands separators (ratios, seconds). */
export function decimal(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? MISSING : DECIMAL(digits).format(value);
}

/** `12.3 MB`. */
export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i] ?? ''}`;
}

/** The calendar date (YYYY-MM-DD) of an instant in the zone. */
export function zonedDateOf(zone: string, ms: number): string {
  return zonedDate(zone, ms);
}

/** A short hash for tables: the first 12 hex digits. */
export function shortHash(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 12) : MISSING;
}

/** A run's duration: `850 ms` under a second, else as `duration`. */
export function elapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : duration(ms);
}
