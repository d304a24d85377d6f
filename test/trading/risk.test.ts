import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TasaError } from '../../src/errors.ts';
import type { OrderRequest } from '../../src/trading/order.ts';
import {
  checkOrder,
  haltTrading,
  resetTradingState,
  updateTradingState,
  validateRiskLimits,
  type RiskContext,
  type RiskLimits,
  type RiskState,
} from '../../src/trading/risk.ts';

const NOW = Date.parse('2026-03-02T15:00:00Z');
const ACTIVE: RiskState = resetTradingState(NOW - 3_600_000, 'session start');
const LIMITS: RiskLimits = {
  maxPosition: 100_000n, // 1,000 USD
  maxOrderSize: 50_000n, // 500 USD
  maxOrdersPerMinute: 3,
  dailyLossLimit: 1_000_000n, // 10,000 COP
  reduceOnlyLoss: 500_000n,
  flattenOnHalt: true,
};

function order(side: 'buy' | 'sell', quantity: bigint): OrderRequest {
  return { clientOrderId: 'c', symbol: 'USD/COP', side, type: 'market', quantity, timeInForce: 'DAY', limitPrice: null, stopPrice: null };
}

function context(fields: Partial<RiskContext> = {}): RiskContext {
  return { state: ACTIVE, position: 0n, openBuys: 0n, openSells: 0n, recentOrderTimes: [], dailyPnl: 0n, now: NOW, ...fields };
}

const codeOf = (o: OrderRequest, fields: Partial<RiskContext> = {}, limits = LIMITS) => {
  const decision = checkOrder(o, context(fields), limits);
  return decision.accepted ? null : decision.code;
};

describe('checkOrder', () => {
  it('accepts an order within every limit', () => {
    assert.deepEqual(checkOrder(order('buy', 50_000n), context({ position: 50_000n }), LIMITS), { accepted: true });
  });

  it('denies an order above the maximum order size, and not one equal to it', () => {
    assert.equal(codeOf(order('buy', 50_000n)), null);
    const decision = checkOrder(order('sell', 50_001n), context(), LIMITS);
    assert.deepEqual(decision, { accepted: false, code: 'max_order_size', reason: 'order of 500.01 USD is above the maximum order size of 500.00 USD' });
  });

  it('denies an order that could take the position past the maximum, counting open orders on its side', () => {
    assert.equal(codeOf(order('buy', 40_000n), { position: 60_000n }), null, 'exactly at the maximum');
    assert.equal(codeOf(order('buy', 40_001n), { position: 60_000n }), 'max_position');
    assert.equal(codeOf(order('buy', 20_000n), { position: 60_000n, openBuys: 30_000n }), 'max_position');
    assert.equal(codeOf(order('buy', 20_000n), { position: 60_000n, openSells: 30_000n }), null, 'open sells do not offset the worst case');
    assert.equal(codeOf(order('sell', 30_000n), { position: -80_000n }), 'max_position');
    const decision = checkOrder(order('sell', 30_000n), context({ position: -80_000n }), LIMITS);
    assert.equal(decision.accepted ? '' : decision.reason, 'the position could reach -1100.00 USD, beyond the maximum of 1000.00 USD');
  });

  it('lets an order shrink a position that is already over the maximum', () => {
    assert.equal(codeOf(order('buy', 30_000n), { position: -150_000n }), null);
    assert.equal(codeOf(order('sell', 10_000n), { position: 150_000n }), null);
    assert.equal(codeOf(order('buy', 1n), { position: 150_000n }), 'max_position');
  });

  it('limits orders per minute over a sliding 60 s window', () => {
    const three = [NOW - 59_999, NOW - 30_000, NOW];
    assert.equal(codeOf(order('buy', 1n), { recentOrderTimes: three }), 'order_rate');
    assert.equal(codeOf(order('buy', 1n), { recentOrderTimes: [NOW - 60_000, NOW - 30_000, NOW] }), null, 'exactly 60 s ago has left the window');
    assert.equal(codeOf(order('buy', 1n), { recentOrderTimes: [NOW - 59_999, NOW - 30_000, NOW + 1] }), null, 'a later time is not in the window ending now');
    const decision = checkOrder(order('buy', 1n), context({ recentOrderTimes: three }), LIMITS);
    assert.equal(decision.accepted ? '' : decision.reason, '3 orders in the last minute; the limit is 3');
  });

  it('denies every order while halted, reducing ones included', () => {
    const halted = haltTrading(ACTIVE, NOW, 'admin pulled the switch', false).state;
    const decision = checkOrder(order('sell', 1n), context({ state: halted, position: 10_000n }), LIMITS);
    assert.deepEqual(decision, { accepted: false, code: 'halted', reason: 'trading is halted: admin pulled the switch' });
  });

  it('denies on the daily loss limit even before the state has been updated', () => {
    assert.equal(codeOf(order('buy', 1n), { dailyPnl: -999_999n }), 'reduce_only');
    const decision = checkOrder(order('sell', 1n), context({ dailyPnl: -1_000_000n, position: 10_000n }), LIMITS);
    assert.deepEqual(decision, { accepted: false, code: 'daily_loss_limit', reason: "the day's loss of 10000.00 COP reached the daily loss limit of 10000.00 COP" });
  });

  it('accepts only reducing orders while reducing, never one that could flip the position', () => {
    const reducing: RiskState = { mode: 'REDUCING', since: NOW, reason: 'loss' };
    assert.equal(codeOf(order('sell', 10_000n), { state: reducing, position: 10_000n }), null);
    assert.equal(codeOf(order('sell', 10_001n), { state: reducing, position: 10_000n }), 'reduce_only');
    assert.equal(codeOf(order('sell', 6_000n), { state: reducing, position: 10_000n, openSells: 5_000n }), 'reduce_only');
    assert.equal(codeOf(order('buy', 10_000n), { state: reducing, position: -10_000n }), null);
    assert.equal(codeOf(order('buy', 1n), { state: reducing, position: 10_000n }), 'reduce_only');
    const decision = checkOrder(order('sell', 1n), context({ state: reducing, position: 0n }), LIMITS);
    assert.deepEqual(decision, { accepted: false, code: 'reduce_only', reason: 'trading is reduce-only and this order does not reduce the position of 0.00 USD' });
    assert.equal(codeOf(order('sell', 1n), { dailyPnl: -500_000n, position: 0n }), 'reduce_only', 'the reduce-only loss alone');
    assert.equal(codeOf(order('sell', 1n), { dailyPnl: -500_000n, position: 0n }, { ...LIMITS, reduceOnlyLoss: null }), null, 'no reduce-only step');
  });
});

