/**
 * The TwelveData API keys of this deployment and their credits: per key, per UTC minute and per UTC
 * day (Basic plan: 8 and 800). Requests take credits before they are sent, round-robin over the
 * keys with budget left; a key the server rejects (401/403) is marked bad, one it reports out of
 * credits (429) is marked exhausted for that window. With a database the counters are shared by
 * every worker and survive restarts (one atomic UPDATE per take, see api-keys-repo.ts).
 *
 * Keys never leave this module except through `KeyLease.apiKey`, read by the clients when they
 * send a request: logs, errors, the database and `status()` carry the id (`k_` + short sha256).
 */
import { inspect } from 'node:util';
import type { Clock } from '../../clock.ts';
import { TasaError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { minuteStartOf, utcDateOf, windowUsage, type ApiKeyState, type CreditScope } from '../../store/api-keys-repo.ts';
import type { Db } from '../../store/db.ts';
import { apiKeyId, redactKeys } from './key-id.ts';
import { DbKeyStore, MemoryKeyStore, type KeyStore } from './key-store.ts';

export interface CreditPlan {
  perMinute: number;
  perDay: number;
}

/** The free Basic plan. */
export const DEFAULT_PLAN: CreditPlan = { perMinute: 8, perDay: 800 };
/** TWELVEDATA_API_KEY_1 .. TWELVEDATA_API_KEY_16. */
export const MAX_NUMBERED_KEYS = 16;

export type KeyHealth = 'ok' | 'minute_exhausted' | 'day_exhausted' | 'bad';

export interface KeyStatus {
  id: string;
  status: KeyHealth;
  badReason: string | null;
  minuteUsed: number;
  dayUsed: number;
  minuteLimit: number;
  dayLimit: number;
  /** When the exhausted window resets (or, for a usable key, when its minute window does); null when bad. */
  resetsAt: number | null;
}

/** Credits taken from one key. Serialises (JSON, util.inspect, pino) without the key. */
export class KeyLease {
  readonly #apiKey: string;

  constructor(
    readonly id: string,
    apiKey: string,
    readonly credits: number,
  ) {
    this.#apiKey = apiKey;
  }

  /** The secret, for the request's auth header or URL only. */
  get apiKey(): string {
    return this.#apiKey;
  }

  toJSON(): { id: string; credits: number } {
    return { id: this.id, credits: this.credits };
  }

  [inspect.custom](): string {
    return `KeyLease(${this.id}, ${this.credits} credits)`;
  }
}

export interface KeyPoolOptions {
  keys: readonly string[];
  clock: Clock;
  plan?: CreditPlan;
  /** Shared, persistent accounting; without it (and without `store`) the counters live in memory. */
  db?: Db;
  store?: KeyStore;
  logger?: Logger;
}

export type KeyPoolEnvOptions = Omit<KeyPoolOptions, 'keys' | 'plan'>;

type Env = Readonly<Record<string, string | undefined>>;

interface PoolKey {
  id: string;
  key: string;
}

const DAY_MS = 86_400_000;
/** A take that loses a race for the last credits retries at once, at most this often in a row. */
const MAX_IMMEDIATE_RETRIES = 10;
const CONTENDED_RETRY_MS = 1_000;

export class KeyPool {
  private readonly keys: readonly PoolKey[];
  private readonly plan: CreditPlan;
  private readonly store: KeyStore;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  /** Key id -> clock time before which it surely has no credit (Infinity: bad). A cache: saves queries. */
  private readonly blockedUntil = new Map<string, number>();
  private cursor = 0;
  private registered: Promise<void> | null = null;

  constructor(opts: KeyPoolOptions) {
    this.keys = uniqueKeys(opts.keys).map((key) => ({ id: apiKeyId(key), key }));
    this.plan = checkedPlan(opts.plan ?? DEFAULT_PLAN);
    this.store = opts.store ?? (opts.db ? new DbKeyStore(opts.db) : new MemoryKeyStore());
    this.clock = opts.clock;
    this.logger = opts.logger;
  }

  /** Keys from TWELVEDATA_API_KEYS and TWELVEDATA_API_KEY_1..16, plan from TWELVEDATA_PLAN_PER_MINUTE/_PER_DAY. */
  static fromEnv(env: Env, opts: KeyPoolEnvOptions): KeyPool {
    return new KeyPool({ ...opts, keys: KeyPool.keysFromEnv(env), plan: KeyPool.planFromEnv(env) });
  }

  /** Deduplicated, in order: the comma-separated list first, then the numbered variables; blanks ignored. */
  static keysFromEnv(env: Env): string[] {
    const listed = (env['TWELVEDATA_API_KEYS'] ?? '').split(',');
    const numbered = Array.from({ length: MAX_NUMBERED_KEYS }, (_, i) => env[`TWELVEDATA_API_KEY_${i + 1}`] ?? '');
    return uniqueKeys([...listed, ...numbered]);
  }

  static planFromEnv(env: Env): CreditPlan {
    return {
      perMinute: positiveIntEnv(env, 'TWELVEDATA_PLAN_PER_MINUTE') ?? DEFAULT_PLAN.perMinute,
      perDay: positiveIntEnv(env, 'TWELVEDATA_PLAN_PER_DAY') ?? DEFAULT_PLAN.perDay,
    };
  }

  get size(): number {
    return this.keys.length;
  }

  /** The key ids, in configuration order. */
  ids(): string[] {
    return this.keys.map((k) => k.id);
  }

  /**
   * Takes `credits` from the next key (round-robin) that has them, or returns null at once when
   * none has. Throws when the pool has no key at all.
   */
  async acquire(credits = 1): Promise<KeyLease | null> {
    this.assertCredits(credits);
    await this.ensureRegistered();
    const now = this.clock.now();
    for (let i = 0; i < this.keys.length; i++) {
      const index = (this.cursor + i) % this.keys.length;
      const k = this.keys[index] as PoolKey;
      if ((this.blockedUntil.get(k.id) ?? 0) > now) continue;
      if (await this.store.take(k.id, credits, now)) {
        this.cursor = index + 1;
        return new KeyLease(k.id, k.key, credits);
      }
    }
    await this.refreshBlocks(now);
    return null;
  }

  /**
   * Like `acquire`, but waits on the clock until a key has budget (the next minute, or the next UTC
   * day when every usable key spent its day). Throws when every key is bad.
   */
  async take(credits = 1, opts: { signal?: AbortSignal } = {}): Promise<KeyLease> {
    let immediateRetries = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const lease = await this.acquire(credits);
      if (lease) return lease;
      const now = this.clock.now();
      const wakeAt = await this.nextChance(credits, now);
      if (wakeAt > now) {
        immediateRetries = 0;
        this.logger?.debug({ credits, waitMs: wakeAt - now }, 'twelvedata key pool: waiting for credits');
        await this.clock.sleep(wakeAt - now);
      } else if (++immediateRetries > MAX_IMMEDIATE_RETRIES) {
        immediateRetries = 0;
        await this.clock.sleep(CONTENDED_RETRY_MS);
      }
    }
  }

  /** The server rejected the key (401/403): no worker uses it until `reinstate`. */
  async markBad(who: KeyLease | string, reason: string): Promise<void> {
    const id = this.resolve(who);
    if (id === null) return;
    const text = redactKeys(reason, this.keys.map((k) => k.key));
    await this.ensureRegistered();
    await this.store.markBad(id, text, this.clock.now());
    this.blockedUntil.set(id, Number.POSITIVE_INFINITY);
    this.logger?.warn({ key: id, reason: text }, 'twelvedata key pool: key marked bad');
  }

  /** The server says the key is out of credits (429) for this minute or this UTC day. */
  async markExhausted(who: KeyLease | string, scope: CreditScope): Promise<void> {
    const id = this.resolve(who);
    if (id === null) return;
    const now = this.clock.now();
    await this.ensureRegistered();
    await this.store.markExhausted(id, scope, now);
    this.blockedUntil.set(id, scope === 'minute' ? nextMinute(now) : nextUtcDay(now));
    this.logger?.info({ key: id, scope }, 'twelvedata key pool: key out of credits');
  }

  /** Clears a bad mark (e.g. after a plan upgrade). */
  async reinstate(who: KeyLease | string): Promise<void> {
    const id = this.resolve(who);
    if (id === null) return;
    await this.ensureRegistered();
    await this.store.reinstate(id, this.clock.now());
    this.blockedUntil.delete(id);
  }

  /** Every key's state as of the clock's now: ids only, never keys. */
  async status(): Promise<KeyStatus[]> {
    await this.ensureRegistered();
    const now = this.clock.now();
    const states = await this.store.list(this.ids());
    return this.ids().flatMap((id) => {
      const state = states.find((s) => s.id === id);
      return state ? [keyStatus(state, now)] : [];
    });
  }

  /**
   * A key for the WebSocket stream, whose subscriptions cost WS credits, not API credits: the first
   * key in configuration order that is not bad and not in `skip`. Null when there is none.
   */
  async streamKey(skip: ReadonlySet<string> = new Set()): Promise<KeyLease | null> {
    await this.ensureRegistered();
    const states = await this.store.list(this.ids());
    const usable = this.keys.find((k) => !skip.has(k.id) && states.find((s) => s.id === k.id)?.status === 'ok');
    return usable ? new KeyLease(usable.id, usable.key, 0) : null;
  }

  /** The id of a key, a lease or an id of this pool; null (and a warning) for anything else. */
  private resolve(who: KeyLease | string): string | null {
    const text = typeof who === 'string' ? who : who.id;
    const found = this.keys.find((k) => k.id === text || k.key === text);
    if (!found) this.logger?.warn({ key: apiKeyId(text) }, 'twelvedata key pool: not a key of this pool');
    return found?.id ?? null;
  }

  private ensureRegistered(): Promise<void> {
    if (this.keys.length === 0) {
      throw new TasaError('bad_argument', 'No TwelveData API key is configured.', {
        input: 'TWELVEDATA_API_KEYS',
        hint: 'Set TWELVEDATA_API_KEYS (comma-separated) or TWELVEDATA_API_KEY_1..16.',
      });
    }
    const plans = this.keys.map((k) => ({ id: k.id, minuteLimit: this.plan.perMinute, dayLimit: this.plan.perDay }));
    this.registered ??= this.store.register(plans, this.clock.now()).catch((err: unknown) => {
      this.registered = null;
      throw err;
    });
    return this.registered;
  }

  private assertCredits(credits: number): void {
    if (!Number.isInteger(credits) || credits < 1 || credits > this.plan.perMinute) {
      throw new TasaError('bad_argument', `A request can take 1 to ${this.plan.perMinute} credits, not ${credits}.`);
    }
  }

  /** Re-reads every key and caches until when each surely has no single credit. */
  private async refreshBlocks(now: number): Promise<void> {
    for (const state of await this.store.list(this.ids())) {
      const at = availableAt(state, 1, now);
      if (at > now) this.blockedUntil.set(state.id, at);
      else this.blockedUntil.delete(state.id);
    }
  }

  /** The earliest clock time some key may have `credits`; throws when no key ever will. */
  private async nextChance(credits: number, now: number): Promise<number> {
    const states = await this.store.list(this.ids());
    const earliest = Math.min(...states.map((s) => availableAt(s, credits, now)));
    if (!Number.isFinite(earliest)) {
      throw new TasaError('bad_argument', `Every TwelveData API key (${states.length}) is marked bad.`, {
        input: 'TWELVEDATA_API_KEYS',
        hint: 'Check the keys and their plan, then reinstate them or configure new ones.',
      });
    }
    return earliest;
  }
}

