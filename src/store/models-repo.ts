/**
 * The model registry (migration 006): trained and baseline policies per symbol, with their
 * config, metrics, training curve and serialized weights. At most one model per symbol is in
 * production (a partial unique index enforces it); promoting one demotes the previous one.
 */
import { TasaError } from '../errors.ts';
import { appendAudit } from './audit-repo.ts';
import type { Db } from './db.ts';
import { isoTimeOrNull, msOrNull } from './rows.ts';

export type ModelKind = 'ppo' | 'baseline';
export type ModelStatus = 'candidate' | 'production' | 'retired';

export interface ModelInput {
  id: string;
  kind: ModelKind;
  symbol: string;
  datasetHash: string | null;
  config: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** One entry per training iteration (empty for baselines). */
  trainingCurve: readonly unknown[];
  /** Serialized weights; null for baselines. */
  weights: Uint8Array | null;
  /** Epoch ms; defaults to the database clock. */
  createdAt?: number;
}

/** A registry entry without its weights (listings). */
export interface ModelSummary extends Pick<ModelInput, 'id' | 'kind' | 'symbol' | 'datasetHash' | 'config' | 'metrics'> {
  trainingCurve: unknown[];
  status: ModelStatus;
  /** Size of the stored weights in bytes; null when there are none. */
  weightsBytes: number | null;
  createdAt: number;
  promotedAt: number | null;
}

export interface StoredModel extends ModelSummary {
  weights: Uint8Array | null;
}

export interface ModelFilter {
  symbol?: string;
  status?: ModelStatus;
  kind?: ModelKind;
  /** Newest first; default 100. */
  limit?: number;
}

export interface Promotion {
  model: StoredModel;
  /** The production model it replaced (now a candidate), or null when there was none or it was already in production. */
  previousId: string | null;
  /** False when the model already was in production (nothing was written). */
  changed: boolean;
}

const SUMMARY_COLUMNS = `id, kind, symbol, dataset_hash, config, metrics, training_curve, status,
  octet_length(weights) AS weights_bytes, created_at, promoted_at`;

interface SummaryRow {
  id: string;
  kind: ModelKind;
  symbol: string;
  dataset_hash: string | null;
  config: Record<string, unknown>;
  metrics: Record<string, unknown>;
  training_curve: unknown[];
  status: ModelStatus;
  weights_bytes: number | null;
  created_at: Date;
  promoted_at: Date | null;
}

interface ModelRow extends SummaryRow {
  weights: Uint8Array | null;
}

/** Registers a model as a candidate; an id already taken is a conflict. */
export async function insertModel(db: Db, model: ModelInput): Promise<void> {
  const rows = await db.query(
    `INSERT INTO models (id, kind, symbol, dataset_hash, config, metrics, training_curve, weights, created_at)
     VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7::text::jsonb, $8::bytea, coalesce($9::timestamptz, now()))
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [
      model.id,
      model.kind,
      model.symbol,
      model.datasetHash,
      JSON.stringify(model.config),
      JSON.stringify(model.metrics),
      JSON.stringify(model.trainingCurve),
      model.weights,
      isoTimeOrNull(model.createdAt),
    ],
  );
  if (rows.length === 0) throw new TasaError('conflict', `A model with id ${model.id} already exists.`, { input: model.id, hint: 'Choose another model id.' });
}

/** One model with its weights, or null when the id is unknown. */
export async function getModel(db: Db, id: string): Promise<StoredModel | null> {
  const [row] = await db.query<ModelRow>(`SELECT ${SUMMARY_COLUMNS}, weights FROM models WHERE id = $1`, [id]);
  return row ? toModel(row) : null;
}

/** Models matching every given filter, newest first, without their weights. */
export async function listModels(db: Db, filter: ModelFilter = {}): Promise<ModelSummary[]> {
  const rows = await db.query<SummaryRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM models
     WHERE ($1::text IS NULL OR symbol = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)
     ORDER BY created_at DESC, id DESC LIMIT $4`,
    [filter.symbol ?? null, filter.status ?? null, filter.kind ?? null, filter.limit ?? 100],
  );
  return rows.map(toSummary);
}

