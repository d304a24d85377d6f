import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TasaError } from '../../src/errors.ts';
import {
  deflatedSharpe,
  expectedMaxSharpe,
  normalCdf,
  normalQuantile,
  perBarSharpe,
  probabilisticSharpe,
  returnMoments,
  sharpeVariance,
} from '../../src/research/significance.ts';

const close = (actual: number | null, expected: number, tolerance: number, label = ''): void => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${label} ${actual} vs ${expected}`);
};

/** Five times +1.1%, five times -0.9%: mean 0.1%, central moments of a two-point law (skewness 0, kurtosis 1). */
const TWO_POINT = [0.011, -0.009, 0.011, -0.009, 0.011, -0.009, 0.011, -0.009, 0.011, -0.009];

describe('the normal law', () => {
  test('Φ and Φ⁻¹ match tabulated values', () => {
    // scipy.stats.norm.cdf / ppf.
    close(normalCdf(0), 0.5, 1e-15);
    close(normalCdf(1.96), 0.9750021048517795, 1e-14);
    close(normalCdf(-3), 0.0013498980316300933, 1e-15);
    close(normalCdf(0.5), 0.6914624612740131, 1e-14);
    close(normalQuantile(0.975), 1.959963984540054, 1e-12);
    close(normalQuantile(0.8), 0.8416212335729143, 1e-12);
    close(normalQuantile(0.001), -3.090232306167813, 1e-12);
    close(normalQuantile(1 - 1 / (5 * Math.E)), 1.4496656592240222, 1e-12);
    for (const p of [1e-10, 0.01, 0.3, 0.5, 0.77, 0.99]) close(normalCdf(normalQuantile(p)), p, 1e-14 + p * 1e-12, `round trip ${p}`);
  });

  test('Φ⁻¹ refuses a probability outside (0, 1)', () => {
    for (const p of [0, 1, -0.1, NaN]) assert.throws(() => normalQuantile(p), (e: unknown) => e instanceof TasaError && e.code === 'bad_argument');
  });
});

describe('returnMoments', () => {
  test('by hand on a two-point series', () => {
    const m = returnMoments(TWO_POINT)!;
    close(m.mean, 0.001, 1e-15);
    // Population variance 0.01², sample stdev 0.01 × √(10/9).
    close(m.stdev, 0.01 * Math.sqrt(10 / 9), 1e-15);
    close(m.skewness, 0, 1e-9);
    close(m.kurtosis, 1, 1e-12);
    close(perBarSharpe(m), 0.1 / Math.sqrt(10 / 9), 1e-12);
  });

  test('skewed series (scipy: skew, kurtosis(fisher=False))', () => {
    const m = returnMoments([0.01, -0.02, 0.015, 0.03, -0.005, 0.01, 0, -0.01, 0.02, 0.005])!;
    close(m.mean, 0.0055, 1e-15);
    close(m.stdev, 0.014804278660801636, 1e-15);
    close(m.skewness, -0.1023357897355004, 1e-12);
    close(m.kurtosis, 2.3313864110608318, 1e-12);
  });

  test('null without variance or with fewer than two returns', () => {
    assert.equal(returnMoments([0.01]), null);
    assert.equal(returnMoments([0, 0, 0]), null);
  });
});

describe('probabilistic and deflated Sharpe ratios', () => {
  test('PSR by hand: skewness 0 and kurtosis 1 leave √(1 + 0 × SR²) = 1, so PSR = Φ(SR × √9)', () => {
    const m = returnMoments(TWO_POINT)!;
    const sr = 0.1 / Math.sqrt(10 / 9);
    close(probabilisticSharpe(m), normalCdf(sr * 3), 1e-15);
    close(probabilisticSharpe(m), 0.6120266058609285, 1e-12);
    close(probabilisticSharpe(m, sr), 0.5, 1e-15, 'a benchmark equal to the estimate');
  });

  test('PSR with skew and fat tails (independent recomputation)', () => {
    const m = returnMoments([0.01, -0.02, 0.015, 0.03, -0.005, 0.01, 0, -0.01, 0.02, 0.005])!;
    close(probabilisticSharpe(m), 0.8578047685068322, 1e-12);
  });

  test('SR0 = √V ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e))); one trial has nothing to deflate', () => {
    const g = 0.5772156649015329;
    close(expectedMaxSharpe(5, 0.0004), 0.02 * ((1 - g) * 0.8416212335729143 + g * 1.4496656592240222), 1e-12);
    close(expectedMaxSharpe(5, 0.0004), 0.023851880020295785, 1e-12);
    assert.equal(expectedMaxSharpe(1, 0.5), 0);
    assert.equal(expectedMaxSharpe(7, 0), 0);
    assert.ok(expectedMaxSharpe(50, 0.0004) > expectedMaxSharpe(5, 0.0004), 'more trials, more luck to discount');
  });

  test('DSR = PSR(SR0) and falls as trials grow', () => {
    const m = returnMoments(TWO_POINT)!;
    close(deflatedSharpe(m, 5, 0.0004), 0.5843557645268179, 1e-12);
    close(deflatedSharpe(m, 1, 0.0004), probabilisticSharpe(m)!, 0);
    close(deflatedSharpe(returnMoments([0.01, -0.02, 0.015, 0.03, -0.005, 0.01, 0, -0.01, 0.02, 0.005])!, 5, 0.01), 0.7663458818591289, 1e-12);
    assert.ok(deflatedSharpe(m, 100, 0.0004)! < deflatedSharpe(m, 5, 0.0004)!);
  });

  test('the trials are counted and their variance checked', () => {
    const bad = (e: unknown): boolean => e instanceof TasaError && e.code === 'bad_argument';
    assert.throws(() => expectedMaxSharpe(0, 0.1), bad);
    assert.throws(() => expectedMaxSharpe(2.5, 0.1), bad);
    assert.throws(() => expectedMaxSharpe(3, -1), bad);
    close(sharpeVariance([0.1, 0.2, 0.3]), 0.01, 1e-15);
    assert.equal(sharpeVariance([0.4]), 0);
  });
});
