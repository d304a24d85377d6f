/**
 * API key credit accounting (table `api_keys`, migration 002), shared by every process on the
 * database. Keys are known here only by their id (`k_` + short sha256), never by their value.
 *
 * Windows: the UTC minute (`minute_start`) and the UTC date (`day`) of the caller's clock. A stored
 * window older than the caller's is treated as empty, and a caller whose clock lags another's
 * counts against the newer window (`greatest`), so small clock skew between workers never lets
 * credits be spent twice. Credits are taken by ONE conditional UPDATE: PostgreSQL re-checks its
 * WHERE on the latest row version after waiting for a concurrent writer, so concurrent takers can
 * never push a window past its limit.
 */
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';
import { isoTime, msOrNull } from './rows.ts';

export type ApiKeyStatus = 'ok' | 'bad';
export type CreditScope = 'minute' | 'day';

export interface ApiKeyPlan {
  id: string;
  minuteLimit: number;
  dayLimit: number;
}

/** One key's row as stored (counters may belong to a past window; see `windowUsage`). */
export interface ApiKeyState {
  id: string;
  status: ApiKeyStatus;
  badReason: string | null;
  minuteLimit: number;
  dayLimit: number;
  /** Epoch ms of the UTC minute `minuteUsed` counts. */
  minuteStart: number;
  minuteUsed: number;
  /** UTC date `dayUsed` counts, YYYY-MM-DD. */
  day: string;
  dayUsed: number;
  creditsTotal: number;
  lastTakenAt: number | null;
  updatedAt: number;
}

const MINUTE_MS = 60_000;
const MAX_REASON_CHARS = 500;

/** Start of the UTC minute holding `t`. */
export function minuteStartOf(t: number): number {
  return Math.floor(t / MINUTE_MS) * MINUTE_MS;
}

/** UTC date of `t`, YYYY-MM-DD. */
export function utcDateOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** The credits used in the windows current at `now` (0 for a window that has rolled over). */
export function windowUsage(state: ApiKeyState, now: number): { minuteUsed: number; dayUsed: number } {
  return {
    minuteUsed: state.minuteStart >= minuteStartOf(now) ? state.minuteUsed : 0,
    dayUsed: state.day >= utcDateOf(now) ? state.dayUsed : 0,
  };
}

const KEY_ID = /^k_[0-9a-f]{10}$/;

function assertKeyId(id: string): void {
  if (!KEY_ID.test(id)) throw new TasaError('bad_argument', `"${id.slice(0, 12)}" is not an API key id (k_ + 10 hex digits).`);
}

/**
 * Adds the keys not yet known, with fresh windows at `now`; updates the limits of known ones
 * (the plan may change). Never touches counters or a `bad` status.
 */
export async function registerApiKeys(db: Db, keys: readonly ApiKeyPlan[], now: number): Promise<void> {
  if (keys.length === 0) return;
  keys.forEach((k) => assertKeyId(k.id));
  await db.query(
    `INSERT INTO api_keys (key_id, minute_limit, day_limit, minute_start, day, updated_at)
     SELECT k.id, k.minute_limit, k.day_limit, $4::timestamptz, $5::date, $6::timestamptz
     FROM unnest($1::text[], $2::int[], $3::int[]) AS k(id, minute_limit, day_limit)
     ON CONFLICT (key_id) DO UPDATE
       SET minute_limit = excluded.minute_limit, day_limit = excluded.day_limit, updated_at = excluded.updated_at`,
    [keys.map((k) => k.id), keys.map((k) => k.minuteLimit), keys.map((k) => k.dayLimit), isoTime(minuteStartOf(now)), utcDateOf(now), isoTime(now)],
  );
}

/**
 * Takes `credits` from the key's current minute and day windows in one atomic statement, rolling
 * stale windows over. Returns the updated row, or null when the key is bad, unknown, or either
 * window lacks the budget (nothing is taken then).
 */
