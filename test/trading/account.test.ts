import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/domain/random.ts';
import { TasaError } from '../../src/errors.ts';
import { applyFillToAccount, openAccount, valueAccount, type Account } from '../../src/trading/account.ts';
import { notional, type Centavos, type Price } from '../../src/trading/money.ts';
import type { Fill } from '../../src/trading/fill-model.ts';

const SYMBOL = 'USD/COP';
const INITIAL: Centavos = 1_000_000_000_00n; // 1,000,000,000.00 COP

function fill(side: 'buy' | 'sell', quantity: bigint, price: Price, fee: Centavos, symbol = SYMBOL): Fill {
  return { clientOrderId: 'c', seq: 1, symbol, side, time: 0, quantity, price, notional: notional(quantity, price), fee };
}

/** cash + positions at the marks = initial + realized + unrealized - fees, to the centavo. */
function assertBalances(account: Account, marks: Record<string, Price>, context: string): void {
  const { marketValue, unrealizedPnl, equity } = valueAccount(account, marks);
  assert.equal(equity, account.cash + marketValue, context);
  assert.equal(account.cash + marketValue, account.initialCash + account.realizedPnl + unrealizedPnl - account.fees, context);
}

describe('account', () => {
  it('moves cash by the notional and the fee', () => {
    let account = openAccount(INITIAL);
    account = applyFillToAccount(account, fill('buy', 10_000n, 40_000_000n, 2_500n));
    assert.equal(account.cash, INITIAL - 40_000_000n - 2_500n);
    account = applyFillToAccount(account, fill('sell', 10_000n, 40_100_000n, 2_500n));
    assert.equal(account.cash, INITIAL + 100_000n - 5_000n);
    assert.equal(account.realizedPnl, 100_000n);
    assert.equal(account.fees, 5_000n);
    assert.deepEqual(account.positions[SYMBOL], { symbol: SYMBOL, quantity: 0n, costBasis: 0n, realizedPnl: 100_000n });
    assertBalances(account, {}, 'flat: no mark needed');
  });

  it('keeps each symbol apart and needs a mark for each open one', () => {
    let account = applyFillToAccount(openAccount(INITIAL), fill('buy', 100n, 40_000_000n, 0n));
    account = applyFillToAccount(account, fill('sell', 100n, 10_000n, 0n, 'EUR/COP'));
    assert.equal(Object.keys(account.positions).length, 2);
    assertBalances(account, { [SYMBOL]: 41_000_000n, 'EUR/COP': 9_000n }, 'two symbols');
    assert.throws(() => valueAccount(account, { [SYMBOL]: 41_000_000n }), (err: unknown) => err instanceof TasaError && /EUR\/COP/.test(err.message));
  });

  it('refuses a negative initial cash', () => {
    assert.throws(() => openAccount(-1n), (err: unknown) => err instanceof TasaError && err.code === 'bad_argument');
  });

  it('balances to the centavo after every one of 20,000 random fills, flips and partial closes included', () => {
    const rng = new Rng(12);
    let account = openAccount(INITIAL);
    let mid = 40_000_000n;
    let boughtMinusSold = 0n;
    for (let i = 0; i < 20_000; i++) {
      mid += BigInt(rng.int(2_001) - 1_000) * 100n; // +-0.1 COP steps of 0.01 COP
      const price = mid + BigInt(rng.int(20_000) - 10_000); // any price unit, not just quote decimals
      const side = rng.chance(0.5) ? 'buy' : 'sell';
      const quantity = BigInt(1 + rng.int(rng.chance(0.1) ? 5_000_000 : 30_000));
      const f = fill(side, quantity, price, BigInt(rng.int(30_000)));
      boughtMinusSold += side === 'buy' ? f.notional : -f.notional;
      account = applyFillToAccount(account, f);
      assertBalances(account, { [SYMBOL]: mid + BigInt(rng.int(1_001) - 500) }, `after fill ${i}`);
    }
    const position = account.positions[SYMBOL];
    assert.ok(position);
    assert.equal(position.costBasis - position.realizedPnl, boughtMinusSold, 'cost basis and realized P&L account for every notional');
  });

  it('has no drift over 10,000 small fills: a round trip at one price realizes exactly nothing', () => {
    let account = openAccount(INITIAL);
    const price = 40_012_300n; // 4001.23
    for (let i = 0; i < 10_000; i++) account = applyFillToAccount(account, fill('buy', 137n, price, 7n));
    const position = account.positions[SYMBOL];
    assert.equal(position?.quantity, 1_370_000n);
    assert.equal(position?.costBasis, 10_000n * notional(137n, price));
    for (let i = 0; i < 10_000; i++) account = applyFillToAccount(account, fill('sell', 137n, price, 7n));
    assert.equal(account.realizedPnl, 0n);
    assert.equal(account.fees, 140_000n);
    assert.equal(account.cash, INITIAL - 140_000n);
    assert.deepEqual(account.positions[SYMBOL], { symbol: SYMBOL, quantity: 0n, costBasis: 0n, realizedPnl: 0n });
  });
});
