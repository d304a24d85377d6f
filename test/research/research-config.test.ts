import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TasaError } from '../../src/errors.ts';
import { DEFAULT_GATE_THRESHOLDS } from '../../src/research/gates.ts';
import { loadResearchConfig, researchConfigFor, resolveResearchConfig } from '../../src/research/research-config.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';
import { DEFAULT_WALK_FORWARD_CONFIG } from '../../src/research/walk-forward.ts';

const dir = mkdtempSync(join(tmpdir(), 'tasa-research-config-'));

/** The error `fn` throws: a bad_argument TasaError, whose one-sentence message is returned. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TasaError && err.code === 'bad_argument', String(err));
    return err.message;
  }
  assert.fail('expected a bad_argument error');
}

describe('research config', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fills every field with its default', () => {
    const { config, source } = resolveResearchConfig({});
    assert.equal(source, 'defaults');
    assert.deepEqual(config, {
      costs: { spreadBps: 2, fallbackSpreadBps: 2, minSpreadTicks: 100, feeBps: 0.5, slippageBps: 0 },
      split: { train: 0.7, validation: 0.15, test: 0.15 },
      purgeSessions: 2,
      gates: { ...DEFAULT_GATE_THRESHOLDS },
      training: { seeds: 3, evalEvery: 5, patience: 4 },
      trials: null,
      walkForward: { ...DEFAULT_WALK_FORWARD_CONFIG },
    });
  });

  it('keeps what a file sets, defaults the rest, and puts flags on top', () => {
    const file = { costs: { spreadBps: 'from-ticks', feeBps: 1 }, split: { train: 0.6, validation: 0.2, test: 0.2 }, gates: { confidence: 0.9 }, trials: 12 };
    const { config } = resolveResearchConfig(file, { costs: { feeBps: 1.5 }, purgeSessions: 3 }, 'research.config.json');
    assert.deepEqual(config.costs, { spreadBps: 'from-ticks', fallbackSpreadBps: 2, minSpreadTicks: 100, feeBps: 1.5, slippageBps: 0 });
    assert.deepEqual(config.split, { train: 0.6, validation: 0.2, test: 0.2 });
    assert.equal(config.purgeSessions, 3);
    assert.equal(config.gates.confidence, 0.9);
    assert.equal(config.gates.minTrades, DEFAULT_GATE_THRESHOLDS.minTrades);
    assert.equal(config.trials, 12);
  });

  it('hashes the resolved content: defaults spelled out or not are one config, a cost change is another', () => {
    const implicit = resolveResearchConfig({});
    const spelled = resolveResearchConfig({ costs: { spreadBps: 2, feeBps: 0.5 }, purgeSessions: 2 });
    assert.equal(spelled.hash, implicit.hash);
    assert.match(implicit.hash, /^[0-9a-f]{64}$/);
    assert.notEqual(resolveResearchConfig({}, { costs: { slippageBps: 0.5 } }).hash, implicit.hash);
  });

  it('refuses a bad value in one sentence naming the field, its rule and the file', () => {
    assert.equal(
      refusal(() => resolveResearchConfig({ costs: { feeBps: -1 } }, {}, 'my.json')),
      'Research config field costs.feeBps (my.json) must be the fee: a number of basis points from 0 to 10000, got -1.',
    );
    assert.match(refusal(() => resolveResearchConfig({ costs: { spreadBps: 'wide' } })), /^Research config field costs\.spreadBps .* or "from-ticks", got "wide"\.$/);
    assert.match(refusal(() => resolveResearchConfig({ gates: { confidence: 1 } })), /gates\.confidence .*>= 0 and < 1, got 1\./);
    assert.match(refusal(() => resolveResearchConfig({ purgeSessions: 1.5 })), /purgeSessions .*whole number of sessions >= 0, got 1\.5\./);
    assert.match(refusal(() => resolveResearchConfig({ trials: 0 })), /^Research config field trials .*got 0\.$/);
    assert.match(refusal(() => resolveResearchConfig({ split: { train: 0.8 } })), /field split .*summing to 1, got 1\.1/);
    assert.match(refusal(() => resolveResearchConfig({ costs: { spread: 3 } })), /unknown field costs\.spread;/);
    assert.match(refusal(() => resolveResearchConfig([])), /must be a JSON object/);
  });

  it('reads the file TASA_RESEARCH_CONFIG names; a missing default file means the defaults', async () => {
    const file = join(dir, 'costs.json');
    writeFileSync(file, JSON.stringify({ costs: { spreadBps: 7.5 } }));
    const named = await loadResearchConfig(dir, { costs: { feeBps: 0 } }, { TASA_RESEARCH_CONFIG: file });
    assert.equal(named.source, file);
    assert.equal(named.config.costs.spreadBps, 7.5);
    assert.equal(named.config.costs.feeBps, 0);
    assert.equal((await loadResearchConfig(join(dir, 'nowhere'), {}, {})).source, 'defaults');
    await assert.rejects(loadResearchConfig(dir, {}, { TASA_RESEARCH_CONFIG: join(dir, 'missing.json') }), /cannot be read/);
    writeFileSync(join(dir, 'research.config.json'), '{ "costs": ');
    await assert.rejects(loadResearchConfig(dir, {}, {}), /is not JSON/);
  });
});

describe('research config per instrument', () => {
  const brl = shippedInstrument('USD/BRL').costs;
  const cop = shippedInstrument('USD/COP').costs;

  it("takes each instrument's costs where the config sets none, and hashes the result", () => {
    const shared = resolveResearchConfig({ costs: { minSpreadTicks: 50 } });
    const forBrl = researchConfigFor(shared, brl);
    const forCop = researchConfigFor(shared, cop);
    assert.deepEqual(forBrl.config.costs, { spreadBps: brl.spreadBps, fallbackSpreadBps: brl.spreadBps, minSpreadTicks: 50, feeBps: brl.feeBps, slippageBps: brl.slippageBps });
    assert.equal(forCop.config.costs.spreadBps, cop.spreadBps);
    assert.notEqual(forBrl.hash, forCop.hash, 'different costs, different research setups');
    assert.equal(forBrl.config.split.train, shared.config.split.train, 'the rest of the config is shared');
  });

  it('keeps what the file and the command line set', () => {
    const shared = resolveResearchConfig({ costs: { spreadBps: 'from-ticks', feeBps: 3 } }, { costs: { slippageBps: 1 } });
    const costs = researchConfigFor(shared, brl).config.costs;
    assert.equal(costs.spreadBps, 'from-ticks');
    assert.equal(costs.fallbackSpreadBps, brl.spreadBps, "the instrument's half-spread is the from-ticks fallback");
    assert.equal(costs.feeBps, 3);
    assert.equal(costs.slippageBps, 1);
  });

  it('the shipped research.config.json leaves the costs to the instruments: USD/COP resolves as before', async () => {
    const shipped = researchConfigFor(await loadResearchConfig(process.cwd(), {}, {}), cop);
    assert.deepEqual(shipped.config.costs, { spreadBps: 2, fallbackSpreadBps: 2, minSpreadTicks: 100, feeBps: 0.5, slippageBps: 0 });
  });
});
