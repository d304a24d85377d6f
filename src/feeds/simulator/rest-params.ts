/**
 * REST query parameters shared by the endpoints: timezone, dates, dp. Each parser returns the value
 * or a TwelveData error body.
 */
import { DateTime, IANAZone } from 'luxon';
import { DAY_MS } from '../../domain/time.ts';
import { invalidParameter, type TdErrorBody } from './td-errors.ts';

/** Forex's exchange zone. */
export const EXCHANGE_ZONE = 'UTC';
const DEFAULT_DP = 5;
const MAX_DP = 11;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: TdErrorBody };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: TdErrorBody): Parsed<T> => ({ ok: false, error });

/** `Exchange` (default) and `UTC` are UTC for forex; otherwise an IANA name, case-sensitive as documented. */
export function parseTimezone(raw: string | null): Parsed<string> {
  if (raw === null || raw === '' || raw === 'Exchange' || raw === 'UTC') return ok(EXCHANGE_ZONE);
  const resolved = resolvedZoneName(raw);
  // Intl accepts any casing; a name that only matches in another case is refused like the real API.
  const sameCaseOnly = resolved !== null && resolved.toLowerCase() === raw.toLowerCase() && resolved !== raw;
  if (resolved === null || sameCaseOnly) return fail(invalidParameter('timezone', raw, 'Use Exchange, UTC or an IANA time zone name such as America/Bogota (case-sensitive).'));
  return ok(raw);
}

function resolvedZoneName(name: string): string | null {
  if (!IANAZone.isValidZone(name)) return null;
  return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
}

/** Decimal places of returned prices: 0-11, default (and -1) 5. */
export function parseDp(raw: string | null): Parsed<number> {
  if (raw === null || raw === '' || raw === '-1') return ok(DEFAULT_DP);
  const dp = Number(raw);
  if (!Number.isInteger(dp) || dp < 0 || dp > MAX_DP) return fail(invalidParameter('dp', raw, `Use an integer from 0 to ${MAX_DP}.`));
  return ok(dp);
}

const DATE_FORMATS = ['yyyy-MM-dd', "yyyy-MM-dd'T'HH:mm:ss", 'yyyy-MM-dd HH:mm:ss'];

/** `2006-01-02`, `2006-01-02T15:04:05` or `2006-01-02 15:04:05`, read in `zone`; epoch ms. */
export function parseDateParam(name: string, raw: string, zone: string): Parsed<number> {
  for (const format of DATE_FORMATS) {
    const parsed = DateTime.fromFormat(raw.trim(), format, { zone });
    if (parsed.isValid) return ok(parsed.toMillis());
  }
  return fail(invalidParameter(name, raw, 'Use 2006-01-02, 2006-01-02T15:04:05 or 2006-01-02 15:04:05.'));
}

export interface TimeWindow {
  from: number;
  to: number;
  /** A date parameter was given, which changes the default outputsize. */
  explicit: boolean;
}

/**
 * start_date (inclusive) and end_date (exclusive: TwelveData's support article shows end_date=2020-05-06
 * returning bars up to 2020-05-05), or `date` (a whole day; also `today` and `yesterday`).
 */
export function parseWindow(params: URLSearchParams, zone: string, now: number): Parsed<TimeWindow> {
  const date = params.get('date');
  if (date !== null && date !== '') return parseDay(date, zone, now);
  let from = Number.NEGATIVE_INFINITY;
  let to = Number.POSITIVE_INFINITY;
  for (const name of ['start_date', 'end_date'] as const) {
    const raw = params.get(name);
    if (raw === null || raw === '') continue;
    const parsed = parseDateParam(name, raw, zone);
    if (!parsed.ok) return parsed;
    if (name === 'start_date') from = parsed.value;
    else to = parsed.value;
  }
  return ok({ from, to, explicit: from !== Number.NEGATIVE_INFINITY || to !== Number.POSITIVE_INFINITY });
}

function parseDay(raw: string, zone: string, now: number): Parsed<TimeWindow> {
  const today = DateTime.fromMillis(now, { zone }).startOf('day');
  const relative = raw.toLowerCase() === 'today' ? today : raw.toLowerCase() === 'yesterday' ? today.minus({ days: 1 }) : null;
  const start = relative === null ? parseDateParam('date', raw, zone) : ok(relative.toMillis());
  if (!start.ok) return start;
  const end = DateTime.fromMillis(start.value, { zone }).plus({ days: 1 }).toMillis();
  return ok({ from: start.value, to: Number.isFinite(end) ? end : start.value + DAY_MS, explicit: true });
}

/** `YYYY-MM-DD HH:MM:SS` of an instant in `zone`. */
export function formatDateTime(t: number, zone: string): string {
  return DateTime.fromMillis(t, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
}

/** `YYYY-MM-DD` of an instant in UTC (daily and longer bars). */
export function formatUtcDate(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** REST prices are strings with `dp` decimals. */
export function priceText(value: number, dp: number): string {
  return value.toFixed(dp);
}

export function roundNumber(value: number, dp: number): number {
  return Number(value.toFixed(dp));
}
