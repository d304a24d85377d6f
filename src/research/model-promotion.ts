/**
 * Promotion to production, gated: a model goes into production only when its newest backtest
 * passed the production gates. `force` promotes anyway and records, in the audit log, which gate
 * result it overrode. The one rule the API (`POST /api/models/{id}/promote`) and the CLI
 * (`tasa models promote`) both apply.
 */
import { TasaError } from '../errors.ts';
import { appendAudit } from '../store/audit-repo.ts';
import { listBacktests } from '../store/backtests-repo.ts';
import type { Db } from '../store/db.ts';
import { getModel, promoteModel, type ModelSummary, type Promotion } from '../store/models-repo.ts';

export interface PromoteOptions {
  actor: string;
  at: number;
  /** Promote even without a passing gated backtest (audited as `model.promote.force`). */
  force: boolean;
  /** How the caller forces: `?force=true`, `--force`. */
  forceHint: string;
}

const TRAIN_AND_BACKTEST = 'Run `tasa pipeline run` (or POST /api/admin/pipeline/run) to train and backtest.';

export async function promoteGated(db: Db, id: string, o: PromoteOptions): Promise<Promotion> {
  const model = await getModel(db, id);
  if (model === null) throw new TasaError('not_found', `Model ${id} does not exist.`, { input: 'id', hint: 'List the models (GET /api/models, tasa models list) to see their ids.' });
  const refusal = await gateRefusal(db, model, o.forceHint);
  if (refusal !== null && !o.force) throw refusal;
  const promotion = await promoteModel(db, id, o.at, o.actor);
  if (refusal !== null && promotion.changed) {
    await appendAudit(db, [{ actor: o.actor, action: 'model.promote.force', entity: `model:${id}`, details: { overridden: refusal.message }, at: o.at }]);
  }
  return promotion;
}

/** Why the model may not be promoted (a 409 conflict), or null when its newest backtest passed the gates. */
async function gateRefusal(db: Db, model: ModelSummary, forceHint: string): Promise<TasaError | null> {
  const [latest] = await listBacktests(db, { policyId: model.id, symbol: model.symbol, limit: 1 });
  const hint = `${forceHint} promotes anyway.`;
  if (latest === undefined) return new TasaError('conflict', `Model ${model.id} has no backtest, so it has not passed the production gates.`, { input: 'id', hint: `${TRAIN_AND_BACKTEST} ${hint}` });
  if (latest.passed === true) return null;
  const failed = latest.gates?.gates.filter((g) => !g.passed).map((g) => g.gate) ?? [];
  const why = latest.gates === null ? 'was not gated' : `failed the production gates (${failed.join(', ')})`;
  return new TasaError('conflict', `Model ${model.id}'s newest backtest (${latest.id}) ${why}.`, { input: 'id', hint });
}
