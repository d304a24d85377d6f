/**
 * Where this process learns the ingest status: from itself when it runs ingestion (`tasa up`),
 * else from the snapshot the ingest process publishes on the bus (`tasa serve` beside
 * `tasa ingest`). Absent means unknown: nothing is made up.
 */
import { INGEST_STATUS_KEY, type IngestStatusSnapshot } from '../ingest/status-publisher.ts';
import type { SystemStatus } from '../system.ts';
import type { ServerDeps } from './deps.ts';

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

export async function readIngestStatus(deps: Pick<ServerDeps, 'localStatus' | 'bus' | 'clock'>): Promise<KnownIngestStatus> {
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
