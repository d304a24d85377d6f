import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fairShares, type RequestNeed } from '../../src/jobs/fair-share.ts';

const needs = (...pairs: Array<[string, number]>): RequestNeed[] => pairs.map(([key, needed]) => ({ key, needed }));
const shares = (n: RequestNeed[], budget: number) => Object.fromEntries(fairShares(n, budget));

describe('fairShares', () => {
  it('gives every key its need when the budget covers them all', () => {
    assert.deepEqual(shares(needs(['a', 4], ['b', 3], ['c', 1]), 20), { a: 4, b: 3, c: 1 });
    assert.deepEqual(shares(needs(['a', 4], ['b', 3], ['c', 1]), Number.POSITIVE_INFINITY), { a: 4, b: 3, c: 1 });
  });

  it('splits a short budget equally when every key needs more than its share', () => {
    assert.deepEqual(shares(needs(['a', 10], ['b', 10], ['c', 10]), 9), { a: 3, b: 3, c: 3 });
  });

  it('hands the share a key does not need to the others (max-min)', () => {
    // Equal share 2; c needs 1, so a and b split the 5 left: 2 each, the odd one to a (first in order).
    assert.deepEqual(shares(needs(['a', 4], ['b', 3], ['c', 1]), 6), { a: 3, b: 2, c: 1 });
    // b is satisfied in the second round; a takes the rest.
    assert.deepEqual(shares(needs(['a', 20], ['b', 4], ['c', 1]), 12), { a: 7, b: 4, c: 1 });
  });

  it('gives a remainder smaller than the keys one each, in the given order', () => {
    assert.deepEqual(shares(needs(['a', 5], ['b', 5], ['c', 5]), 2), { a: 1, b: 1, c: 0 });
    assert.deepEqual(shares(needs(['a', 5], ['b', 5], ['c', 5]), 7), { a: 3, b: 2, c: 2 });
  });

  it('never allows more than the need nor more than the budget', () => {
    for (const budget of [0, 1, 2, 3, 5, 8, 13, 21, 40]) {
      const n = needs(['a', 9], ['b', 0], ['c', 2], ['d', 6], ['e', 1]);
      const got = fairShares(n, budget);
      const total = [...got.values()].reduce((s, x) => s + x, 0);
      assert.equal(total, Math.min(budget, 18), `budget ${budget}`);
      for (const { key, needed } of n) assert.ok((got.get(key) ?? -1) >= 0 && (got.get(key) ?? 99) <= needed, `${key} at budget ${budget}`);
      // Max-min: a key below its need has at least as much as any other key, less one for the remainder.
      const max = Math.max(...got.values());
      for (const { key, needed } of n) if ((got.get(key) ?? 0) < needed) assert.ok((got.get(key) ?? 0) >= max - 1, `${key} starved at budget ${budget}`);
    }
  });

  it('allows nothing for a zero budget or a key without need', () => {
    assert.deepEqual(shares(needs(['a', 3], ['b', 0]), 0), { a: 0, b: 0 });
    assert.deepEqual(shares(needs(['a', 3], ['b', 0]), 10), { a: 3, b: 0 });
  });
});
