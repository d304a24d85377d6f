import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TasaError } from '../../src/errors.ts';
import {
  createOrder,
  isFinal,
  isOpen,
  recordFill,
  remaining,
  transitionOrder,
  validateOrder,
  type Order,
  type OrderOutcome,
  type OrderRequest,
  type OrderStatus,
} from '../../src/trading/order.ts';

const T0 = Date.parse('2026-03-02T14:00:00Z');
const MID = 40_000_000n; // 4000.0000 COP
const BAND = { maxDeviationBps: 50_000n }; // 500 bps = 5 %

function request(fields: Partial<OrderRequest> = {}): OrderRequest {
  return { clientOrderId: 'c-1', symbol: 'USD/COP', side: 'buy', type: 'market', quantity: 10_000n, timeInForce: 'DAY', limitPrice: null, stopPrice: null, ...fields };
}

const accepted = (): Order => transitionOrder(createOrder(request(), T0), 'accepted', T0 + 1);

function assertConflict(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof TasaError && err.code === 'conflict' && message.test(err.message));
}

describe('order state machine', () => {
  it('walks new -> accepted -> partially filled -> filled, each step stamped', () => {
    let order = createOrder(request(), T0);
    assert.equal(order.status, 'new');
    order = transitionOrder(order, 'accepted', T0 + 1);
    order = recordFill(order, 4_000n, T0 + 2);
    assert.equal(order.status, 'partially_filled');
    assert.equal(remaining(order), 6_000n);
    order = recordFill(order, 3_000n, T0 + 3);
    order = recordFill(order, 3_000n, T0 + 4);
    assert.equal(order.status, 'filled');
    assert.equal(order.filledQuantity, 10_000n);
    assert.equal(order.fillCount, 3);
    assert.deepEqual(
      order.history.map((h) => [h.status, h.at - T0]),
      [['new', 0], ['accepted', 1], ['partially_filled', 2], ['partially_filled', 3], ['filled', 4]],
    );
  });

  it('keeps the reason of a denial, a rejection, a cancel, an expiry', () => {
    const denied = transitionOrder(createOrder(request(), T0), 'denied', T0, 'over the maximum order size');
    assert.deepEqual(denied.history.at(-1), { status: 'denied', at: T0, reason: 'over the maximum order size' });
    const rejected = transitionOrder(createOrder(request(), T0), 'rejected', T0 + 5, 'market closed');
    assert.equal(rejected.history.at(-1)?.reason, 'market closed');
    assert.equal(transitionOrder(accepted(), 'cancelled', T0 + 9, 'by trader').status, 'cancelled');
    const partial = recordFill(accepted(), 1n, T0 + 2);
    assert.equal(transitionOrder(partial, 'expired', T0 + 10, 'session close').history.at(-1)?.reason, 'session close');
  });

  it('never changes the order it is given', () => {
    const order = Object.freeze(accepted());
    const next = recordFill(order, 10_000n, T0 + 2);
    assert.equal(order.status, 'accepted');
    assert.equal(order.history.length, 2);
    assert.equal(next.history.length, 3);
  });

  it('throws on every transition the table does not allow', () => {
    const outcomes: OrderOutcome[] = ['accepted', 'cancelled', 'rejected', 'expired', 'denied'];
    const finals: Record<string, Order> = {
      filled: recordFill(accepted(), 10_000n, T0),
      cancelled: transitionOrder(accepted(), 'cancelled', T0),
      expired: transitionOrder(accepted(), 'expired', T0),
      rejected: transitionOrder(createOrder(request(), T0), 'rejected', T0),
      denied: transitionOrder(createOrder(request(), T0), 'denied', T0),
    };
    for (const [status, order] of Object.entries(finals)) {
      assert.ok(isFinal(order) && !isOpen(order), status);
      for (const to of outcomes) assertConflict(() => transitionOrder(order, to, T0 + 1), new RegExp(`from ${status} to ${to}`));
      assertConflict(() => recordFill(order, 1n, T0 + 1), /cannot/);
    }
    assertConflict(() => recordFill(createOrder(request(), T0), 1n, T0), /from new to partially_filled/);
    assertConflict(() => transitionOrder(createOrder(request(), T0), 'cancelled', T0), /from new to cancelled/);
    assertConflict(() => transitionOrder(createOrder(request(), T0), 'expired', T0), /from new to expired/);
    assertConflict(() => transitionOrder(accepted(), 'accepted', T0), /from accepted to accepted/);
    assertConflict(() => transitionOrder(accepted(), 'denied', T0), /from accepted to denied/);
    assertConflict(() => transitionOrder(accepted(), 'rejected', T0), /from accepted to rejected/);
  });

  it('refuses a fill of nothing or of more than remains', () => {
    assertConflict(() => recordFill(accepted(), 0n, T0), /fill of 0 cents: 10000 cents remain/);
    assertConflict(() => recordFill(accepted(), -1n, T0), /fill of -1 cents/);
    assertConflict(() => recordFill(recordFill(accepted(), 9_999n, T0), 2n, T0), /fill of 2 cents: 1 cents remain/);
  });

  it('tells open from final', () => {
    const statuses: [Order, OrderStatus, boolean, boolean][] = [
      [createOrder(request(), T0), 'new', false, false],
      [accepted(), 'accepted', true, false],
      [recordFill(accepted(), 1n, T0), 'partially_filled', true, false],
    ];
    for (const [order, status, open, final] of statuses) {
      assert.equal(order.status, status);
      assert.equal(isOpen(order), open, status);
      assert.equal(isFinal(order), final, status);
    }
  });
});

