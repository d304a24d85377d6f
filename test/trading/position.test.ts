import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notional, parsePrice, parseUsd } from '../../src/trading/money.ts';
import type { Fill } from '../../src/trading/fill-model.ts';
import { applyFillToPosition, averagePrice, flatPosition, marketValue, unrealizedPnl, type Position } from '../../src/trading/position.ts';

function fill(side: 'buy' | 'sell', usd: string, price: string): Fill {
  const quantity = parseUsd(usd);
  const p = parsePrice(price);
  return { clientOrderId: 'c', seq: 1, symbol: 'USD/COP', side, time: 0, quantity, price: p, notional: notional(quantity, p), fee: 0n };
}

const apply = (fills: Fill[], start: Position = flatPosition('USD/COP')): Position => fills.reduce(applyFillToPosition, start);

describe('positions', () => {
  it('opens and adds to a long, averaging the price', () => {
    const position = apply([fill('buy', '100', '4000'), fill('buy', '300', '4004')]);
    assert.deepEqual(position, { symbol: 'USD/COP', quantity: 40_000n, costBasis: 160_120_000n, realizedPnl: 0n });
    assert.equal(averagePrice(position), parsePrice('4003'));
  });

  it('realizes the closed share on a partial close and keeps the average', () => {
    const position = apply([fill('buy', '100', '4000'), fill('buy', '300', '4004'), fill('sell', '100', '4010')]);
    assert.equal(position.quantity, 30_000n);
    // A quarter of 1,601,200.00 COP of cost goes out (400,300.00) against 401,000.00 received: +700.00.
    assert.equal(position.realizedPnl, 70_000n);
    assert.equal(position.costBasis, 120_090_000n);
    assert.equal(averagePrice(position), parsePrice('4003'));
  });

  it('closes to exactly zero cost and a null average', () => {
    const position = apply([fill('buy', '0.03', '4000.01'), fill('sell', '0.01', '4000.02'), fill('sell', '0.02', '3999.99')]);
    assert.equal(position.quantity, 0n);
    assert.equal(position.costBasis, 0n);
    assert.equal(averagePrice(position), null);
    // Cash view: paid 120.00 (120.0003 rounded), received 40.00 + 80.00.
    assert.equal(position.realizedPnl, 0n);
  });

  it('gains on a short when the price falls', () => {
    const position = apply([fill('sell', '200', '4010'), fill('buy', '50', '4000')]);
    assert.equal(position.quantity, -15_000n);
    assert.equal(position.costBasis, -60_150_000n, 'received 601,500.00 COP for the 150 USD still short');
    assert.equal(position.realizedPnl, 50_000n, '50 USD x 10 COP');
    assert.equal(averagePrice(position), parsePrice('4010'));
  });

  it('flips through zero: closes the old side, opens the new one at the fill price', () => {
    const position = apply([fill('buy', '100', '4000'), fill('sell', '250', '4020')]);
    assert.equal(position.quantity, -15_000n);
    assert.equal(position.realizedPnl, 200_000n, '100 USD x 20 COP');
    assert.equal(position.costBasis, -60_300_000n);
    assert.equal(averagePrice(position), parsePrice('4020'));
  });

  it('splits a flip notional into parts that sum to it', () => {
    // 0.03 USD at 4000.0050 = 120.00015 COP -> 120.00; the close takes 1/3 of it, rounded.
    const position = apply([fill('buy', '0.01', '4000'), fill('sell', '0.03', '4000.005')]);
    const soldFor = notional(3n, parsePrice('4000.005'));
    assert.equal(position.realizedPnl - position.costBasis, soldFor - notional(1n, parsePrice('4000')), 'every centavo accounted for');
  });

  it('marks at a price for value and unrealized P&L', () => {
    const long = apply([fill('buy', '100', '4000')]);
    assert.equal(marketValue(long, parsePrice('4012.5')), 40_125_000n);
    assert.equal(unrealizedPnl(long, parsePrice('4012.5')), 125_000n);
    const short = apply([fill('sell', '100', '4000')]);
    assert.equal(marketValue(short, parsePrice('4012.5')), -40_125_000n);
    assert.equal(unrealizedPnl(short, parsePrice('4012.5')), -125_000n);
    assert.equal(unrealizedPnl(flatPosition('USD/COP'), parsePrice('4012.5')), 0n);
  });
});
