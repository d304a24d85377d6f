/**
 * Where the key pool keeps its credit counters: the database (shared by every worker, survives
 * restarts) or process memory (one process, e.g. a CLI run without a database). Both have the
 * semantics of src/store/api-keys-repo.ts.
 */
import type { Db } from '../../store/db.ts';
import {
  listApiKeys,
  markApiKeyBad,
  markApiKeyExhausted,
  minuteStartOf,
  registerApiKeys,
  reinstateApiKey,
  takeApiKeyCredits,
  utcDateOf,
  windowUsage,
  type ApiKeyPlan,
  type ApiKeyState,
  type CreditScope,
} from '../../store/api-keys-repo.ts';

export interface KeyStore {
  register(keys: readonly ApiKeyPlan[], now: number): Promise<void>;
  /** Atomically takes credits; null when the key is bad or lacks budget. */
  take(id: string, credits: number, now: number): Promise<ApiKeyState | null>;
  markExhausted(id: string, scope: CreditScope, now: number): Promise<void>;
  markBad(id: string, reason: string, now: number): Promise<void>;
  reinstate(id: string, now: number): Promise<void>;
  list(ids: readonly string[]): Promise<ApiKeyState[]>;
}

export class DbKeyStore implements KeyStore {
  constructor(private readonly db: Db) {}

  register(keys: readonly ApiKeyPlan[], now: number): Promise<void> {
    return registerApiKeys(this.db, keys, now);
  }

  take(id: string, credits: number, now: number): Promise<ApiKeyState | null> {
    return takeApiKeyCredits(this.db, id, credits, now);
  }

  markExhausted(id: string, scope: CreditScope, now: number): Promise<void> {
    return markApiKeyExhausted(this.db, id, scope, now);
  }

  markBad(id: string, reason: string, now: number): Promise<void> {
    return markApiKeyBad(this.db, id, reason, now);
  }

  reinstate(id: string, now: number): Promise<void> {
    return reinstateApiKey(this.db, id, now);
  }

  list(ids: readonly string[]): Promise<ApiKeyState[]> {
    return listApiKeys(this.db, ids);
  }
}

/** The same accounting in process memory. */
export class MemoryKeyStore implements KeyStore {
  private readonly rows = new Map<string, ApiKeyState>();

  register(keys: readonly ApiKeyPlan[], now: number): Promise<void> {
    for (const k of keys) {
      const known = this.rows.get(k.id);
      if (known) Object.assign(known, { minuteLimit: k.minuteLimit, dayLimit: k.dayLimit, updatedAt: now });
      else this.rows.set(k.id, freshState(k, now));
    }
    return Promise.resolve();
  }

  take(id: string, credits: number, now: number): Promise<ApiKeyState | null> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'ok') return Promise.resolve(null);
    const used = windowUsage(row, now);
    if (used.minuteUsed + credits > row.minuteLimit || used.dayUsed + credits > row.dayLimit) return Promise.resolve(null);
    rollOver(row, now);
    Object.assign(row, {
      minuteUsed: used.minuteUsed + credits,
      dayUsed: used.dayUsed + credits,
      creditsTotal: row.creditsTotal + credits,
      lastTakenAt: now,
      updatedAt: now,
    });
    return Promise.resolve({ ...row });
  }

  markExhausted(id: string, scope: CreditScope, now: number): Promise<void> {
    const row = this.rows.get(id);
    if (row) {
      const used = windowUsage(row, now);
      rollOver(row, now);
      if (scope === 'minute') row.minuteUsed = Math.max(used.minuteUsed, row.minuteLimit);
      else row.dayUsed = Math.max(used.dayUsed, row.dayLimit);
      row.updatedAt = now;
    }
    return Promise.resolve();
  }

  markBad(id: string, reason: string, now: number): Promise<void> {
    const row = this.rows.get(id);
    if (row) Object.assign(row, { status: 'bad', badReason: reason.trim() || 'rejected', updatedAt: now });
    return Promise.resolve();
  }

  reinstate(id: string, now: number): Promise<void> {
    const row = this.rows.get(id);
    if (row) Object.assign(row, { status: 'ok', badReason: null, updatedAt: now });
    return Promise.resolve();
  }

  list(ids: readonly string[]): Promise<ApiKeyState[]> {
    return Promise.resolve(ids.flatMap((id) => (this.rows.has(id) ? [{ ...(this.rows.get(id) as ApiKeyState) }] : [])));
  }
}

function freshState(k: ApiKeyPlan, now: number): ApiKeyState {
  return {
    id: k.id,
    status: 'ok',
    badReason: null,
    minuteLimit: k.minuteLimit,
    dayLimit: k.dayLimit,
    minuteStart: minuteStartOf(now),
    minuteUsed: 0,
    day: utcDateOf(now),
    dayUsed: 0,
    creditsTotal: 0,
    lastTakenAt: null,
    updatedAt: now,
  };
}

/** Moves stale windows forward to `now` with zero usage (never backwards). */
function rollOver(row: ApiKeyState, now: number): void {
  const used = windowUsage(row, now);
  row.minuteUsed = used.minuteUsed;
  row.dayUsed = used.dayUsed;
  row.minuteStart = Math.max(row.minuteStart, minuteStartOf(now));
  if (utcDateOf(now) > row.day) row.day = utcDateOf(now);
}