/** The production model of a symbol, with its weights, or null when none is promoted. */
export async function productionModel(db: Db, symbol: string): Promise<StoredModel | null> {
  const [row] = await db.query<ModelRow>(`SELECT ${SUMMARY_COLUMNS}, weights FROM models WHERE symbol = $1 AND status = 'production'`, [symbol]);
  return row ? toModel(row) : null;
}

/**
 * Puts a model in production and demotes the symbol's previous production model to candidate,
 * in one transaction with its audit entry. The symbol's rows are locked first, so two
 * concurrent promotions run one after the other instead of colliding on the unique index.
 * Promoting the model already in production changes nothing.
 */
export async function promoteModel(db: Db, id: string, at?: number, actor = 'tasa'): Promise<Promotion> {
  return db.transaction(async (tx) => {
    const target = await lockSymbolOf(tx, id);
    if (target.status === 'production') return { model: await mustGet(tx, id), previousId: null, changed: false };
    const demoted = await tx.query<{ id: string }>(
      `UPDATE models SET status = 'candidate' WHERE symbol = $1 AND status = 'production' RETURNING id`,
      [target.symbol],
    );
    const [row] = await tx.query<ModelRow>(
      `UPDATE models SET status = 'production', promoted_at = coalesce($2::timestamptz, now()) WHERE id = $1
       RETURNING ${SUMMARY_COLUMNS}, weights`,
      [id, isoTimeOrNull(at)],
    );
    if (!row) throw new TasaError('internal', `Model ${id} vanished during its promotion.`, { input: id });
    const previousId = demoted[0]?.id ?? null;
    await appendAudit(tx, [
      { actor, action: 'model.promote', entity: `model:${id}`, details: { symbol: target.symbol, previous: previousId, previousStatus: target.status }, ...(at === undefined ? {} : { at }) },
    ]);
    return { model: toModel(row), previousId, changed: true };
  });
}

/** Locks every model row of the id's symbol (FOR UPDATE) and returns the model's symbol and status; unknown id -> not_found. */
async function lockSymbolOf(tx: Db, id: string): Promise<{ symbol: string; status: ModelStatus }> {
  const [found] = await tx.query<{ symbol: string }>('SELECT symbol FROM models WHERE id = $1', [id]);
  if (!found) throw new TasaError('not_found', `Model ${id} does not exist.`, { input: id, hint: 'List the models to see their ids.' });
  await tx.query('SELECT id FROM models WHERE symbol = $1 ORDER BY id FOR UPDATE', [found.symbol]);
  const [row] = await tx.query<{ symbol: string; status: ModelStatus }>('SELECT symbol, status FROM models WHERE id = $1', [id]);
  if (!row) throw new TasaError('not_found', `Model ${id} does not exist.`, { input: id });
  return row;
}

async function mustGet(db: Db, id: string): Promise<StoredModel> {
  const model = await getModel(db, id);
  if (!model) throw new TasaError('not_found', `Model ${id} does not exist.`, { input: id });
  return model;
}

function toSummary(r: SummaryRow): ModelSummary {
  return {
    id: r.id,
    kind: r.kind,
    symbol: r.symbol,
    datasetHash: r.dataset_hash,
    config: r.config,
    metrics: r.metrics,
    trainingCurve: r.training_curve,
    status: r.status,
    weightsBytes: r.weights_bytes,
    createdAt: r.created_at.getTime(),
    promotedAt: msOrNull(r.promoted_at),
  };
}

/** postgres.js returns bytea as a Buffer, PGlite as a Uint8Array: both become a plain Uint8Array. */
function toModel(r: ModelRow): StoredModel {
  const weights = r.weights === null ? null : new Uint8Array(r.weights.buffer, r.weights.byteOffset, r.weights.byteLength);
  return { ...toSummary(r), weights };
}
