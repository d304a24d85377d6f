/**
 * Tick retention: each month partition of `ticks` entirely older than the limit
 * (TASA_TICK_RETENTION_DAYS) is archived to Parquet with its manifest, the archive is read back
 * and checked against the partition (row count and checksum), and only then is the partition
 * dropped, in a transaction that checks the rows are still the archived ones. A partition whose
 * archive does not verify is kept, and the run says why. Bars, sessions and the audit log are not
 * touched. Every run is audited (`retention.run`), skipped or failed ones too, and every partition
 * (`retention.partition`): a dropped one in the drop's own transaction, so no drop goes unaudited.
 *
 * Each run also creates the partitions of this month and the next ahead of the writer (which
 * still creates one on demand for any other month), and gives the months waiting in the default
 * partition their own, so their rows become eligible.
 */
import { hostname } from 'node:os';
import type { Clock } from '../../clock.ts';
import { errorMessage } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ArchiveStore } from '../../pipeline/archive/archive-store.ts';
import type { CodeVersion } from '../../pipeline/manifest.ts';
import { appendAudit } from '../../store/audit-repo.ts';
import type { Db } from '../../store/db.ts';
import { acquireLease, leaseHolder, releaseLease } from '../../store/leases-repo.ts';
import { isoTime } from '../../store/rows.ts';
import {
  defaultPartitionRows,
  dropTickPartitionIfUnchanged,
  listTickPartitions,
  markTickArchiveDropped,
  monthsInDefaultPartition,
  recordTickArchive,
  tickArchives,
  tickPartitionDigest,
  tickPartitionRows,
  type TickArchiveRecord,
  type TickPartition,
} from '../../store/tick-partitions-repo.ts';
import { ensureTickPartitions } from '../../store/ticks-repo.ts';
import type { JobHandler } from '../boss.ts';
import { partitionsDue, retentionCutoff } from './retention-policy.ts';
import { verifyTickArchive, writeTickArchive } from './tick-archive.ts';

/** One run at a time across processes; a run that died frees it after this long. */
const LEASE_NAME = 'retention:ticks';
const LEASE_TTL_MS = 6 * 60 * 60 * 1000;
/** Months created ahead of the writer: this one and the next. */
const MONTHS_AHEAD = 2;

export interface RetentionOptions {
  db: Db;
  archive: ArchiveStore;
  clock: Clock;
  retentionDays: number;
  /** Who asked: `cli`, `job:retention`, a token id. */
  actor: string;
  codeVersion?: CodeVersion | null;
  logger?: Logger;
}

export type PartitionOutcome =
  /** Archived, verified and dropped. */
  | 'dropped'
  /** The archive did not read back as the partition's rows: kept. */
  | 'unverified'
  /** Ticks arrived after the archive was written: kept, archived again next run. */
  | 'changed'
  /** Archiving failed (the archive store, the database): kept. */
  | 'failed';

export interface PartitionResult {
  partition: string;
  outcome: PartitionOutcome;
  rows: number;
  checksum: string | null;
  fileKey: string | null;
  manifestKey: string | null;
  archiveBytes: number | null;
  /** What the partition occupied in the store, freed when dropped. */
  storeBytes: number | null;
  problems: string[];
}

export interface RetentionReport {
  ranAt: number;
  retentionDays: number;
  /** Ticks before this instant were older than the limit. */
  cutoff: number;
  /** Another run held the lease: nothing was done. */
  skipped: string | null;
  partitions: PartitionResult[];
  rowsArchived: number;
  storeBytesFreed: number;
}

export async function runRetention(o: RetentionOptions): Promise<RetentionReport> {
  const ranAt = o.clock.now();
  const cutoff = retentionCutoff(ranAt, o.retentionDays);
  const holder = `${hostname()}:${process.pid}:${o.actor}`;
  const report: RetentionReport = { ranAt, retentionDays: o.retentionDays, cutoff, skipped: null, partitions: [], rowsArchived: 0, storeBytesFreed: 0 };
  if ((await acquireLease(o.db, { name: LEASE_NAME, holder, now: ranAt, ttlMs: LEASE_TTL_MS })) === null) {
    report.skipped = `another retention run is in progress (${(await leaseHolder(o.db, LEASE_NAME, ranAt)) ?? 'unknown holder'})`;
    await auditRun(o, report, null);
    return report;
  }
  try {
    await retireDuePartitions(o, report);
  } catch (err) {
    // The run's own error is the one worth reporting, even when the audit cannot be written either.
    await auditRun(o, report, errorMessage(err)).catch(() => undefined);
    throw err;
  } finally {
    await releaseLease(o.db, LEASE_NAME, holder);
  }
  await auditRun(o, report, null);
  o.logger?.info(runDetails(report), 'retention: run finished');
  return report;
}

async function retireDuePartitions(o: RetentionOptions, report: RetentionReport): Promise<void> {
  await preparePartitions(o.db, report.ranAt);
  for (const partition of partitionsDue(await listTickPartitions(o.db), report.cutoff)) {
    const result = await retirePartition(o, partition);
    report.partitions.push(result);
    // A dropped partition was audited in its drop's transaction.
    if (result.outcome !== 'dropped') await auditPartition(o.db, o, result);
    else {
      report.rowsArchived += result.rows;
      report.storeBytesFreed += result.storeBytes ?? 0;
    }
  }
}

