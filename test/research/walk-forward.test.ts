/** The walk-forward fold planner: boundaries, purge, non-overlapping test windows, no look-ahead. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IsoDate } from '../../src/domain/time.ts';
import { TasaError } from '../../src/errors.ts';
import { resolveResearchConfig } from '../../src/research/research-config.ts';
import { DEFAULT_WALK_FORWARD_CONFIG, planFolds, type Fold, type WalkForwardConfig } from '../../src/research/walk-forward.ts';

/** n distinct dates in order, one a day from 2020-01-01. */
function sessions(n: number): IsoDate[] {
  return Array.from({ length: n }, (_, i) => new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10));
}

const config = (over: Partial<WalkForwardConfig> = {}): WalkForwardConfig => ({ ...DEFAULT_WALK_FORWARD_CONFIG, ...over });

/** Every fold's windows are in order, separated by exactly the purge, and name their dates. */
function assertWellFormed(folds: readonly Fold[], list: readonly IsoDate[], purge: number): void {
  for (const f of folds) {
    assert.equal(f.validation.start - f.train.end, purge, `fold ${f.index}: purge before validation`);
    assert.equal(f.test.start - f.validation.end, purge, `fold ${f.index}: purge before test`);
    for (const w of [f.train, f.validation, f.test]) {
      assert.ok(w.end > w.start);
      assert.equal(w.sessions, w.end - w.start);
      assert.equal(w.from, list[w.start]);
      assert.equal(w.to, list[w.end - 1]);
    }
    // No look-ahead: whatever fits or selects the fold ends before its test window starts.
    assert.ok(f.train.to < f.validation.from && f.validation.to < f.test.from);
  }
}

describe('walk-forward planner', () => {
  it('expanding: 8 folds whose test windows tile the end of the history without overlap', () => {
    const list = sessions(1000);
    const folds = planFolds(list, config(), 2);
    assert.equal(folds.length, 8);
    assertWellFormed(folds, list, 2);
    const test = Math.floor((1000 - (250 + 2 + 60 + 2)) / 8);
    for (const [k, f] of folds.entries()) {
      assert.equal(f.index, k);
      assert.equal(f.train.start, 0, 'expanding windows start at the first session');
      assert.equal(f.test.sessions, test);
      assert.equal(f.validation.sessions, 60);
      if (k > 0) assert.equal(f.test.start, folds[k - 1]!.test.end, 'consecutive, no overlap, no gap');
    }
    assert.equal(folds[7]!.test.end, 1000, 'the last test window ends at the last session');
    assert.ok(folds[0]!.train.sessions >= 250);
    assert.ok(folds[7]!.train.sessions > folds[0]!.train.sessions);
  });

  it('rolling: every train window has trainSessions sessions and moves with its test window', () => {
    const list = sessions(700);
    const folds = planFolds(list, config({ mode: 'rolling', trainSessions: 100, validationSessions: 20, testSessions: 40, folds: 10, purgeSessions: 3 }), 2);
    assertWellFormed(folds, list, 3);
    for (const f of folds) {
      assert.equal(f.train.sessions, 100);
      assert.equal(f.test.sessions, 40);
      assert.equal(f.purgeSessions, 3, "the section's purge wins over the research config's");
    }
    assert.equal(folds[1]!.train.start - folds[0]!.train.start, 40);
  });

  it('a purge of 0 leaves the windows adjacent', () => {
    const list = sessions(200);
    assertWellFormed(planFolds(list, config({ trainSessions: 50, validationSessions: 10, folds: 4, purgeSessions: 0 }), 5), list, 0);
  });

  it('refuses a history too short for the folds, saying how many sessions they need', () => {
    assert.throws(
      () => planFolds(sessions(300), config(), 2),
      (err: unknown) => err instanceof TasaError && err.code === 'bad_input' && /need \d+ sessions; there are 300/.test(err.message),
    );
    assert.throws(() => planFolds(sessions(1000), config({ testSessions: 200 }), 2), /need 1914 sessions/);
  });

  it('refuses sessions out of order and bad sizes', () => {
    assert.throws(() => planFolds(['2020-01-02', '2020-01-01'], config(), 2), /distinct dates in time order/);
    assert.throws(() => planFolds(sessions(1000), config({ folds: 0 }), 2), /folds must be a whole number >= 1/);
    assert.throws(() => planFolds(sessions(1000), config(), -1), /purgeSessions must be a whole number >= 0/);
  });

  it('the research config validates the section, fills its defaults and hashes it', () => {
    const defaults = resolveResearchConfig({});
    assert.deepEqual(defaults.config.walkForward, { ...DEFAULT_WALK_FORWARD_CONFIG });
    const rolling = resolveResearchConfig({ walkForward: { mode: 'rolling' } });
    assert.notEqual(rolling.hash, defaults.hash);
    assert.throws(() => resolveResearchConfig({ walkForward: { folds: 0 } }), /walkForward\.folds .*from 1 to 200, got 0/);
    assert.throws(() => resolveResearchConfig({ walkForward: { mode: 'sideways' } }), /walkForward\.mode/);
  });
});
