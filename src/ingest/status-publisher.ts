/**
 * Publishes the ingest process's status to the bus cache, where an API process elsewhere
 * (`tasa serve`) reads it for `/status` and `/health`. The value expires after three missed
 * periods, so a dead ingest process shows as "no ingest process has reported", not as stale data.
 */
import type { Bus } from '../bus/index.ts';
import type { CancelTimer, Clock } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SystemStatus } from '../system.ts';

/** The bus cache key of the snapshot. */
export const INGEST_STATUS_KEY = 'status:ingest';

export interface IngestStatusSnapshot {
  /** When it was written, ISO 8601 UTC (publisher's clock). */
  publishedAt: string;
  /** The publishing period: a reader can tell how old is too old. */
  everyMs: number;
  status: SystemStatus;
}

export interface StatusPublisherOptions {
  bus: Bus;
  clock: Clock;
  status: () => SystemStatus;
  everyMs?: number;
  logger?: Logger;
}

/** Writes the snapshot now and every `everyMs` (on the clock); the returned function stops it. */
export function startStatusPublisher(o: StatusPublisherOptions): () => Promise<void> {
  const everyMs = o.everyMs ?? 5000;
  let timer: CancelTimer | null = null;
  let stopped = false;
  let failing = false;
  let inFlight: Promise<void> = Promise.resolve();

  const publish = async (): Promise<void> => {
    try {
      const snapshot: IngestStatusSnapshot = { publishedAt: new Date(o.clock.now()).toISOString(), everyMs, status: o.status() };
      await o.bus.setLatest(INGEST_STATUS_KEY, snapshot, 3 * everyMs);
      if (failing) o.logger?.info('status publishing recovered');
      failing = false;
    } catch (err) {
      // Logged once per outage: the bus may be down for a while and ingestion goes on regardless.
      if (!failing) o.logger?.warn({ err: errorMessage(err) }, 'could not publish the ingest status');
      failing = true;
    }
  };
  const tick = (): void => {
    inFlight = publish().finally(() => {
      if (!stopped) timer = o.clock.setTimer(everyMs, tick);
    });
  };
  tick();
  return async () => {
    stopped = true;
    timer?.();
    timer = null;
    await inFlight;
  };
}