async function auditRun(o: RetentionOptions, report: RetentionReport, error: string | null): Promise<void> {
  const details = error === null ? runDetails(report) : { ...runDetails(report), error };
  await appendAudit(o.db, [{ actor: o.actor, action: 'retention.run', entity: 'ticks', at: report.ranAt, details }]);
}

async function preparePartitions(db: Db, now: number): Promise<void> {
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  await ensureTickPartitions(db, monthStart, Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + MONTHS_AHEAD, 1));
  for (const month of await monthsInDefaultPartition(db)) await ensureTickPartitions(db, month, month + 1);
}

/** Archive, verify, drop: each step only after the one before succeeded. */
async function retirePartition(o: RetentionOptions, p: TickPartition): Promise<PartitionResult> {
  const result: PartitionResult = { partition: p.name, outcome: 'failed', rows: p.rows, checksum: null, fileKey: null, manifestKey: null, archiveBytes: null, storeBytes: null, problems: [] };
  try {
    const digest = await tickPartitionDigest(o.db, p.name);
    const ticks = await tickPartitionRows(o.db, p.name);
    const written = await writeTickArchive(o.archive, { partition: p.name, from: p.from, to: p.to, ticks, digest, codeVersion: o.codeVersion ?? null, createdAt: o.clock.now() });
    Object.assign(result, { rows: digest.rows, checksum: digest.checksum, fileKey: written.fileKey, manifestKey: written.manifestKey, archiveBytes: written.bytes });
    result.problems = await verifyTickArchive(o.archive, written.manifestKey, digest);
    if (result.problems.length > 0) {
      result.outcome = 'unverified';
      return result;
    }
    const id = await recordTickArchive(o.db, { partition: p.name, from: p.from, to: p.to, rows: digest.rows, checksum: digest.checksum, fileKey: written.fileKey, manifestKey: written.manifestKey, bytes: written.bytes, archivedAt: o.clock.now() });
    const drop = await o.db.transaction(async (tx) => {
      const dropped = await dropTickPartitionIfUnchanged(tx, p.name, digest);
      if (!dropped.dropped) return dropped;
      await markTickArchiveDropped(tx, id, o.clock.now(), dropped.storeBytes);
      await auditPartition(tx, o, { ...result, outcome: 'dropped', storeBytes: dropped.storeBytes });
      return dropped;
    });
    if (!drop.dropped) {
      result.outcome = 'changed';
      result.problems = [`The partition changed after it was archived (${digest.rows} -> ${drop.now.rows} rows); kept, archived again next run.`];
      return result;
    }
    result.outcome = 'dropped';
    result.storeBytes = drop.storeBytes;
  } catch (err) {
    result.outcome = 'failed';
    result.problems.push(errorMessage(err));
  }
  if (result.outcome !== 'dropped') o.logger?.warn({ partition: p.name, outcome: result.outcome, problems: result.problems }, 'retention: partition kept');
  return result;
}

async function auditPartition(db: Db, o: RetentionOptions, r: PartitionResult): Promise<void> {
  await appendAudit(db, [{ actor: o.actor, action: 'retention.partition', entity: `ticks:${r.partition}`, at: o.clock.now(), details: { ...r } }]);
}

function runDetails(r: RetentionReport): Record<string, unknown> {
  const count = (outcome: PartitionOutcome) => r.partitions.filter((p) => p.outcome === outcome).length;
  return {
    retentionDays: r.retentionDays,
    cutoff: isoTime(r.cutoff),
    skipped: r.skipped,
    due: r.partitions.length,
    dropped: count('dropped'),
    unverified: count('unverified'),
    changed: count('changed'),
    failed: count('failed'),
    rowsArchived: r.rowsArchived,
    storeBytesFreed: r.storeBytesFreed,
  };
}

// ---- status ----

export interface RetentionStatus {
  now: number;
  retentionDays: number;
  cutoff: number;
  /** Partitions in the store, each marked when the next run takes it. */
  partitions: Array<TickPartition & { due: boolean }>;
  /** Rows in the default partition (their months get a partition at the next run). */
  defaultRows: number;
  archives: TickArchiveRecord[];
}

export async function retentionStatus(o: Pick<RetentionOptions, 'db' | 'clock' | 'retentionDays'>): Promise<RetentionStatus> {
  const now = o.clock.now();
  const cutoff = retentionCutoff(now, o.retentionDays);
  const partitions = await listTickPartitions(o.db);
  const due = new Set(partitionsDue(partitions, cutoff).map((p) => p.name));
  return {
    now,
    retentionDays: o.retentionDays,
    cutoff,
    partitions: partitions.map((p) => ({ ...p, due: due.has(p.name) })),
    defaultRows: await defaultPartitionRows(o.db),
    archives: await tickArchives(o.db),
  };
}

/** The scheduled `retention` job (jobs/boss.ts): one run with the configured limit. */
export function retentionJobHandler(o: Omit<RetentionOptions, 'actor'>): JobHandler {
  return async (ctx) => {
    const report = await runRetention({ ...o, actor: `job:${ctx.queue}` });
    const failed = report.partitions.filter((p) => p.outcome === 'failed' || p.outcome === 'unverified');
    // The job fails (and the failure is counted) when a partition could not be retired; the others were.
    if (failed.length > 0) throw new Error(`retention kept ${failed.length} partition(s): ${failed.map((p) => `${p.partition} ${p.outcome}: ${p.problems[0] ?? ''}`).join('; ')}`);
    return runDetails(report);
  };
}
