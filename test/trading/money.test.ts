import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TasaError } from '../../src/errors.ts';
import {
  bpsOf,
  divideHalfEven,
  formatBps,
  formatCop,
  formatDecimal,
  formatPrice,
  formatUsd,
  notional,
  parseBps,
  parseCop,
  parseDecimal,
  parsePrice,
  parseUsd,
  unitPrice,
} from '../../src/trading/money.ts';

function assertBadArgument(fn: () => unknown, input: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TasaError);
    assert.equal(err.code, 'bad_argument');
    assert.equal(err.input, input);
    assert.match(err.message, message);
    return true;
  });
}

describe('divideHalfEven', () => {
  it('rounds to the nearest integer, ties to the even one, on both signs', () => {
    const cases: [bigint, bigint, bigint][] = [
      [7n, 2n, 4n], // 3.5 -> 4
      [5n, 2n, 2n], // 2.5 -> 2
      [-7n, 2n, -4n],
      [-5n, 2n, -2n],
      [10n, 4n, 2n], // 2.5 -> 2
      [11n, 4n, 3n], // 2.75 -> 3
      [-11n, 4n, -3n],
      [9n, 4n, 2n], // 2.25 -> 2
      [0n, 7n, 0n],
      [12n, 4n, 3n],
    ];
    for (const [n, d, want] of cases) assert.equal(divideHalfEven(n, d), want, `${n}/${d}`);
  });

  it('refuses a denominator that is not positive', () => {
    assert.throws(() => divideHalfEven(1n, 0n), /positive denominator/);
  });
});

describe('parseDecimal', () => {
  it('reads strings and numbers exactly on the scale', () => {
    assert.equal(parsePrice('4000.12'), 40_001_200n);
    assert.equal(parsePrice(4000.12), 40_001_200n);
    assert.equal(parsePrice('4000.1234'), 40_001_234n);
    assert.equal(parsePrice(' 4000 '), 40_000_000n);
    assert.equal(parseUsd('.5'), 50n);
    assert.equal(parseUsd('+12.30'), 1230n);
    assert.equal(parseUsd('12.300000'), 1230n, 'trailing zeros are not extra decimals');
    assert.equal(parseUsd(1e21), 10n ** 23n);
    assert.equal(parseUsd('1.5e3'), 150_000n);
    assert.equal(parseUsd('2500e-2'), 2500n);
    assert.equal(parseUsd(0.07), 7n);
    assert.equal(parseCop('-12.05', 'pnl', true), -1205n);
    assert.equal(parseBps('1.5', 'slippage'), 150n);
    assert.equal(parseUsd('-0'), 0n, 'minus zero is zero, not a negative');
  });

  it('refuses more decimals than the scale, naming the input', () => {
    assertBadArgument(() => parseUsd('10.001'), 'quantity=10.001', /quantity has more than 2 decimals/);
    assertBadArgument(() => parsePrice('4000.12345', 'limit price'), 'limit price=4000.12345', /more than 4 decimals/);
    assertBadArgument(() => parseUsd(0.1 + 0.2), 'quantity=0.30000000000000004', /more than 2 decimals/);
    assertBadArgument(() => parseUsd('1e-3'), 'quantity=1e-3', /more than 2 decimals/);
  });

  it('rounds half to even instead when asked', () => {
    assert.equal(parsePrice(4000.12345, 'tick', 'half_even'), 40_001_234n);
    assert.equal(parsePrice(4000.12355, 'tick', 'half_even'), 40_001_236n);
    assert.equal(parsePrice('4000.123450', 'tick', 'half_even'), 40_001_234n);
    assert.equal(parseDecimal('-0.125', 2, { name: 'x', allowNegative: true, rounding: 'half_even' }), -12n);
  });

  it('refuses NaN, Infinity, negatives where not allowed and anything not a plain decimal', () => {
    assertBadArgument(() => parseUsd(Number.NaN), 'quantity=NaN', /finite/);
    assertBadArgument(() => parseUsd(Number.POSITIVE_INFINITY), 'quantity=Infinity', /finite/);
    assertBadArgument(() => parseUsd(Number.NEGATIVE_INFINITY), 'quantity=-Infinity', /finite/);
    assertBadArgument(() => parseUsd('-5'), 'quantity=-5', /must not be negative/);
    assertBadArgument(() => parseCop(-0.01, 'cash'), 'cash=-0.01', /must not be negative/);
    for (const text of ['', ' ', 'abc', '1,000', '1.', '--1', '+', '.', '1.2.3', '0x10', '1e', 'e5', '1e999', 'Infinity']) {
      assertBadArgument(() => parseUsd(text), `quantity=${text.trim()}`, /not a decimal number/);
    }
  });
});

describe('formatting', () => {
  it('writes exactly the scale of decimals, and round-trips through parsing', () => {
    assert.equal(formatPrice(40_001_200n), '4000.1200');
    assert.equal(formatUsd(5n), '0.05');
    assert.equal(formatUsd(0n), '0.00');
    assert.equal(formatCop(-1205n), '-12.05');
    assert.equal(formatCop(-5n), '-0.05');
    assert.equal(formatBps(150n), '1.50');
    assert.equal(formatDecimal(-42n, 0), '-42');
    for (const units of [0n, 1n, -1n, 99n, 100n, -123_456_789n, 10n ** 30n]) {
      assert.equal(parseCop(formatCop(units), 'x', true), units);
      assert.equal(parsePrice(formatPrice(units < 0n ? -units : units)), units < 0n ? -units : units);
    }
  });
});

describe('conversions', () => {
  it('values a USD quantity at a price in centavos, half to even', () => {
    assert.equal(notional(10_000n, 40_001_234n), 40_001_234n, '100 USD x 4000.1234 = 400012.34 COP');
    assert.equal(notional(1n, 40_005_000n), 4000n, '0.01 USD x 4000.5 = 40.005 COP -> 40.00 (tie, even)');
    assert.equal(notional(1n, 40_015_000n), 4002n, '40.015 COP -> 40.02 (tie, even)');
    assert.equal(notional(1n, 40_015_001n), 4002n);
    assert.equal(notional(-1n, 40_005_000n), -4000n, 'symmetric for a short');
  });

  it('takes basis points of an amount and inverts a notional', () => {
    assert.equal(bpsOf(1_000_000n, 150n), 150n, '1.5 bps of 10,000 COP is 1.50 COP');
    assert.equal(bpsOf(333n, 5000n), 2n, '50 bps of 333 centavos = 1.665 -> 2');
    assert.equal(bpsOf(100n, 5000n), 0n, '50 bps of 100 centavos = 0.5 -> 0 (tie, even)');
    assert.equal(bpsOf(300n, 5000n), 2n, '1.5 -> 2 (tie, even)');
    assert.equal(unitPrice(40_001_234n, 10_000n), 40_001_234n);
    assert.equal(unitPrice(-40_001_234n, -10_000n), 40_001_234n);
    assert.equal(unitPrice(100n, 3n), 333_333n, '1 COP for 0.03 USD = 33.3333 COP per USD');
  });
});
