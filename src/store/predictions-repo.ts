/** Live predictions (migration 006): the production policy's decision at each final bar, one row per (symbol, bar, model). */
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';
import { isoTime, isoTimeOrNull } from './rows.ts';

/** Short, flat, long (the research layer's `Position`, restated so that store/ does not import research/). */
export type PredictedPosition = -1 | 0 | 1;

export interface PredictionInput {
  symbol: string;
  /** Open time of the bar the decision was taken at the close of, epoch ms UTC. */
  barTime: number;
  modelId: string;
  position: PredictedPosition;
  /** Probabilities of short, flat, long. */
  probabilities: readonly [number, number, number];
  /** Time from the bar's final event to the decision, ms. */
  latencyMs: number;
  /** Epoch ms; defaults to the database clock. */
  createdAt?: number;
}

export interface Prediction extends Omit<PredictionInput, 'createdAt' | 'probabilities'> {
  probabilities: [number, number, number];
  createdAt: number;
}

interface PredictionRow {
  symbol: string;
  bar_time: Date;
  model_id: string;
  position: number;
  probabilities: number[];
  latency_ms: number;
  created_at: Date;
}

/** Stores a prediction; returns false (and changes nothing) when that symbol, bar and model already has one. */
export async function insertPrediction(db: Db, p: PredictionInput): Promise<boolean> {
  checkPrediction(p);
  const rows = await db.query(
    `INSERT INTO predictions (symbol, bar_time, model_id, position, probabilities, latency_ms, created_at)
     VALUES ($1, $2::timestamptz, $3, $4, $5::float8[], $6, coalesce($7::timestamptz, now()))
     ON CONFLICT (symbol, bar_time, model_id) DO NOTHING RETURNING symbol`,
    [p.symbol, isoTime(p.barTime), p.modelId, p.position, [...p.probabilities], p.latencyMs, isoTimeOrNull(p.createdAt)],
  );
  return rows.length > 0;
}

/** The symbol's most recent predictions (by bar time, then model id), newest first. */
export async function latestPredictions(db: Db, symbol: string, limit: number): Promise<Prediction[]> {
  const rows = await db.query<PredictionRow>(
    `SELECT symbol, bar_time, model_id, position, probabilities, latency_ms, created_at FROM predictions
     WHERE symbol = $1 ORDER BY bar_time DESC, model_id LIMIT $2`,
    [symbol, limit],
  );
  return rows.map(toPrediction);
}

function checkPrediction(p: PredictionInput): void {
  const probs = p.probabilities;
  if (probs.length !== 3 || probs.some((x) => !Number.isFinite(x) || x < 0 || x > 1)) {
    throw new TasaError('bad_argument', `Prediction probabilities must be three numbers in [0, 1], got ${JSON.stringify(probs)}.`, { input: `${p.symbol}@${isoTime(p.barTime)}` });
  }
  if (!Number.isFinite(p.latencyMs) || p.latencyMs < 0) {
    throw new TasaError('bad_argument', `Prediction latency must be a non-negative number of ms, got ${p.latencyMs}.`, { input: `${p.symbol}@${isoTime(p.barTime)}` });
  }
}

function toPrediction(r: PredictionRow): Prediction {
  const [short = NaN, flat = NaN, long = NaN] = r.probabilities;
  return {
    symbol: r.symbol,
    barTime: r.bar_time.getTime(),
    modelId: r.model_id,
    position: r.position as PredictedPosition,
    probabilities: [short, flat, long],
    latencyMs: r.latency_ms,
    createdAt: r.created_at.getTime(),
  };
}