describe('trading state', () => {
  it('escalates ACTIVE -> REDUCING -> HALTED with the loss, and asks to cancel and flatten on halting', () => {
    const small = updateTradingState(ACTIVE, -499_999n, LIMITS, NOW);
    assert.deepEqual(small, { state: ACTIVE, cancelOpenOrders: false, flatten: false });
    const reducing = updateTradingState(ACTIVE, -500_000n, LIMITS, NOW);
    assert.equal(reducing.state.mode, 'REDUCING');
    assert.equal(reducing.state.since, NOW);
    assert.equal(reducing.cancelOpenOrders, false);
    const halted = updateTradingState(reducing.state, -1_000_000n, LIMITS, NOW + 1);
    assert.deepEqual(halted, {
      state: { mode: 'HALTED', since: NOW + 1, reason: "the day's loss of 10000.00 COP reached the daily loss limit of 10000.00 COP" },
      cancelOpenOrders: true,
      flatten: true,
    });
    assert.equal(updateTradingState(ACTIVE, -2_000_000n, { ...LIMITS, flattenOnHalt: false }, NOW).flatten, false);
  });

  it('never de-escalates by itself; only a reset returns to ACTIVE', () => {
    const halted = updateTradingState(ACTIVE, -1_000_000n, LIMITS, NOW).state;
    assert.deepEqual(updateTradingState(halted, 5_000_000n, LIMITS, NOW + 1), { state: halted, cancelOpenOrders: false, flatten: false });
    const reducing: RiskState = { mode: 'REDUCING', since: NOW, reason: 'loss' };
    assert.equal(updateTradingState(reducing, 0n, LIMITS, NOW + 1).state, reducing);
    assert.deepEqual(resetTradingState(NOW + 2, 'admin reset'), { mode: 'ACTIVE', since: NOW + 2, reason: 'admin reset' });
  });

  it('halts by hand once: a second halt asks for nothing more', () => {
    const first = haltTrading(ACTIVE, NOW, 'manual', true);
    assert.deepEqual(first, { state: { mode: 'HALTED', since: NOW, reason: 'manual' }, cancelOpenOrders: true, flatten: true });
    assert.deepEqual(haltTrading(first.state, NOW + 5, 'again', true), { state: first.state, cancelOpenOrders: false, flatten: false });
  });
});

describe('validateRiskLimits', () => {
  it('returns sound limits and names the field at fault otherwise', () => {
    assert.equal(validateRiskLimits(LIMITS), LIMITS);
    const bad: [Partial<RiskLimits>, string][] = [
      [{ maxPosition: 0n }, 'maxPosition'],
      [{ maxOrderSize: -1n }, 'maxOrderSize'],
      [{ maxOrdersPerMinute: 0 }, 'maxOrdersPerMinute'],
      [{ maxOrdersPerMinute: 1.5 }, 'maxOrdersPerMinute'],
      [{ dailyLossLimit: 0n }, 'dailyLossLimit'],
      [{ reduceOnlyLoss: 1_000_000n }, 'reduceOnlyLoss'],
      [{ reduceOnlyLoss: 0n }, 'reduceOnlyLoss'],
    ];
    for (const [fields, input] of bad) {
      assert.throws(() => validateRiskLimits({ ...LIMITS, ...fields }), (err: unknown) => err instanceof TasaError && err.code === 'bad_argument' && err.input === input, input);
    }
  });
});
