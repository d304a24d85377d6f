/** Exponential backoff with jitter, as both official TwelveData SDKs reconnect (1 s doubling, capped at 30 s, ±20 %). */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay drawn at random either way, 0-1. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/**
 * The delay before retry number `attempt` (1-based): initialMs * factor^(attempt-1), jittered,
 * never above maxMs. Jitter spreads many clients that lost the server at the same moment.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * opts.factor ** Math.max(0, attempt - 1));
  const jittered = base * (1 + opts.jitter * (2 * random() - 1));
  return Math.round(Math.min(opts.maxMs, Math.max(0, jittered)));
}
