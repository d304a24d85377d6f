/**
 * Named leases with an expiry, for "one writer at a time", with a fencing token: the lease's
 * `epoch` rises each time the lease passes to another holder, so a write can prove (in its own
 * transaction, see `holdsFence`) that its writer still holds the lease it had. Times come from the
 * caller's clock (not the database's now()) so that simulated clocks behave like real ones.
 */
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';

/** The lease a symbol's ingest writer holds. */
export function ingestLeaseName(symbol: string): string {
  return `ingest:${symbol}`;
}

export interface LeaseRequest {
  name: string;
  holder: string;
  now: number;
  ttlMs: number;
}

/** What a fenced writer proves with each write: the lease it holds and the epoch it got it under. */
export interface LeaseFence {
  name: string;
  holder: string;
  epoch: number;
}

export interface LeaseRow {
  name: string;
  holder: string;
  epoch: number;
  acquiredAt: number;
  expiresAt: number;
}

/**
 * Takes the lease if it is free, expired, or already ours (renewing it). Returns the epoch we hold
 * it under, or null when another holder has it. The epoch is kept while the same holder renews or
 * takes back its own expired lease (nobody wrote in between) and raised when the holder changes.
 */
export async function acquireLease(db: Db, req: LeaseRequest): Promise<number | null> {
  const rows = await db.query<{ epoch: number }>(
    `INSERT INTO ingest_leases AS l (name, holder, acquired_at, expires_at, epoch)
     VALUES ($1, $2, $3::timestamptz, $4::timestamptz, 1)
     ON CONFLICT (name) DO UPDATE
       SET holder = excluded.holder,
           acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END,
           expires_at = excluded.expires_at,
           epoch = CASE WHEN l.holder = excluded.holder THEN l.epoch ELSE l.epoch + 1 END
       WHERE l.holder = excluded.holder OR l.expires_at <= excluded.acquired_at
     RETURNING epoch::int8 AS epoch`,
    [req.name, req.holder, new Date(req.now).toISOString(), new Date(req.now + req.ttlMs).toISOString()],
  );
  return rows[0] ? Number(rows[0].epoch) : null;
}

/**
 * Gives the lease up at once so that another process need not wait for it to expire. The row
 * stays (expired), so that the epoch keeps counting up across holders.
 */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.query('UPDATE ingest_leases SET expires_at = acquired_at WHERE name = $1 AND holder = $2', [name, holder]);
}

export async function leaseHolder(db: Db, name: string, now: number): Promise<string | null> {
  const [row] = await db.query<{ holder: string }>('SELECT holder FROM ingest_leases WHERE name = $1 AND expires_at > $2::timestamptz', [
    name,
    new Date(now).toISOString(),
  ]);
  return row?.holder ?? null;
}

/** The lease rows of these names (expired ones too: the caller compares `expiresAt` with its clock). */
export async function leaseRows(db: Db, names: readonly string[]): Promise<LeaseRow[]> {
  const rows = await db.query<{ name: string; holder: string; epoch: number; acquired_at: Date; expires_at: Date }>(
    'SELECT name, holder, epoch::int8 AS epoch, acquired_at, expires_at FROM ingest_leases WHERE name = ANY($1::text[]) ORDER BY name',
    [names],
  );
  return rows.map((r) => ({ name: r.name, holder: r.holder, epoch: Number(r.epoch), acquiredAt: r.acquired_at.getTime(), expiresAt: r.expires_at.getTime() }));
}

/**
 * The fence of a write: inside the writing transaction, locks the lease row and says whether it
 * still carries this holder and epoch. The lock makes a takeover wait until the write commits,
 * so no write of an old holder lands after the new holder got the lease.
 */
export async function holdsFence(tx: Db, name: string, holder: string, epoch: number): Promise<boolean> {
  const [row] = await tx.query<{ epoch: number }>('SELECT epoch::int8 AS epoch FROM ingest_leases WHERE name = $1 AND holder = $2 FOR UPDATE', [name, holder]);
  return row !== undefined && Number(row.epoch) === epoch;
}

/**
 * `holdsFence` inside a write that is one statement: the CTEs `fence_lease` (the lease row, locked)
 * and `fence`, which has one row when the lease still carries this holder and epoch, or when the
 * write is unfenced (its three parameters, from `fenceParams`, null). The statement's writes select
 * FROM fence; it returns `EXISTS (SELECT 1 FROM fence)` so the caller can tell a refusal apart.
 */
export function fenceCte(first: number): string {
  const [name, holder, epoch] = [`$${first}`, `$${first + 1}`, `$${first + 2}`];
  return `fence_lease AS (SELECT epoch FROM ingest_leases WHERE name = ${name}::text AND holder = ${holder}::text FOR UPDATE),
  fence AS (SELECT 1 AS ok WHERE ${name}::text IS NULL OR (SELECT epoch FROM fence_lease) = ${epoch}::int8)`;
}

/** The three parameters of `fenceCte`: name, holder, epoch (all null: unfenced). */
export function fenceParams(fence: LeaseFence | null): [string | null, string | null, number | null] {
  return fence === null ? [null, null, null] : [fence.name, fence.holder, fence.epoch];
}

/** The error of a write refused by its fence: another process holds the lease now. */
export function fencedOut(fence: LeaseFence): TasaError {
  return new TasaError('conflict', `This process no longer holds the ${fence.name} lease (it held epoch ${fence.epoch}): the write was refused.`, {
    input: fence.holder,
    hint: 'Another process took the lease over; it does the writing now.',
  });
}
