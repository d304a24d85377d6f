/**
 * The PPO flags of `tasa pipeline run` and `tasa train` (--steps, --seed, --seeds), and the research
 * config's training section they sit on top of.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ppoConfig } from '../../src/cli/actions/pipeline-actions.ts';
import { TasaError } from '../../src/errors.ts';
import { resolveResearchConfig } from '../../src/research/research-config.ts';

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TasaError && err.code === 'bad_argument', String(err));
    return err.message;
  }
  assert.fail('not refused');
};

describe('PPO flags', () => {
  it('--steps, --seed and --seeds become PPO options; absent flags leave the defaults', () => {
    assert.deepEqual(ppoConfig({ steps: '50000', seed: '0', seeds: '5' }), { ppo: { steps: 50_000, seed: 0, seeds: 5 } });
    assert.deepEqual(ppoConfig({ seeds: '1' }), { ppo: { seeds: 1 } });
    assert.deepEqual(ppoConfig({}), { ppo: {} });
  });

  it('refuses a seed count that is not a whole number >= 1, naming the flag', () => {
    assert.equal(refusal(() => ppoConfig({ seeds: '0' })), '--seeds must be a whole number >= 1, not "0".');
    assert.equal(refusal(() => ppoConfig({ seeds: '2.5' })), '--seeds must be a whole number >= 1, not "2.5".');
    assert.equal(refusal(() => ppoConfig({ seeds: 'three' })), '--seeds must be a whole number >= 1, not "three".');
  });

  it('the research config trains three seeds by default; its training section is validated', () => {
    assert.deepEqual(resolveResearchConfig({}).config.training, { seeds: 3, evalEvery: 5, patience: 4 });
    assert.equal(resolveResearchConfig({ training: { seeds: 5 } }).config.training.seeds, 5);
    assert.notEqual(resolveResearchConfig({ training: { seeds: 5 } }).hash, resolveResearchConfig({}).hash, 'the training setup is part of the lineage hash');
    assert.match(refusal(() => resolveResearchConfig({ training: { seeds: 0 } })), /^Research config field training\.seeds \(defaults\) must be the PPO seeds trained .*got 0\.$/);
    assert.match(refusal(() => resolveResearchConfig({ training: { patience: 'soon' } })), /training\.patience/);
  });
});
