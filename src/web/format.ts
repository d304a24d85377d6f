/**
 * How the dashboard shows numbers and times: COP prices with thousands separators and 2 decimals,
 * times in America/Bogota labelled "COT" (UTC-5, no DST). Missing values show as an em dash.
 */
const COP = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const BOGOTA_DATE_TIME = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Bogota', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const BOGOTA_MINUTE = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Bogota', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const BOGOTA_TIME = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Bogota', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const BOGOTA_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Bogota', month: 'short', day: 'numeric' });

export const MISSING = '—';

export function cop(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? MISSING : COP.format(value);
}

export function integer(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? MISSING : INTEGER.format(value);
}

export function percent(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? MISSING : `${(value * 100).toFixed(digits)} %`;
}

export function signed(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  return `${value > 0 ? '+' : ''}${COP.format(value)}`;
}

/** `2024-01-02 10:05:00 COT` from epoch ms or an ISO string. */
export function bogotaDateTime(t: number | string | null | undefined): string {
  if (t === null || t === undefined) return MISSING;
  const ms = typeof t === 'number' ? t : Date.parse(t);
  return Number.isNaN(ms) ? MISSING : `${BOGOTA_DATE_TIME.format(ms).replace(',', '')} COT`;
}

/** `2024-01-02 10:05 COT`. */
export function bogotaMinute(ms: number): string {
  return Number.isFinite(ms) ? `${BOGOTA_MINUTE.format(ms).replace(',', '')} COT` : MISSING;
}

/** `10:58:26 COT`. */
export function bogotaClock(t: number | string | null | undefined): string {
  const full = bogotaDateTime(t);
  return full === MISSING ? MISSING : full.slice(11);
}

export function bogotaTime(ms: number): string {
  return BOGOTA_TIME.format(ms);
}

export function bogotaDay(ms: number): string {
  return BOGOTA_DAY.format(ms);
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

/** The Bogota trading date (YYYY-MM-DD) of an instant: sessions are dated in Bogota (UTC-5, no DST). */
export function bogotaDateOf(ms: number): string {
  return new Date(ms - 5 * 3_600_000).toISOString().slice(0, 10);
}

/** A short hash for tables: the first 12 hex digits. */
export function shortHash(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 12) : MISSING;
}

/** A run's duration: `850 ms` under a second, else as `duration`. */
export function elapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : duration(ms);
}
