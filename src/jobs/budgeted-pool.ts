/**
 * A key pool for jobs that must stay within the day's budget. The plain pool's `take` waits on the
 * clock for credits, which is right for a minute (a few seconds) but not for a day: a backfill
 * would sit for hours. This one waits out per-minute limits the same way but throws
 * `DailyBudgetExhaustedError` as soon as no key has credit left for the UTC day, so the job can
 * stop cleanly and the next run (after 00:00 UTC) picks up where it stopped.
 */
import type { Clock } from '../clock.ts';
import { TasaError } from '../errors.ts';
import { KeyPool, type KeyLease, type KeyPoolOptions, type KeyStatus } from '../feeds/twelvedata/key-pool.ts';

/** When a key reported usable still gave nothing (another worker took the last credit), retry after this. */
const CONTENDED_RETRY_MS = 1_000;

export class DailyBudgetExhaustedError extends TasaError {
  constructor(keys: number) {
    super('conflict', `Every usable TwelveData API key (${keys}) has spent its credits for today (UTC).`, {
      hint: 'Run again after 00:00 UTC, or add keys to TWELVEDATA_API_KEYS; what was already fetched is kept.',
    });
    this.name = 'DailyBudgetExhaustedError';
  }
}

export class BudgetedKeyPool extends KeyPool {
  private readonly waitClock: Clock;

  constructor(opts: KeyPoolOptions) {
    super(opts);
    this.waitClock = opts.clock;
  }

  override async take(credits = 1, opts: { signal?: AbortSignal } = {}): Promise<KeyLease> {
    for (;;) {
      opts.signal?.throwIfAborted();
      const lease = await this.acquire(credits);
      if (lease) return lease;
      const wakeAt = nextMinuteWithBudget(await this.status());
      // Every key is bad: the plain pool throws its own explanation.
      if (wakeAt === 'all_bad') return super.take(credits, opts);
      if (wakeAt === 'day_spent') throw new DailyBudgetExhaustedError(this.size);
      const now = this.waitClock.now();
      await this.waitClock.sleep(wakeAt > now ? wakeAt - now : CONTENDED_RETRY_MS);
    }
  }

  /**
   * Credits the usable keys have left for the UTC day (a minute's limit is only waited out): the
   * most REST requests a job can still make today, shared with every other worker.
   */
  async creditsLeftToday(): Promise<number> {
    return creditsLeft(await this.status());
  }
}

export function creditsLeft(keys: readonly KeyStatus[]): number {
  return keys.filter((k) => k.status !== 'bad').reduce((sum, k) => sum + Math.max(0, k.dayLimit - k.dayUsed), 0);
}

/** When the earliest key with day budget gets minute credits again; or why none ever will today. */
function nextMinuteWithBudget(keys: readonly KeyStatus[]): number | 'day_spent' | 'all_bad' {
  if (keys.every((k) => k.status === 'bad')) return 'all_bad';
  const waiting = keys.filter((k) => k.status === 'ok' || k.status === 'minute_exhausted');
  if (waiting.length === 0) return 'day_spent';
  return Math.min(...waiting.map((k) => (k.status === 'ok' ? 0 : (k.resetsAt ?? 0))));
}
