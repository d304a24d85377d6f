/**
 * Realtime subscriptions of programmatic clients (migration 005, `realtime_subscriptions`). They
 * live in the database so that every gateway process can serve `/api/v1/realtime/ws/{id}`.
 * Deleting marks the row (`deleted_at`); a deleted subscription is not served any more.
 */
import { randomBytes } from 'node:crypto';
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';
import { isoTimeOrNull, msOrNull } from './rows.ts';

export const UPDATE_FREQUENCIES = ['tick', '1s', '5s', 'bar'] as const;
export type UpdateFrequency = (typeof UPDATE_FREQUENCIES)[number];

export interface RealtimeSubscription {
  id: string;
  symbols: string[];
  channels: string[];
  updateFrequency: UpdateFrequency;
  /** Principal id (token id or JWT subject) that created it; null when created without one. */
  owner: string | null;
  createdAt: number;
  deletedAt: number | null;
}

export interface NewRealtimeSubscription {
  symbols: string[];
  channels: string[];
  updateFrequency: UpdateFrequency;
  owner: string | null;
  /** Epoch ms; defaults to the database clock. */
  at?: number;
}

interface SubscriptionRow {
  id: string;
  symbols: string[];
  channels: string[];
  update_frequency: string;
  owner: string | null;
  created_at: Date;
  deleted_at: Date | null;
}

const COLUMNS = 'id, symbols, channels, update_frequency, owner, created_at, deleted_at';

export async function createRealtimeSubscription(db: Db, input: NewRealtimeSubscription): Promise<RealtimeSubscription> {
  if (input.symbols.length === 0) throw new TasaError('bad_argument', 'A realtime subscription needs at least one symbol.', { input: 'symbols' });
  if (input.channels.length === 0) throw new TasaError('bad_argument', 'A realtime subscription needs at least one channel.', { input: 'channels' });
  const id = `rs_${randomBytes(12).toString('hex')}`;
  const [row] = await db.query<SubscriptionRow>(
    `INSERT INTO realtime_subscriptions (id, symbols, channels, update_frequency, owner, created_at)
     VALUES ($1, $2::text[], $3::text[], $4, $5, coalesce($6::timestamptz, now()))
     RETURNING ${COLUMNS}`,
    [id, input.symbols, input.channels, input.updateFrequency, input.owner, isoTimeOrNull(input.at)],
  );
  if (!row) throw new TasaError('internal', 'realtime_subscriptions insert returned no row.');
  return toSubscription(row);
}

/** The subscription with this id, deleted or not; null when there is none. */
export async function getRealtimeSubscription(db: Db, id: string): Promise<RealtimeSubscription | null> {
  const [row] = await db.query<SubscriptionRow>(`SELECT ${COLUMNS} FROM realtime_subscriptions WHERE id = $1`, [id]);
  return row ? toSubscription(row) : null;
}

/** Marks the subscription deleted; false when it does not exist or was already deleted. */
export async function deleteRealtimeSubscription(db: Db, id: string, at?: number): Promise<boolean> {
  const rows = await db.query(
    `UPDATE realtime_subscriptions SET deleted_at = coalesce($2::timestamptz, now()) WHERE id = $1 AND deleted_at IS NULL RETURNING id`,
    [id, isoTimeOrNull(at)],
  );
  return rows.length > 0;
}

/** Subscriptions not deleted, oldest first; only the owner's when one is given. */
export async function listRealtimeSubscriptions(db: Db, filter: { owner?: string } = {}): Promise<RealtimeSubscription[]> {
  const rows = await db.query<SubscriptionRow>(
    `SELECT ${COLUMNS} FROM realtime_subscriptions WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner = $1) ORDER BY created_at, id`,
    [filter.owner ?? null],
  );
  return rows.map(toSubscription);
}

function toSubscription(r: SubscriptionRow): RealtimeSubscription {
  if (!(UPDATE_FREQUENCIES as readonly string[]).includes(r.update_frequency)) {
    throw new TasaError('internal', `realtime_subscriptions row ${r.id} has an unknown update_frequency "${r.update_frequency}".`, { input: r.id });
  }
  return {
    id: r.id,
    symbols: r.symbols,
    channels: r.channels,
    updateFrequency: r.update_frequency as UpdateFrequency,
    owner: r.owner,
    createdAt: r.created_at.getTime(),
    deletedAt: msOrNull(r.deleted_at),
  };
}