describe('validateOrder', () => {
  const codeOf = (fields: Partial<OrderRequest>, mid: bigint | null = MID) => validateOrder(request(fields), mid, BAND)?.code ?? null;

  it('passes well-formed market, limit and stop orders', () => {
    assert.equal(codeOf({}), null);
    assert.equal(codeOf({}, null), null, 'a market order needs no reference price');
    assert.equal(codeOf({ type: 'limit', limitPrice: 39_900_000n }), null);
    assert.equal(codeOf({ type: 'stop', side: 'sell', stopPrice: 39_500_000n, timeInForce: 'GTC' }), null);
  });

  it('names each problem', () => {
    assert.equal(codeOf({ clientOrderId: '' }), 'bad_client_order_id');
    assert.equal(codeOf({ clientOrderId: 'has space' }), 'bad_client_order_id');
    assert.equal(codeOf({ clientOrderId: 'x'.repeat(65) }), 'bad_client_order_id');
    assert.equal(codeOf({ symbol: 'GBP/JPY' }), 'unknown_symbol');
    // Configured, but quoted in a currency the COP paper account cannot book.
    assert.equal(codeOf({ symbol: 'EUR/USD' }), 'unsupported_symbol');
    assert.equal(codeOf({ symbol: 'USD/BRL' }), 'unsupported_symbol');
    assert.equal(codeOf({ quantity: 0n }), 'bad_quantity');
    assert.equal(codeOf({ quantity: -100n }), 'bad_quantity');
    assert.equal(codeOf({ type: 'limit' }), 'missing_price');
    assert.equal(codeOf({ type: 'stop' }), 'missing_price');
    assert.equal(codeOf({ type: 'stop', limitPrice: MID, stopPrice: MID }), 'unexpected_price');
    assert.equal(codeOf({ limitPrice: MID }), 'unexpected_price');
    assert.equal(codeOf({ stopPrice: MID }), 'unexpected_price');
    assert.equal(codeOf({ type: 'limit', limitPrice: 0n }), 'bad_price');
    assert.equal(codeOf({ type: 'limit', limitPrice: MID }, null), 'no_reference_price');
    const problem = validateOrder(request({ type: 'limit', limitPrice: 50_000_000n }), MID, BAND);
    assert.deepEqual(problem, { code: 'price_outside_band', reason: 'limit price 5000.0000 is more than 500.00 bps from the market mid 4000.0000' });
  });

  it('accepts a price exactly on the band and refuses one unit beyond', () => {
    const edge = 2_000_000n; // 5 % of 4000.0000 = 200.0000
    assert.equal(codeOf({ type: 'limit', limitPrice: MID + edge }), null);
    assert.equal(codeOf({ type: 'limit', limitPrice: MID - edge }), null);
    assert.equal(codeOf({ type: 'limit', limitPrice: MID + edge + 1n }), 'price_outside_band');
    assert.equal(codeOf({ type: 'stop', stopPrice: MID - edge - 1n }), 'price_outside_band');
  });
});
