import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TasaError } from '../../src/errors.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { getModel, insertModel, listModels, productionModel, promoteModel, type ModelInput } from '../../src/store/models-repo.ts';
import { insertPrediction, latestPredictions, type PredictionInput } from '../../src/store/predictions-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const T0 = Date.UTC(2025, 0, 6, 13);

function model(id: string, overrides: Partial<ModelInput> = {}): ModelInput {
  return {
    id,
    kind: 'ppo',
    symbol: 'USD/COP',
    datasetHash: 'abc123',
    config: { steps: 1000, seed: 7 },
    metrics: { validation: { meanReward: 0.0012 } },
    trainingCurve: [{ iteration: 1, meanEpisodeReward: null }, { iteration: 2, meanEpisodeReward: 0.5 }],
    weights: new Uint8Array([1, 2, 3, 0, 255]),
    createdAt: T0,
    ...overrides,
  };
}

function prediction(barTime: number, overrides: Partial<PredictionInput> = {}): PredictionInput {
  return { symbol: 'USD/COP', barTime, modelId: 'm1', position: 1, probabilities: [0.1, 0.2, 0.7], latencyMs: 3.5, createdAt: barTime + 300_000, ...overrides };
}

for (const target of databaseTargets()) {
  describe(`model registry and predictions on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('inserts, reads back with weights, lists without them, and refuses a duplicate id', async () => {
      await insertModel(db, model('m1'));
      await insertModel(db, model('m2', { createdAt: T0 + 1000 }));
      await insertModel(db, model('base-flat', { kind: 'baseline', weights: null, trainingCurve: [], datasetHash: null, createdAt: T0 + 2000 }));
      await insertModel(db, model('eur1', { symbol: 'EUR/COP', createdAt: T0 + 3000 }));

      const m1 = await getModel(db, 'm1');
      assert.ok(m1);
      assert.deepEqual(m1.weights, new Uint8Array([1, 2, 3, 0, 255]));
      assert.equal(Object.getPrototypeOf(m1.weights), Uint8Array.prototype);
      assert.deepEqual([m1.status, m1.createdAt, m1.promotedAt, m1.weightsBytes], ['candidate', T0, null, 5]);
      assert.deepEqual(m1.trainingCurve, model('m1').trainingCurve);
      assert.equal(await getModel(db, 'nope'), null);

      const listed = await listModels(db, { symbol: 'USD/COP' });
      assert.deepEqual(listed.map((m) => [m.id, m.weightsBytes]), [['base-flat', null], ['m2', 5], ['m1', 5]]);
      assert.ok(listed.every((m) => !('weights' in m)));
      assert.deepEqual((await listModels(db, { kind: 'baseline' })).map((m) => m.id), ['base-flat']);
      assert.deepEqual((await listModels(db, { limit: 1 })).map((m) => m.id), ['eur1']);
      await assert.rejects(insertModel(db, model('m1')), (err: unknown) => err instanceof TasaError && err.code === 'conflict');
    });

    it('promotes one production model per symbol, demoting the previous one and auditing it', async () => {
      assert.equal(await productionModel(db, 'USD/COP'), null);
      const first = await promoteModel(db, 'm1', T0 + 10_000, 'test');
      assert.deepEqual([first.changed, first.previousId, first.model.status, first.model.promotedAt], [true, null, 'production', T0 + 10_000]);

      const second = await promoteModel(db, 'm2', T0 + 20_000, 'test');
      assert.deepEqual([second.changed, second.previousId], [true, 'm1']);
      assert.equal((await getModel(db, 'm1'))?.status, 'candidate');
      const prod = await productionModel(db, 'USD/COP');
      assert.deepEqual([prod?.id, prod?.weights], ['m2', new Uint8Array([1, 2, 3, 0, 255])]);
      assert.deepEqual((await listModels(db, { status: 'production' })).map((m) => m.id), ['m2']);

      await promoteModel(db, 'eur1', T0 + 30_000);
      assert.equal((await productionModel(db, 'USD/COP'))?.id, 'm2', 'another symbol keeps its own production model');
      assert.equal((await productionModel(db, 'EUR/COP'))?.id, 'eur1');

      const again = await promoteModel(db, 'm2', T0 + 40_000);
      assert.deepEqual([again.changed, again.model.promotedAt], [false, T0 + 20_000]);

      const audit = await listAudit(db, { action: 'model.promote', limit: 10 });
      assert.deepEqual(
        audit.map((e) => [e.entity, e.actor, e.at, e.details['previous']]),
        [['model:m1', 'test', T0 + 10_000, null], ['model:m2', 'test', T0 + 20_000, 'm1'], ['model:eur1', 'tasa', T0 + 30_000, null]],
      );
      await assert.rejects(promoteModel(db, 'nope'), (err: unknown) => err instanceof TasaError && err.code === 'not_found');
      await assert.rejects(
        db.query(`UPDATE models SET status = 'production' WHERE id = 'm1'`),
        /models_one_production|duplicate key/,
        'the unique index holds even outside promoteModel',
      );
    });

    it('concurrent promotions of one symbol end with exactly one production model', async () => {
      await insertModel(db, model('c1', { symbol: 'BRL/COP' }));
      await insertModel(db, model('c2', { symbol: 'BRL/COP' }));
      await Promise.all([promoteModel(db, 'c1'), promoteModel(db, 'c2')]);
      const prod = await listModels(db, { symbol: 'BRL/COP', status: 'production' });
      assert.equal(prod.length, 1);
    });

    it('predictions: idempotent on (symbol, bar, model), newest bar first, probabilities as numbers', async () => {
      assert.equal(await insertPrediction(db, prediction(T0)), true);
      assert.equal(await insertPrediction(db, prediction(T0, { position: -1, probabilities: [1, 0, 0] })), false);
      assert.equal(await insertPrediction(db, prediction(T0 + 300_000, { position: 0, probabilities: [0.25, 0.5, 0.25] })), true);
      assert.equal(await insertPrediction(db, prediction(T0, { modelId: 'm2' })), true);
      assert.equal(await insertPrediction(db, prediction(T0, { symbol: 'EUR/COP' })), true);

      const latest = await latestPredictions(db, 'USD/COP', 10);
      assert.deepEqual(
        latest.map((p) => [p.barTime, p.modelId, p.position, p.probabilities]),
        [[T0 + 300_000, 'm1', 0, [0.25, 0.5, 0.25]], [T0, 'm1', 1, [0.1, 0.2, 0.7]], [T0, 'm2', 1, [0.1, 0.2, 0.7]]],
      );
      assert.deepEqual([latest[0]?.latencyMs, latest[0]?.createdAt], [3.5, T0 + 600_000]);
      assert.equal((await latestPredictions(db, 'USD/COP', 1)).length, 1);
      await assert.rejects(insertPrediction(db, prediction(T0 + 600_000, { probabilities: [0.5, 0.5, Number.NaN] })), (err: unknown) => err instanceof TasaError && err.code === 'bad_argument');
    });
  });
}
