/** The append-only audit log: who did what to which entity. */
import type { Db } from './db.ts';
import { chunked, isoTimeOrNull } from './rows.ts';

export interface AuditInput {
  actor: string;
  action: string;
  entity: string;
  details: Record<string, unknown>;
  /** Epoch ms; defaults to the database clock. Pass the injected Clock's time when simulating. */
  at?: number;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  entity: string;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  action?: string;
  entity?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  limit: number;
  /** Keyset paging: entries with a larger id only. */
  afterId?: number;
  /** Keyset paging backwards: entries with a smaller id only. */
  beforeId?: number;
  /** Newest first (by id) instead of oldest first. */
  newestFirst?: boolean;
  /** Entities from this one to `entityTo`, both inclusive, in byte order (e.g. `bars:USD/COP:2024-01-01`..`bars:USD/COP:2024-01-31`). */
  entityFrom?: string;
  entityTo?: string;
  /** Actions starting with this text, e.g. `repair.`. */
  actionPrefix?: string;
}

/** Appends entries in one statement per chunk; returns how many were written. */
export async function appendAudit(db: Db, entries: readonly AuditInput[]): Promise<number> {
  const chunks = [...chunked(entries)];
  // One statement is atomic by itself: no transaction of its own (no savepoint inside a caller's).
  if (chunks.length === 1) await insertAudit(db, entries);
  else if (chunks.length > 1) {
    await db.transaction(async (tx) => {
      for (const chunk of chunks) await insertAudit(tx, chunk);
    });
  }
  return entries.length;
}

async function insertAudit(db: Db, entries: readonly AuditInput[]): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (at, actor, action, entity, details)
     SELECT coalesce(t.at, now()), t.actor, t.action, t.entity, t.details::jsonb
     FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(at, actor, action, entity, details)`,
    [
      entries.map((e) => isoTimeOrNull(e.at)),
      entries.map((e) => e.actor),
      entries.map((e) => e.action),
      entries.map((e) => e.entity),
      entries.map((e) => JSON.stringify(e.details)),
    ],
  );
}

/** Entries matching every given filter, oldest first (by id) unless `newestFirst`. */
export async function listAudit(db: Db, filter: AuditFilter): Promise<AuditEntry[]> {
  const rows = await db.query<Omit<AuditEntry, 'at'> & { at: Date }>(
    `SELECT id, at, actor, action, entity, details FROM audit_log
     WHERE ($1::text IS NULL OR action = $1) AND ($2::text IS NULL OR entity = $2)
       AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
       AND id > $5 AND ($7::bigint IS NULL OR id < $7)
       AND ($8::text IS NULL OR entity COLLATE "C" >= $8) AND ($9::text IS NULL OR entity COLLATE "C" <= $9)
       AND ($10::text IS NULL OR starts_with(action, $10))
     ORDER BY id ${filter.newestFirst === true ? 'DESC' : 'ASC'} LIMIT $6`,
    [
      filter.action ?? null,
      filter.entity ?? null,
      isoTimeOrNull(filter.from),
      isoTimeOrNull(filter.to),
      filter.afterId ?? 0,
      filter.limit,
      filter.beforeId ?? null,
      filter.entityFrom ?? null,
      filter.entityTo ?? null,
      filter.actionPrefix ?? null,
    ],
  );
  return rows.map((r) => ({ ...r, at: r.at.getTime() }));
}

/** How many entries each action has among the entities from..to (byte order, both inclusive). */
export async function auditCountsByAction(db: Db, entityFrom: string, entityTo: string): Promise<Record<string, number>> {
  const rows = await db.query<{ action: string; n: number }>(
    `SELECT action, count(*)::int AS n FROM audit_log WHERE entity COLLATE "C" >= $1 AND entity COLLATE "C" <= $2 GROUP BY action ORDER BY action`,
    [entityFrom, entityTo],
  );
  return Object.fromEntries(rows.map((r) => [r.action, r.n]));
}
