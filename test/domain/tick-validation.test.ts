import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickValidator, type TickRejection, type TickVerdict } from '../../src/domain/tick-validation.ts';
import type { Tick } from '../../src/domain/tick.ts';

const T0 = Date.parse('2024-01-02T13:00:00Z');
let seq = 0;

function tick(price: number, fields: Partial<Tick> = {}): Tick {
  const time = T0 + 1000 * seq++;
  return { symbol: 'USD/COP', time, price, bid: null, ask: null, receivedAt: time, source: 'twelvedata_ws', ...fields };
}

function reasonOf(verdict: TickVerdict): TickRejection | 'ok' {
  return verdict.ok ? 'ok' : verdict.reason;
}

function reasons(validator: TickValidator, prices: number[]): Array<TickRejection | 'ok'> {
  return prices.map((p) => reasonOf(validator.check(tick(p))));
}

describe('TickValidator: shape checks', () => {
  const cases: Array<[string, Partial<Tick> & { price: number }, TickRejection]> = [
    ['zero price', { price: 0 }, 'non_positive_price'],
    ['negative price', { price: -3900 }, 'non_positive_price'],
    ['NaN price', { price: NaN }, 'not_finite'],
    ['infinite price', { price: Infinity }, 'not_finite'],
    ['NaN exchange time', { price: 3900, time: NaN }, 'not_finite'],
    ['NaN bid', { price: 3900, bid: NaN, ask: 3901 }, 'not_finite'],
    ['crossed quote', { price: 3900, bid: 3901, ask: 3899 }, 'bad_bid_ask'],
    ['zero bid', { price: 3900, bid: 0, ask: 3901 }, 'bad_bid_ask'],
    ['negative ask alone', { price: 3900, ask: -1 }, 'bad_bid_ask'],
    ['corrupt 1e+23 price', { price: 1e23 }, 'price_out_of_band'],
    ['price in dollars per peso', { price: 0.00025 }, 'price_out_of_band'],
    ['price above the band', { price: 10_000.01 }, 'price_out_of_band'],
  ];
  for (const [name, fields, reason] of cases) {
    it(`rejects a ${name} as ${reason}, with a detail`, () => {
      const verdict = new TickValidator({ maxJump: 0.05 }).check(tick(fields.price, fields));
      assert.equal(reasonOf(verdict), reason);
      assert.ok(!verdict.ok && verdict.detail.length > 0);
    });
  }

  it('accepts a locked quote, a one-sided quote and no quote', () => {
    const validator = new TickValidator({ maxJump: 0.05 });
    assert.deepEqual(validator.check(tick(3900, { bid: 3900, ask: 3900 })), { ok: true });
    assert.deepEqual(validator.check(tick(3900, { bid: 3899.5 })), { ok: true });
    assert.deepEqual(validator.check(tick(3900, { ask: 3900.5 })), { ok: true });
    assert.deepEqual(validator.check(tick(3900)), { ok: true });
  });

  it('explains a crossed quote', () => {
    const verdict = new TickValidator({ maxJump: 0.05 }).check(tick(3900, { bid: 3901, ask: 3899 }));
    assert.ok(!verdict.ok);
    assert.match(verdict.detail, /bid 3901 > ask 3899/);
  });

  it('rejects ticks from the future only when maxFutureMs is set', () => {
    const ahead = tick(3900, { receivedAt: T0, time: T0 + 61_000 });
    assert.equal(reasonOf(new TickValidator({ maxJump: 0.05 }).check(ahead)), 'ok');
    assert.equal(reasonOf(new TickValidator({ maxJump: 0.05, maxFutureMs: 60_000 }).check(ahead)), 'future_time');
    const onTime = tick(3900, { receivedAt: T0, time: T0 + 60_000 });
    assert.equal(reasonOf(new TickValidator({ maxJump: 0.05, maxFutureMs: 60_000 }).check(onTime)), 'ok');
  });
});

