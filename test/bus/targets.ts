/**
 * The bus implementations the contract suite runs against:
 * - `memory`: always.
 * - `redis`: when TEST_REDIS_URL is set. Each scope gets its own key prefix under a random
 *   per-run prefix, whose keys are deleted by cleanupRedis(). In CI an unset TEST_REDIS_URL
 *   fails the Redis suites instead of skipping them.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { createMemoryBus, createRedisBus, type Bus } from '../../src/bus/index.ts';
import { anyData, sleep, START, type AnyDataBus } from './helpers.ts';

export interface ScopeBusOptions {
  /** Events kept per symbol: the memory ring size, or the Redis stream bound. */
  window?: number;
  logger?: Logger;
}

/** One test's world: its clock and buses that share the same streams. */
export interface BusScope {
  clock: ManualClock;
  /** Memory: one bus per scope. Redis: every call opens another instance on the same keys (another "process"). */
  open(opts?: ScopeBusOptions): Promise<AnyDataBus>;
  /** Lets `ms` pass for cache TTLs: the manual clock for memory, real time on Redis (whose TTLs run on its own clock). */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface BusTarget {
  name: 'memory' | 'redis';
  scope(): Promise<BusScope>;
}

export const memoryTarget: BusTarget = {
  name: 'memory',
  scope: () => {
    const clock = new ManualClock(START);
    const buses: Bus[] = [];
    return Promise.resolve({
      clock,
      open: (opts: ScopeBusOptions = {}) => {
        const bus = createMemoryBus({ clock, replayWindow: opts.window, logger: opts.logger });
        buses.push(bus);
        return Promise.resolve(anyData(bus));
      },
      elapse: (ms: number) => clock.advance(ms),
      close: async () => {
        await Promise.all(buses.map((b) => b.close()));
      },
    });
  },
};

const RUN_PREFIX = `tasa-test:${randomBytes(4).toString('hex')}:`;
let scopes = 0;
let skipNoticePrinted = false;

/** The Redis URL of the tests; null when they are skipped. Throws in CI when it is missing. */
export function redisTestUrl(): string | null {
  const url = process.env['TEST_REDIS_URL'];
  if (url !== undefined && url !== '') return url;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') return null;
  if (!skipNoticePrinted) {
    skipNoticePrinted = true;
    process.stderr.write('skipped: Redis suites (set TEST_REDIS_URL)\n');
  }
  return null;
}

export const isCi = (): boolean => process.env['CI'] !== undefined && process.env['CI'] !== '';

/** The Redis target, or null when its suites are skipped (never null in CI: then every scope fails). */
export function redisTarget(): BusTarget | null {
  const url = redisTestUrl();
  if (url === null && !isCi()) return null;
  return {
    name: 'redis',
    scope: () => (url === null ? Promise.reject(new Error('CI is set but TEST_REDIS_URL is not: the Redis suites must run in CI, not be skipped.')) : Promise.resolve(redisScope(url))),
  };
}

export function newKeyPrefix(): string {
  return `${RUN_PREFIX}${++scopes}:`;
}

export function redisScope(url: string, keyPrefix = newKeyPrefix()): BusScope & { keyPrefix: string; url: string } {
  const clock = new ManualClock(START);
  const buses: Bus[] = [];
  return {
    clock,
    keyPrefix,
    url,
    open: async (opts: ScopeBusOptions = {}) => {
      const bus = await createRedisBus({ url, clock, keyPrefix, maxLen: opts.window, logger: opts.logger, checkMessages: false });
      buses.push(bus);
      return anyData(bus);
    },
    elapse: async (ms: number) => {
      await sleep(ms);
      await clock.advance(ms);
    },
    close: async () => {
      await Promise.all(buses.map((b) => b.close()));
    },
  };
}

/** Deletes every key this test run created. */
export async function cleanupRedis(): Promise<void> {
  const url = process.env['TEST_REDIS_URL'];
  if (url === undefined || url === '') return;
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${RUN_PREFIX}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A plain client on the test Redis, for looking at keys directly. */
export function rawRedis(url: string): Redis {
  return new Redis(url);
}
