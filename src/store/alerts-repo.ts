/** Alerts raised by jobs: one open row per dedupe key until resolved (migration 003). */
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';
import { isoTimeOrNull } from './rows.ts';

export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface AlertInput {
  kind: string;
  severity: AlertSeverity;
  symbol: string | null;
  message: string;
  details: Record<string, unknown>;
  /** Identifies the condition: raising it again while open updates the open alert instead. */
  dedupeKey: string;
  /** Epoch ms; defaults to the database clock. */
  at?: number;
}

export interface Alert extends Omit<AlertInput, 'at'> {
  id: number;
  at: number;
  occurrences: number;
  lastSeenAt: number;
  resolvedAt: number | null;
}

export interface RaiseResult {
  id: number;
  /** False when an open alert with the same dedupe key existed and was updated. */
  created: boolean;
}

/**
 * Opens an alert, or, when one with the same dedupe key is open, refreshes its message and
 * details and counts the occurrence. `xmax = 0` is true only for a freshly inserted row.
 */
export async function raiseAlert(db: Db, alert: AlertInput): Promise<RaiseResult> {
  const [row] = await db.query<{ id: number; created: boolean }>(
    `INSERT INTO alerts AS a (at, kind, severity, symbol, message, details, dedupe_key, last_seen_at)
     VALUES (coalesce($1::timestamptz, now()), $2, $3, $4, $5, $6::text::jsonb, $7, coalesce($1::timestamptz, now()))
     ON CONFLICT (dedupe_key) WHERE resolved_at IS NULL DO UPDATE
       SET severity = excluded.severity, message = excluded.message, details = excluded.details,
           occurrences = a.occurrences + 1, last_seen_at = excluded.last_seen_at
     RETURNING id, (xmax = 0) AS created`,
    [isoTimeOrNull(alert.at), alert.kind, alert.severity, alert.symbol, alert.message, JSON.stringify(alert.details), alert.dedupeKey],
  );
  if (!row) throw new TasaError('internal', 'alerts upsert returned no row.');
  return row;
}

/** Closes the open alert with this dedupe key, if any; returns whether one was open. */
export async function resolveAlert(db: Db, dedupeKey: string, at?: number): Promise<boolean> {
  const rows = await db.query(
    `UPDATE alerts SET resolved_at = coalesce($2::timestamptz, now())
     WHERE dedupe_key = $1 AND resolved_at IS NULL RETURNING id`,
    [dedupeKey, isoTimeOrNull(at)],
  );
  return rows.length > 0;
}

interface AlertRow {
  id: number;
  at: Date;
  kind: string;
  severity: AlertSeverity;
  symbol: string | null;
  message: string;
  details: Record<string, unknown>;
  dedupe_key: string;
  occurrences: number;
  last_seen_at: Date;
  resolved_at: Date | null;
}

export interface AlertFilter {
  kind?: string;
  symbol?: string;
  /** Only open (unresolved) alerts. */
  openOnly?: boolean;
  /** Newest first; default 100. */
  limit?: number;
}

/** Alerts matching every given filter, newest first. */
export async function listAlerts(db: Db, filter: AlertFilter = {}): Promise<Alert[]> {
  const rows = await db.query<AlertRow>(
    `SELECT * FROM alerts
     WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR symbol = $2) AND (NOT $3::boolean OR resolved_at IS NULL)
     ORDER BY id DESC LIMIT $4`,
    [filter.kind ?? null, filter.symbol ?? null, filter.openOnly === true, filter.limit ?? 100],
  );
  return rows.map(toAlert);
}

/**
 * Closes an alert by id (an operator acknowledging it); resolving a resolved alert changes
 * nothing. Returns the alert as it now is and whether this call closed it; null for an unknown id.
 */
export async function resolveAlertById(db: Db, id: number, at?: number): Promise<{ alert: Alert; closed: boolean } | null> {
  const [row] = await db.query<AlertRow & { was_open: boolean }>(
    `WITH target AS (SELECT id, resolved_at IS NULL AS was_open FROM alerts WHERE id = $1 FOR UPDATE)
     UPDATE alerts a SET resolved_at = coalesce(a.resolved_at, coalesce($2::timestamptz, now()))
     FROM target WHERE a.id = target.id
     RETURNING a.*, target.was_open`,
    [id, isoTimeOrNull(at)],
  );
  return row ? { alert: toAlert(row), closed: row.was_open } : null;
}

function toAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    at: r.at.getTime(),
    kind: r.kind,
    severity: r.severity,
    symbol: r.symbol,
    message: r.message,
    details: r.details,
    dedupeKey: r.dedupe_key,
    occurrences: r.occurrences,
    lastSeenAt: r.last_seen_at.getTime(),
    resolvedAt: r.resolved_at === null ? null : r.resolved_at.getTime(),
  };
}

/** How many alerts are open (not resolved). */
export async function countOpenAlerts(db: Db): Promise<number> {
  const [row] = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM alerts WHERE resolved_at IS NULL');
  return row?.count ?? 0;
}
