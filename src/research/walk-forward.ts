/**
 * Walk-forward folds over a list of sessions (in time order). Pure.
 *
 * Each fold is train, purge, validation, purge, test, in that order, with no session shared
 * between its windows, so nothing a fold is judged on was seen (or leaked through features that
 * run across sessions, hence the purge) while it was fitted or selected. The test windows are
 * consecutive, never overlap, and end at the last session: together they are one out-of-sample
 * span that can be stitched. Fold k's validation and train windows lie before its test window,
 * and so they include earlier folds' test windows (that is what walking forward means).
 *
 * - `expanding`: every train window starts at the first session; the first one is at least
 *   `trainSessions` long (it also takes the sessions the even division of the test span leaves over).
 * - `rolling`: every train window is exactly `trainSessions` long, ending where its purge starts.
 * - `testSessions` null: the sessions after the first train and validation windows (and their
 *   purges) are shared evenly over the folds, the remainder going to the first train window.
 */
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';

export type WalkForwardMode = 'expanding' | 'rolling';

export interface WalkForwardConfig {
  /** Whether the pipeline evaluates walk-forward folds after L6. */
  enabled: boolean;
  mode: WalkForwardMode;
  folds: number;
  trainSessions: number;
  validationSessions: number;
  /** null: shared evenly (see the file comment). */
  testSessions: number | null;
  /** Sessions left out between train and validation and between validation and test; null: the research config's purgeSessions. */
  purgeSessions: number | null;
}

/** 8 folds on 2020-2025 (about 1,340 sessions): a year of first training, a quarter of validation, about four months of test each. */
export const DEFAULT_WALK_FORWARD_CONFIG: Readonly<WalkForwardConfig> = Object.freeze({
  enabled: true,
  mode: 'expanding',
  folds: 8,
  trainSessions: 250,
  validationSessions: 60,
  testSessions: null,
  purgeSessions: null,
});

/** Sessions [start, end) of the list, with their first and last dates. */
export interface SessionWindow {
  start: number;
  end: number;
  from: IsoDate;
  to: IsoDate;
  sessions: number;
}

export interface Fold {
  index: number;
  train: SessionWindow;
  validation: SessionWindow;
  test: SessionWindow;
  purgeSessions: number;
}

/** The folds of `config` over `sessions` (distinct dates in time order); `purgeSessions` resolves a null purge. */
export function planFolds(sessions: readonly IsoDate[], config: WalkForwardConfig, purgeSessions: number): Fold[] {
  assertSessions(sessions);
  const purge = config.purgeSessions ?? purgeSessions;
  assertWhole('purgeSessions', purge, 0);
  for (const [name, value, min] of [['folds', config.folds, 1], ['trainSessions', config.trainSessions, 1], ['validationSessions', config.validationSessions, 1]] as const) assertWhole(name, value, min);
  const n = sessions.length;
  const before = config.trainSessions + purge + config.validationSessions + purge;
  const test = config.testSessions ?? Math.floor((n - before) / config.folds);
  if (config.testSessions !== null) assertWhole('testSessions', test, 1);
  if (test < 1 || before + config.folds * test > n) {
    const needed = before + config.folds * Math.max(test, 1);
    throw new TasaError('bad_input', `${config.folds} walk-forward folds (train ${config.trainSessions}, validation ${config.validationSessions}, test ${test >= 1 ? test : 'at least 1'}, purge ${purge} sessions) need ${needed} sessions; there are ${n}.`, {
      input: 'walkForward',
    });
  }
  const window = (start: number, end: number): SessionWindow => ({ start, end, from: sessions[start]!, to: sessions[end - 1]!, sessions: end - start });
  const folds: Fold[] = [];
  for (let k = 0; k < config.folds; k++) {
    const testStart = n - (config.folds - k) * test;
    const validationEnd = testStart - purge;
    const validationStart = validationEnd - config.validationSessions;
    const trainEnd = validationStart - purge;
    const trainStart = config.mode === 'expanding' ? 0 : trainEnd - config.trainSessions;
    folds.push({ index: k, train: window(trainStart, trainEnd), validation: window(validationStart, validationEnd), test: window(testStart, testStart + test), purgeSessions: purge });
  }
  return folds;
}

function assertSessions(sessions: readonly IsoDate[]): void {
  for (let i = 1; i < sessions.length; i++) {
    if (!(sessions[i - 1]! < sessions[i]!)) throw new TasaError('bad_argument', `Walk-forward sessions must be distinct dates in time order; ${sessions[i]} follows ${sessions[i - 1]}.`, { input: sessions[i]! });
  }
}

function assertWhole(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new TasaError('bad_argument', `Walk-forward ${name} must be a whole number >= ${min}, got ${value}.`, { input: name });
}
