/**
 * Named leases with an expiry, for "one writer at a time". Times come from the caller's clock
 * (not the database's now()) so that simulated clocks behave like real ones.
 */
import type { Db } from './db.ts';

export interface LeaseRequest {
  name: string;
  holder: string;
  now: number;
  ttlMs: number;
}

/** Takes the lease if it is free, expired, or already ours (renewing it). True when we hold it. */
export async function acquireLease(db: Db, req: LeaseRequest): Promise<boolean> {
  const rows = await db.query<{ holder: string }>(
    `INSERT INTO ingest_leases AS l (name, holder, acquired_at, expires_at)
     VALUES ($1, $2, $3::timestamptz, $4::timestamptz)
     ON CONFLICT (name) DO UPDATE
       SET holder = excluded.holder,
           acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END,
           expires_at = excluded.expires_at
       WHERE l.holder = excluded.holder OR l.expires_at <= excluded.acquired_at
     RETURNING holder`,
    [req.name, req.holder, new Date(req.now).toISOString(), new Date(req.now + req.ttlMs).toISOString()],
  );
  return rows.length === 1;
}

/** Gives the lease up at once so that another process need not wait for it to expire. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.query('DELETE FROM ingest_leases WHERE name = $1 AND holder = $2', [name, holder]);
}

export async function leaseHolder(db: Db, name: string, now: number): Promise<string | null> {
  const [row] = await db.query<{ holder: string }>('SELECT holder FROM ingest_leases WHERE name = $1 AND expires_at > $2::timestamptz', [
    name,
    new Date(now).toISOString(),
  ]);
  return row?.holder ?? null;
}
