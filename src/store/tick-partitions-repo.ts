/**
 * The month partitions of `ticks` (ticks_yYYYYmMM, see ticks-repo.ts) as retention sees them:
 * their rows and size, the checksum of their rows (`tasa_tick_checksum`, migration 014), a drop
 * that happens only while the rows are still the ones archived, and `tick_archives`, the record
 * of what was archived and dropped.
 */
import type { Tick } from '../domain/tick.ts';
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';
import { isoTime, msOrNull } from './rows.ts';
import { TICK_COLUMNS, tickFromRow, type TickRow } from './ticks-repo.ts';

const PARTITION_NAME = /^ticks_y(\d{4})m(0[1-9]|1[0-2])$/;

export interface TickPartition {
  name: string;
  /** UTC month [from, to), epoch ms. */
  from: number;
  to: number;
  rows: number;
  /** pg_total_relation_size: table, indexes and TOAST. */
  bytes: number;
}

/** Row count and `tasa_tick_checksum` of a partition's rows. */
export interface TickRowsDigest {
  rows: number;
  checksum: string;
}

/** The UTC month a partition name stands for, or null for a name that is not a month partition. */
export function tickPartitionRange(name: string): { from: number; to: number } | null {
  const match = PARTITION_NAME.exec(name);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]) - 1;
  return { from: Date.UTC(year, month, 1), to: Date.UTC(year, month + 1, 1) };
}

/** Every month partition of `ticks`, oldest first, with its exact row count and size. */
export async function listTickPartitions(db: Db): Promise<TickPartition[]> {
  const rows = await db.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'ticks'::regclass ORDER BY c.relname`,
  );
  const counts = new Map(
    (await db.query<{ name: string; n: number }>('SELECT tableoid::regclass::text AS name, count(*)::int8 AS n FROM ticks GROUP BY 1')).map((r) => [r.name, Number(r.n)]),
  );
  return rows.flatMap((r) => {
    const range = tickPartitionRange(r.name);
    return range === null ? [] : [{ name: r.name, ...range, rows: counts.get(r.name) ?? 0, bytes: Number(r.bytes) }];
  });
}

/** Rows waiting in the default partition (months without their own partition yet). */
export async function defaultPartitionRows(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM ticks_default');
  return Number(row?.n ?? 0);
}

/** First instants (epoch ms) of the UTC months that have rows in the default partition. */
export async function monthsInDefaultPartition(db: Db): Promise<number[]> {
  const rows = await db.query<{ m: Date }>(`SELECT DISTINCT date_trunc('month', time, 'UTC') AS m FROM ticks_default ORDER BY 1`);
  return rows.map((r) => r.m.getTime());
}

export async function tickPartitionDigest(db: Db, partition: string): Promise<TickRowsDigest> {
  const [row] = await db.query<{ rows: string; checksum: string }>('SELECT rows::text AS rows, checksum FROM tasa_tick_checksum($1)', [partition]);
  return { rows: Number(row?.rows ?? 0), checksum: row?.checksum ?? '0' };
}

/** Every row of a partition, by symbol, time and arrival. */
export async function tickPartitionRows(db: Db, partition: string): Promise<Tick[]> {
  checkPartitionName(partition);
  const rows = await db.query<TickRow>(`SELECT ${TICK_COLUMNS} FROM ${partition} ORDER BY symbol, time, received_at, price`);
  return rows.map(tickFromRow);
}

export type DropOutcome = { dropped: true; storeBytes: number } | { dropped: false; now: TickRowsDigest };

/**
 * Drops the partition only if its rows are still exactly `expected` (the archive's): the partition
 * is locked against writes, its digest computed again, and dropped in the same transaction. A tick
 * that arrived after the archive was written keeps the partition (the next run archives it again).
 */
export async function dropTickPartitionIfUnchanged(db: Db, partition: string, expected: TickRowsDigest): Promise<DropOutcome> {
  checkPartitionName(partition);
  return db.transaction(async (tx) => {
    await tx.exec(`LOCK TABLE ${partition} IN ACCESS EXCLUSIVE MODE`);
    const now = await tickPartitionDigest(tx, partition);
    if (now.rows !== expected.rows || now.checksum !== expected.checksum) return { dropped: false, now };
    const [size] = await tx.query<{ bytes: string }>('SELECT pg_total_relation_size($1::regclass)::text AS bytes', [partition]);
    await tx.exec(`DROP TABLE ${partition}`);
    return { dropped: true, storeBytes: Number(size?.bytes ?? 0) };
  });
}

function checkPartitionName(partition: string): void {
  // The name goes into SQL text: only our own month partitions' names are accepted.
  if (!PARTITION_NAME.test(partition)) throw new TasaError('bad_argument', `${partition} is not a tick month partition (ticks_yYYYYmMM).`, { input: partition });
}

// ---- tick_archives ----

export interface TickArchiveRecord {
  id: number;
  partition: string;
  from: number;
  to: number;
  rows: number;
  checksum: string;
  fileKey: string;
  manifestKey: string;
  bytes: number;
  storeBytes: number | null;
  archivedAt: number;
  droppedAt: number | null;
}

export type NewTickArchive = Omit<TickArchiveRecord, 'id' | 'storeBytes' | 'droppedAt'>;

/** Records a verified archive (the same partition and rows again: the existing record). Returns its id. */
export async function recordTickArchive(db: Db, a: NewTickArchive): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO tick_archives (partition, range_from, range_to, rows, checksum, file_key, manifest_key, bytes, archived_at)
     VALUES ($1, $2::timestamptz, $3::timestamptz, $4, $5, $6, $7, $8, $9::timestamptz)
     ON CONFLICT (partition, checksum) DO UPDATE SET archived_at = excluded.archived_at
     RETURNING id::int8 AS id`,
    [a.partition, isoTime(a.from), isoTime(a.to), a.rows, a.checksum, a.fileKey, a.manifestKey, a.bytes, isoTime(a.archivedAt)],
  );
  return Number(row?.id);
}

export async function markTickArchiveDropped(db: Db, id: number, at: number, storeBytes: number): Promise<void> {
  await db.query('UPDATE tick_archives SET dropped_at = $2::timestamptz, store_bytes = $3 WHERE id = $1', [id, isoTime(at), storeBytes]);
}

interface ArchiveRow {
  id: number;
  partition: string;
  range_from: Date;
  range_to: Date;
  rows: string;
  checksum: string;
  file_key: string;
  manifest_key: string;
  bytes: string;
  store_bytes: string | null;
  archived_at: Date;
  dropped_at: Date | null;
}

/** Every archive written, oldest month first. */
export async function tickArchives(db: Db): Promise<TickArchiveRecord[]> {
  const rows = await db.query<ArchiveRow>(
    `SELECT id::int8 AS id, partition, range_from, range_to, rows::text AS rows, checksum, file_key, manifest_key, bytes::text AS bytes,
            store_bytes::text AS store_bytes, archived_at, dropped_at
     FROM tick_archives ORDER BY range_from, id`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    partition: r.partition,
    from: r.range_from.getTime(),
    to: r.range_to.getTime(),
    rows: Number(r.rows),
    checksum: r.checksum,
    fileKey: r.file_key,
    manifestKey: r.manifest_key,
    bytes: Number(r.bytes),
    storeBytes: r.store_bytes === null ? null : Number(r.store_bytes),
    archivedAt: r.archived_at.getTime(),
    droppedAt: msOrNull(r.dropped_at),
  }));
}
