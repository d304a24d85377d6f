/**
 * The Redis connections of one bus and how they fail. A bus opens up to three:
 * - `main`: every plain command. No offline queue and no retries per command, so that while
 *   Redis is down a command fails at once with a clear error (a publish then waits in the bus's
 *   own bounded, ordered buffer: publish-queue.ts, rather than in ioredis's unbounded one).
 * - `reader`: the one blocking XREAD loop of the process. Its commands wait for the reconnection
 *   (ioredis re-sends the pending XREAD with the same cursor, so nothing is skipped or repeated).
 * - `subscriber`: pub/sub for broadcasts; ioredis re-subscribes after a reconnection.
 * All reconnect by themselves; an outage is logged once when it starts and once when it ends.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Clock } from '../../clock.ts';
import { redactUrl } from '../../config.ts';
import { errorMessage, TasaError } from '../../errors.ts';
import type { Logger } from '../../log.ts';

export type ConnectionRole = 'main' | 'reader' | 'subscriber';

/** XREAD BLOCK time; also how often an idle reader loops. */
export const READ_BLOCK_MS = 5_000;

const RETRY_STEP_MS = 100;
const RETRY_MAX_MS = 2_000;

const COMMON_OPTIONS: RedisOptions = {
  lazyConnect: true,
  // RESP2: raw replies (XREAD through call()) keep the documented array shapes.
  protocol: 2,
  connectTimeout: 5_000,
  retryStrategy: (times) => Math.min(times * RETRY_STEP_MS, RETRY_MAX_MS),
};

const ROLE_OPTIONS: Record<ConnectionRole, RedisOptions> = {
  main: { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 5_000, enableAutoPipelining: true },
  // The client-side deadline is a safety net against a silently dead socket during XREAD BLOCK.
  reader: { maxRetriesPerRequest: null, blockingTimeout: 2 * READ_BLOCK_MS },
  subscriber: { maxRetriesPerRequest: null },
};

/** Logs the start and the end of an outage once, however many connections and attempts fail. */
export class OutageLog {
  private readonly down = new Set<ConnectionRole>();
  private downSince = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    readonly target: string,
  ) {}

  lost(role: ConnectionRole, reason: string): void {
    if (this.down.has(role)) return;
    this.down.add(role);
    if (this.down.size > 1) return;
    this.downSince = this.clock.now();
    this.logger.warn({ redis: this.target, connection: role, reason }, `Redis at ${this.target} is unreachable: ${reason}; reconnecting in the background`);
  }

  restored(role: ConnectionRole): void {
    if (!this.down.delete(role) || this.down.size > 0) return;
    const downMs = this.clock.now() - this.downSince;
    this.logger.info({ redis: this.target, downMs }, `Redis at ${this.target} is reachable again`);
  }
}

export function openConnection(url: string, role: ConnectionRole): Redis {
  return new Redis(url, { ...COMMON_OPTIONS, ...ROLE_OPTIONS[role], connectionName: `tasa-bus-${role}` });
}

/** Reports the connection's drops and recoveries to the outage log (not while the bus closes). */
export function watchConnection(redis: Redis, role: ConnectionRole, outages: OutageLog, isClosing: () => boolean): void {
  redis.on('error', (err: Error) => {
    if (!isClosing()) outages.lost(role, err.message);
  });
  redis.on('close', () => {
    if (!isClosing()) outages.lost(role, 'connection closed');
  });
  redis.on('ready', () => outages.restored(role));
}

/** Connects once, without retrying: a wrong URL or a dead server is reported now, clearly. */
export async function connectOnce(redis: Redis, target: string): Promise<void> {
  let firstError: Error | undefined;
  const remember = (err: Error) => (firstError ??= err);
  const retryStrategy = redis.options.retryStrategy;
  redis.options.retryStrategy = () => null;
  redis.on('error', remember);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw unreachable(target, firstError ?? err);
  } finally {
    redis.off('error', remember);
    redis.options.retryStrategy = retryStrategy;
  }
}

export function unreachable(target: string, err: unknown): TasaError {
  return new TasaError('database_unreachable', `Redis at ${target} is unreachable: ${errorMessage(err)}.`, {
    input: target,
    hint: 'Check REDIS_URL and that Redis is running (without REDIS_URL the in-process bus is used).',
    cause: err,
  });
}

/**
 * A failed command as a TasaError: Redis refusing it is a bug; anything else means Redis is out
 * of reach, said in words rather than in ioredis's ("Stream isn't writeable...") when the
 * connection is known to be down.
 */
export function commandFailure(target: string, what: string, err: unknown, status: string): TasaError {
  if (err instanceof TasaError) return err;
  if (err instanceof Error && err.name === 'ReplyError') {
    return new TasaError('internal', `Redis at ${target} rejected ${what}: ${err.message}.`, { input: target, cause: err });
  }
  if (status === 'ready') return unreachable(target, err);
  return new TasaError('database_unreachable', `Redis at ${target} is unreachable: the connection is down (${status}).`, {
    input: target,
    hint: 'The bus reconnects by itself; spool and retry meanwhile.',
    cause: err,
  });
}

export { redactUrl };
