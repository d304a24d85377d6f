/** Argument checks shared by both drivers, so that they reject the same calls with the same errors. */
import { TasaError } from '../errors.ts';
import { ALL_SYMBOLS, CHANNELS, DEFAULT_REPLAY_LIMIT, type Channel, type GapHandler, type SubscribeOptions } from './types.ts';

const bad = (message: string, input: string) => new TasaError('bad_argument', message, { input });

export function checkChannel(channel: string): Channel {
  if (!(CHANNELS as readonly string[]).includes(channel)) {
    throw bad(`Unknown bus channel "${channel}"; known channels: ${CHANNELS.join(', ')}.`, channel);
  }
  return channel as Channel;
}

/** A concrete symbol for publish/replay: not empty and not the '*' wildcard. */
export function checkSymbol(symbol: string): string {
  if (typeof symbol !== 'string' || symbol.trim() === '' || symbol === ALL_SYMBOLS) {
    throw bad(`Bus symbol must be a symbol such as USD/COP, got "${String(symbol)}".`, String(symbol));
  }
  return symbol;
}

export function checkSeq(since: number, what = 'since'): number {
  if (!Number.isSafeInteger(since) || since < 0) throw bad(`${what} must be a whole number >= 0, got ${since}.`, `${what}=${since}`);
  return since;
}

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_REPLAY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw bad(`Replay limit must be a whole number >= 1, got ${limit}.`, `limit=${limit}`);
  return limit;
}

export function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw bad(`TTL must be a positive number of milliseconds, got ${ttlMs}.`, `ttlMs=${ttlMs}`);
  return Math.ceil(ttlMs);
}

export function checkName(name: string, what: string): string {
  if (typeof name !== 'string' || name === '') throw bad(`${what} must be a non-empty string.`, String(name));
  return name;
}

export interface CheckedSubscription {
  symbol: string;
  since: number | undefined;
  channels: ReadonlySet<Channel> | null;
  onGap: GapHandler | undefined;
}

export function checkSubscription(symbol: string, opts: SubscribeOptions = {}): CheckedSubscription {
  if (symbol !== ALL_SYMBOLS) checkSymbol(symbol);
  if (opts.since !== undefined) {
    checkSeq(opts.since);
    if (symbol === ALL_SYMBOLS) throw bad('`since` needs a single symbol: sequence numbers are per symbol.', `since=${opts.since}`);
  }
  const channels = opts.channels === undefined ? null : new Set(opts.channels.map(checkChannel));
  return { symbol, since: opts.since, channels, onGap: opts.onGap };
}

/** Values go through JSON on both drivers, so a subscriber sees the same thing from either. */
export function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw bad(`${what} must be JSON-serialisable, got ${typeof value}.`, what);
  return text;
}

/** True when a `since` can be served without a gap: not ahead of the stream, not before its oldest kept event. */
export function isReplayComplete(since: number, last: number, firstReturnedSeq: number | undefined): boolean {
  if (since > last) return false;
  return firstReturnedSeq === undefined ? since === last : firstReturnedSeq === since + 1;
}
