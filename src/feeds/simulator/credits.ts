/**
 * API credits per key, per clock minute and per UTC clock day, on the injected clock.
 *
 * The two real 429 messages disagree on what "used" counts: the per-minute one reports more credits
 * used than the limit ("12 ... used, with the current limit being 8"), the per-day one exactly the
 * limit ("800 ... used, ... 800"). So the minute counter counts every admitted-or-refused request
 * while the day counter only counts requests that were served, which reproduces both.
 */
import { DAY_MS, MINUTE_MS } from '../../domain/time.ts';

export interface CreditPlan {
  perMinute: number;
  perDay: number;
}

export const BASIC_PLAN: CreditPlan = { perMinute: 8, perDay: 800 };

export type CreditDecision =
  | { ok: true; minuteUsed: number; minuteLeft: number }
  | { ok: false; window: 'minute' | 'day'; used: number; limit: number; minuteUsed: number; minuteLeft: number };

export interface KeyCredits {
  minute: number;
  day: number;
  total: number;
  refused: number;
}

interface Window {
  index: number;
  used: number;
}

interface KeyAccount {
  minute: Window;
  day: Window;
  total: number;
  refused: number;
}

export class CreditLedger {
  private readonly accounts = new Map<string, KeyAccount>();

  constructor(private readonly plan: CreditPlan) {}

  /** Charges `cost` credits to `keyId` at `now`, or refuses with the window that ran out. */
  charge(keyId: string, cost: number, now: number): CreditDecision {
    const account = this.account(keyId, now);
    if (account.day.used + cost > this.plan.perDay) {
      account.refused++;
      return { ok: false, window: 'day', used: account.day.used, limit: this.plan.perDay, ...this.minuteHeaders(account) };
    }
    account.minute.used += cost;
    if (account.minute.used > this.plan.perMinute) {
      account.refused++;
      return { ok: false, window: 'minute', used: account.minute.used, limit: this.plan.perMinute, ...this.minuteHeaders(account) };
    }
    account.day.used += cost;
    account.total += cost;
    return { ok: true, ...this.minuteHeaders(account) };
  }

  /** Current usage without charging (for headers on refusals that cost nothing, and stats). */
  peek(keyId: string, now: number): { minuteUsed: number; minuteLeft: number } {
    return this.minuteHeaders(this.account(keyId, now));
  }

  /** Usage per key id as of `now`. */
  snapshot(now: number): Record<string, KeyCredits> {
    const out: Record<string, KeyCredits> = {};
    for (const keyId of this.accounts.keys()) {
      const a = this.account(keyId, now);
      out[keyId] = { minute: a.minute.used, day: a.day.used, total: a.total, refused: a.refused };
    }
    return out;
  }

  private account(keyId: string, now: number): KeyAccount {
    const minute = Math.floor(now / MINUTE_MS);
    const day = Math.floor(now / DAY_MS);
    let account = this.accounts.get(keyId);
    if (!account) {
      account = { minute: { index: minute, used: 0 }, day: { index: day, used: 0 }, total: 0, refused: 0 };
      this.accounts.set(keyId, account);
    }
    if (account.minute.index !== minute) account.minute = { index: minute, used: 0 };
    if (account.day.index !== day) account.day = { index: day, used: 0 };
    return account;
  }

  private minuteHeaders(account: KeyAccount): { minuteUsed: number; minuteLeft: number } {
    return { minuteUsed: account.minute.used, minuteLeft: Math.max(0, this.plan.perMinute - account.minute.used) };
  }
}