describe('TickValidator: jumps', () => {
  it('accepts the first tick and measures later ones against the last accepted price', () => {
    const validator = new TickValidator({ maxJump: 0.05 });
    assert.deepEqual(reasons(validator, [3900, 4090, 4290]), ['ok', 'ok', 'ok']); // each within 5 % of the previous
    assert.equal(validator.referencePrice(), 4290);
  });

  it('rejects an absurd jump, and the bad print does not poison the next good tick', () => {
    const validator = new TickValidator({ maxJump: 0.05 });
    // Inside the USD/COP band (1,000-10,000), so the jump check, not the band, rejects them.
    assert.deepEqual(reasons(validator, [3900, 5900, 3901, 2900, 3902]), ['ok', 'absurd_jump', 'ok', 'absurd_jump', 'ok']);
    assert.equal(validator.referencePrice(), 3902);
  });

  it('explains the jump', () => {
    const validator = new TickValidator({ maxJump: 0.05 });
    validator.check(tick(4000));
    const verdict = validator.check(tick(5000));
    assert.ok(!verdict.ok);
    assert.equal(verdict.detail, 'price 5000 is 25.00 % away from the last accepted 4000 (max 5.00 %); 1 of 5 agreeing ticks needed to accept a new level');
  });

  it('accepts a new level after 5 consecutive agreeing ticks (a real gap), then trades normally from it', () => {
    const validator = new TickValidator({ maxJump: 0.05 });
    validator.check(tick(3900));
    const run = [4300, 4310, 4295, 4305].map((p) => validator.check(tick(p)));
    assert.deepEqual(run.map(reasonOf), ['absurd_jump', 'absurd_jump', 'absurd_jump', 'absurd_jump']);
    assert.deepEqual(validator.check(tick(4302)), { ok: true, levelShift: true });
    assert.equal(validator.referencePrice(), 4302);
    assert.deepEqual(reasons(validator, [4306, 3900]), ['ok', 'absurd_jump']);
  });

  it('does not confirm a run that disagrees with itself', () => {
    const validator = new TickValidator({ maxJump: 0.05 });
    validator.check(tick(3900));
    // Each alternates between two levels 40 % apart: every tick restarts the run.
    assert.deepEqual(reasons(validator, [4500, 6300, 4500, 6300, 4500, 6300, 4500]), Array(7).fill('absurd_jump'));
    // Within 5 % of each other pairwise is required, not just of the run's first tick.
    assert.deepEqual(reasons(validator, [4400, 4600, 4390, 4610, 4400]), Array(5).fill('absurd_jump'));
    assert.equal(validator.referencePrice(), 3900);
  });

  it('restarts the count when a tick near the reference interrupts the run', () => {
    const validator = new TickValidator({ maxJump: 0.05 });
    assert.deepEqual(reasons(validator, [3900, 4300, 4300, 4300, 4300, 3905, 4300, 4300, 4300, 4300]), [
      'ok', 'absurd_jump', 'absurd_jump', 'absurd_jump', 'absurd_jump', 'ok', 'absurd_jump', 'absurd_jump', 'absurd_jump', 'absurd_jump',
    ]);
    assert.equal(reasonOf(validator.check(tick(4300))), 'ok');
  });

  it('ignores malformed ticks in the middle of a run', () => {
    const validator = new TickValidator({ maxJump: 0.05, confirmAfter: 3 });
    validator.check(tick(3900));
    assert.deepEqual(reasons(validator, [4300, NaN, 4300, -1]), ['absurd_jump', 'not_finite', 'absurd_jump', 'non_positive_price']);
    assert.deepEqual(validator.check(tick(4300)), { ok: true, levelShift: true });
  });

  it('takes the run length from confirmAfter', () => {
    const validator = new TickValidator({ maxJump: 0.05, confirmAfter: 2 });
    assert.deepEqual(reasons(validator, [3900, 4300, 4300]), ['ok', 'absurd_jump', 'ok']);
  });

  it('checks the first tick against a seeded lastPrice', () => {
    const validator = new TickValidator({ maxJump: 0.05, lastPrice: 3900 });
    assert.deepEqual(reasons(validator, [3000, 3910]), ['absurd_jump', 'ok']);
  });

  it('refuses nonsensical options', () => {
    for (const opts of [{ maxJump: 0 }, { maxJump: NaN }, { maxJump: 0.05, confirmAfter: 0 }, { maxJump: 0.05, confirmAfter: 2.5 }, { maxJump: 0.05, lastPrice: 0 }, { maxJump: 0.05, maxFutureMs: -1 }]) {
      assert.throws(() => new TickValidator(opts), RangeError, JSON.stringify(opts));
    }
  });
});

describe('TickValidator: the symbol\'s price band', () => {
  it('never confirms an out-of-band level, however many ticks agree, and names the band', () => {
    const v = new TickValidator({ maxJump: 0.05, lastPrice: 3900 });
    const verdicts = Array.from({ length: 12 }, () => v.check(tick(1e23)));
    assert.deepEqual(new Set(verdicts.map(reasonOf)), new Set(['price_out_of_band']));
    const first = verdicts[0];
    assert.ok(first !== undefined && !first.ok);
    assert.equal(first.detail, 'price 1e+23 is outside the plausible band of USD/COP, 1,000-10,000');
    assert.equal(v.referencePrice(), 3900);
    assert.equal(reasonOf(v.check(tick(3901))), 'ok');
  });

  it('accepts the edges of the band', () => {
    assert.deepEqual(reasons(new TickValidator({ maxJump: 100 }), [1000, 10_000]), ['ok', 'ok']);
  });
});
