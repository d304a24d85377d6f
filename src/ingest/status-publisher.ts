/**
 * Publishes the ingest process's status to the bus cache, where an API process elsewhere
 * (`tasa serve`) reads it for `/status` and `/health`, and the alert engine for the feed state,
 * all through `readIngestStatus`. The values expire after three missed periods, so a dead ingest
 * process shows as "no ingest process has reported", not as stale data.
 *
 * With an active and a standby ingest process, both publish: each under its own key
 * (`status:ingest:process:<holder>`, listed in `status:ingest:processes`), and only a process
 * that holds ingest leases also under `status:ingest`. A reader therefore sees the lease
 * holder's status there, never a standby's, and can still list the standbys.
 */
import type { Bus } from '../bus/index.ts';
import type { CancelTimer, Clock } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { IngestStatus } from './ingest-service.ts';

/** The bus cache key of the lease holder's snapshot. */
export const INGEST_STATUS_KEY = 'status:ingest';
/** The directory of publishing processes: holder -> last publish (epoch ms, publisher's clock). */
const PROCESSES_KEY = 'status:ingest:processes';

/** The bus cache key of one process's snapshot. */
function processStatusKey(holder: string): string {
  return `status:ingest:process:${holder}`;
}

/** What a process reports of itself: its store, bus, upstream and (in an ingest process) ingestion. */
export interface SystemStatus {
  now: string;
  store: string;
  bus: string;
  upstream: string;
  ingest: IngestStatus | null;
}

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
      await publishSnapshot(o.bus, snapshot, o.clock.now());
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

/** Under its own key, in the directory, and under the main key only while it holds leases. */
async function publishSnapshot(bus: Bus, snapshot: IngestStatusSnapshot, now: number): Promise<void> {
  const ttlMs = 3 * snapshot.everyMs;
  const ingest = snapshot.status.ingest;
  const holder = ingest?.holder;
  if (holder !== undefined) {
    await bus.setLatest(processStatusKey(holder), snapshot, ttlMs);
    await registerProcess(bus, holder, now, ttlMs);
  }
  // A process without its holder name (older status) can only publish the main key.
  if (holder === undefined || (ingest?.leases.length ?? 0) > 0) await bus.setLatest(INGEST_STATUS_KEY, snapshot, ttlMs);
}

/**
 * Read-modify-write of the directory: two processes writing at once may put back an older time
 * of the other, never remove it (each keeps itself listed); entries unseen for a TTL drop out.
 */
async function registerProcess(bus: Bus, holder: string, now: number, ttlMs: number): Promise<void> {
  const seen = (await bus.getLatest<Record<string, number>>(PROCESSES_KEY)) ?? {};
  const fresh = Object.fromEntries(Object.entries(seen).filter(([h, at]) => h !== holder && now - at <= ttlMs));
  await bus.setLatest(PROCESSES_KEY, { ...fresh, [holder]: now }, ttlMs);
}

export type IngestStatusSource = 'local' | 'ingest_process' | 'none';

/** Another ingest process that publishes its status (a standby, when it holds no lease). */
export interface OtherIngestProcess {
  holder: string;
  state: string | null;
  leases: string[];
  publishedAt: number;
}

export interface KnownIngestStatus {
  source: IngestStatusSource;
  /** Epoch ms of the snapshot (now for a local status); null when unknown. */
  publishedAt: number | null;
  status: SystemStatus | null;
  /** One sentence saying where the status comes from, or why it is unknown. */
  note: string;
  /** The other processes publishing an ingest status (standbys); empty for a local status. */
  others?: OtherIngestProcess[];
}

export const NO_INGEST_REPORT = 'unknown (no ingest process has reported)';

/**
 * Where a process learns the ingest status: from itself when it runs ingestion (`tasa up`), else
 * from the published snapshot (`tasa serve` beside `tasa ingest`). Absent means unknown.
 */
export async function readIngestStatus(deps: {
  localStatus: (() => SystemStatus) | null;
  bus: Pick<Bus, 'getLatest'>;
  clock: Pick<Clock, 'now'>;
  /** The holder of the ingest lease per the lease table, when the caller read it. */
  leaseHolder?: string | null;
}): Promise<KnownIngestStatus> {
  if (deps.localStatus !== null) {
    return { source: 'local', publishedAt: deps.clock.now(), status: deps.localStatus(), note: 'ingestion runs in this process' };
  }
  const snapshot = await leaseHolderSnapshot(deps.bus, deps.leaseHolder ?? null);
  const others = await otherProcesses(deps.bus, snapshot?.status.ingest?.holder ?? null);
  if (snapshot === null) return { source: 'none', publishedAt: null, status: null, note: NO_INGEST_REPORT, others };
  return {
    source: 'ingest_process',
    publishedAt: Date.parse(snapshot.publishedAt),
    status: snapshot.status,
    note: `snapshot published by the ingest process at ${snapshot.publishedAt}`,
    others,
  };
}

/**
 * The lease holder's snapshot: when the caller knows the holder from the lease table, that
 * process's own snapshot (the main key may still carry an old holder that has not yet noticed it
 * lost the lease); else the main key, which only lease holders write.
 */
async function leaseHolderSnapshot(bus: Pick<Bus, 'getLatest'>, holder: string | null): Promise<IngestStatusSnapshot | null> {
  const own = holder === null ? null : await bus.getLatest<IngestStatusSnapshot>(processStatusKey(holder));
  return own ?? bus.getLatest<IngestStatusSnapshot>(INGEST_STATUS_KEY);
}

async function otherProcesses(bus: Pick<Bus, 'getLatest'>, active: string | null): Promise<OtherIngestProcess[]> {
  const seen = (await bus.getLatest<Record<string, number>>(PROCESSES_KEY)) ?? {};
  const out: OtherIngestProcess[] = [];
  for (const holder of Object.keys(seen).sort()) {
    if (holder === active) continue;
    const snapshot = await bus.getLatest<IngestStatusSnapshot>(processStatusKey(holder));
    const ingest = snapshot?.status.ingest;
    if (snapshot && ingest) out.push({ holder, state: ingest.state, leases: ingest.leases, publishedAt: Date.parse(snapshot.publishedAt) });
  }
  return out;
}
