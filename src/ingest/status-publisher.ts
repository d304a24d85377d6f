/**
 * Publishes the ingest process's status to the bus cache, where an API process elsewhere
 * (`tasa serve`) reads it for `/status` and `/health`, and the alert engine for the feed state,
 * all through `readIngestStatus`. The value expires after three missed periods, so a dead ingest
 * process shows as "no ingest process has reported", not as stale data.
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

export type IngestStatusSource = 'local' | 'ingest_process' | 'none';

export interface KnownIngestStatus {
  source: IngestStatusSource;
  /** Epoch ms of the snapshot (now for a local status); null when unknown. */
  publishedAt: number | null;
  status: SystemStatus | null;
  /** One sentence saying where the status comes from, or why it is unknown. */
  note: string;
}

export const NO_INGEST_REPORT = 'unknown (no ingest process has reported)';

/**
 * Where a process learns the ingest status: from itself when it runs ingestion (`tasa up`), else
 * from the published snapshot (`tasa serve` beside `tasa ingest`). Absent means unknown.
 */
export async function readIngestStatus(deps: { localStatus: (() => SystemStatus) | null; bus: Pick<Bus, 'getLatest'>; clock: Pick<Clock, 'now'> }): Promise<KnownIngestStatus> {
  if (deps.localStatus !== null) {
    return { source: 'local', publishedAt: deps.clock.now(), status: deps.localStatus(), note: 'ingestion runs in this process' };
  }
  const snapshot = await deps.bus.getLatest<IngestStatusSnapshot>(INGEST_STATUS_KEY);
  if (snapshot === null) return { source: 'none', publishedAt: null, status: null, note: NO_INGEST_REPORT };
  return {
    source: 'ingest_process',
    publishedAt: Date.parse(snapshot.publishedAt),
    status: snapshot.status,
    note: `snapshot published by the ingest process at ${snapshot.publishedAt}`,
  };
}
