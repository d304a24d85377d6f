/**
 * How the dashboard shows numbers and times: COP prices with thousands separators and 2 decimals,
 * times in America/Bogota labelled "COT" (UTC-5, no DST). Missing values show as an em dash.
 */
const COP = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const BOGOTA_DATE_TIME = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Bogota', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
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