/** When `state` can next give `credits` (now when it can at once, Infinity when bad). */
function availableAt(state: ApiKeyState, credits: number, now: number): number {
  if (state.status === 'bad' || credits > state.minuteLimit || credits > state.dayLimit) return Number.POSITIVE_INFINITY;
  const used = windowUsage(state, now);
  if (used.dayUsed + credits > state.dayLimit) return nextUtcDay(now);
  if (used.minuteUsed + credits > state.minuteLimit) return nextMinute(now);
  return now;
}

function keyStatus(state: ApiKeyState, now: number): KeyStatus {
  const used = windowUsage(state, now);
  const health: KeyHealth =
    state.status === 'bad' ? 'bad' : used.dayUsed >= state.dayLimit ? 'day_exhausted' : used.minuteUsed >= state.minuteLimit ? 'minute_exhausted' : 'ok';
  return {
    id: state.id,
    status: health,
    badReason: state.badReason,
    minuteUsed: used.minuteUsed,
    dayUsed: used.dayUsed,
    minuteLimit: state.minuteLimit,
    dayLimit: state.dayLimit,
    resetsAt: health === 'bad' ? null : health === 'day_exhausted' ? nextUtcDay(now) : nextMinute(now),
  };
}

function nextMinute(now: number): number {
  return minuteStartOf(now) + 60_000;
}

function nextUtcDay(now: number): number {
  return Date.parse(`${utcDateOf(now)}T00:00:00Z`) + DAY_MS;
}

function uniqueKeys(keys: readonly string[]): string[] {
  return [...new Set(keys.map((k) => k.trim()).filter((k) => k.length > 0))];
}

function checkedPlan(plan: CreditPlan): CreditPlan {
  for (const [name, value] of Object.entries(plan)) {
    if (!Number.isInteger(value) || (value as number) < 1) throw new TasaError('bad_argument', `Plan ${name} must be a positive integer, got ${String(value)}.`);
  }
  return plan;
}

function positiveIntEnv(env: Env, name: string): number | null {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return null;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new TasaError('bad_argument', `Invalid ${name}: expected a positive integer, got "${raw}".`, { input: name });
  }
  return value;
}