export async function takeApiKeyCredits(db: Db, id: string, credits: number, now: number): Promise<ApiKeyState | null> {
  if (!Number.isInteger(credits) || credits < 1) throw new TasaError('bad_argument', `Credits to take must be a positive integer, got ${credits}.`);
  const [row] = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET
       minute_used   = (CASE WHEN minute_start >= $2::timestamptz THEN minute_used ELSE 0 END) + $4,
       minute_start  = greatest(minute_start, $2::timestamptz),
       day_used      = (CASE WHEN day >= $3::date THEN day_used ELSE 0 END) + $4,
       day           = greatest(day, $3::date),
       credits_total = credits_total + $4,
       last_taken_at = $5::timestamptz,
       updated_at    = $5::timestamptz
     WHERE key_id = $1 AND status = 'ok'
       AND (CASE WHEN minute_start >= $2::timestamptz THEN minute_used ELSE 0 END) + $4 <= minute_limit
       AND (CASE WHEN day >= $3::date THEN day_used ELSE 0 END) + $4 <= day_limit
     RETURNING ${COLUMNS}`,
    [id, isoTime(minuteStartOf(now)), utcDateOf(now), credits, isoTime(now)],
  );
  return row ? toState(row) : null;
}

/** Marks the current minute or day window as used up (the server said so with a 429). */
export async function markApiKeyExhausted(db: Db, id: string, scope: CreditScope, now: number): Promise<void> {
  if (scope === 'minute') {
    await db.query(
      `UPDATE api_keys SET
         minute_used = greatest(CASE WHEN minute_start >= $2::timestamptz THEN minute_used ELSE 0 END, minute_limit),
         minute_start = greatest(minute_start, $2::timestamptz), updated_at = $3::timestamptz
       WHERE key_id = $1`,
      [id, isoTime(minuteStartOf(now)), isoTime(now)],
    );
  } else {
    await db.query(
      `UPDATE api_keys SET
         day_used = greatest(CASE WHEN day >= $2::date THEN day_used ELSE 0 END, day_limit),
         day = greatest(day, $2::date), updated_at = $3::timestamptz
       WHERE key_id = $1`,
      [id, utcDateOf(now), isoTime(now)],
    );
  }
}

/** A rejected key (401/403): no worker uses it again until it is reinstated. */
export async function markApiKeyBad(db: Db, id: string, reason: string, now: number): Promise<void> {
  const text = reason.trim().slice(0, MAX_REASON_CHARS) || 'rejected';
  await db.query(`UPDATE api_keys SET status = 'bad', bad_reason = $2, updated_at = $3::timestamptz WHERE key_id = $1`, [id, text, isoTime(now)]);
}

/** Clears a `bad` mark, e.g. after the plan was upgraded. */
export async function reinstateApiKey(db: Db, id: string, now: number): Promise<void> {
  await db.query(`UPDATE api_keys SET status = 'ok', bad_reason = NULL, updated_at = $2::timestamptz WHERE key_id = $1`, [id, isoTime(now)]);
}

/** The rows of the given ids (all keys when omitted), ordered by id. */
export async function listApiKeys(db: Db, ids?: readonly string[]): Promise<ApiKeyState[]> {
  const rows = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE $1::text[] IS NULL OR key_id = ANY($1::text[]) ORDER BY key_id`, [
    ids === undefined ? null : [...ids],
  ]);
  return rows.map(toState);
}

const COLUMNS =
  'key_id, status, bad_reason, minute_limit, day_limit, minute_start, minute_used, day, day_used, credits_total, last_taken_at, updated_at';

interface ApiKeyRow {
  key_id: string;
  status: ApiKeyStatus;
  bad_reason: string | null;
  minute_limit: number;
  day_limit: number;
  minute_start: Date;
  minute_used: number;
  day: string;
  day_used: number;
  credits_total: number | string;
  last_taken_at: Date | null;
  updated_at: Date;
}

function toState(r: ApiKeyRow): ApiKeyState {
  return {
    id: r.key_id,
    status: r.status,
    badReason: r.bad_reason,
    minuteLimit: r.minute_limit,
    dayLimit: r.day_limit,
    minuteStart: r.minute_start.getTime(),
    minuteUsed: r.minute_used,
    day: r.day,
    dayUsed: r.day_used,
    creditsTotal: Number(r.credits_total),
    lastTakenAt: msOrNull(r.last_taken_at),
    updatedAt: r.updated_at.getTime(),
  };
}
