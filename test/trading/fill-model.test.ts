import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TasaError } from '../../src/errors.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { decideFill, quoteFromTick, type FillModelConfig, type Quote } from '../../src/trading/fill-model.ts';
import { createOrder, recordFill, transitionOrder, type Order, type OrderRequest } from '../../src/trading/order.ts';

const T0 = Date.parse('2026-03-02T14:00:00Z');
const NO_COSTS: FillModelConfig = { slippageBps: 0n, feeBps: 0n, fixedFee: 0n, maxFillPerTick: null };
/** 4000.00 / 4004.00 in price units (1e-4 COP). */
const BID = 40_000_000n;
const ASK = 40_040_000n;

function quote(bid: bigint | null = BID, ask: bigint | null = ASK, price = 40_020_000n, time = T0 + 1_000): Quote {
  return { time, bid, ask, price };
}

function request(fields: Partial<OrderRequest> = {}): OrderRequest {
  return { clientOrderId: 'c-1', symbol: 'USD/COP', side: 'buy', type: 'market', quantity: 10_000n, timeInForce: 'DAY', limitPrice: null, stopPrice: null, ...fields };
}

function open(fields: Partial<OrderRequest> = {}): Order {
  return transitionOrder(createOrder(request(fields), T0), 'accepted', T0);
}

const priceOf = (order: Order, q: Quote, config = NO_COSTS) => decideFill(order, q, config)?.price ?? null;

describe('market orders', () => {
  it('buy at the ask, sell at the bid, on the tick they are given', () => {
    const fill = decideFill(open(), quote(), NO_COSTS);
    assert.deepEqual(fill, {
      clientOrderId: 'c-1',
      seq: 1,
      symbol: 'USD/COP',
      side: 'buy',
      time: T0 + 1_000,
      quantity: 10_000n,
      price: ASK,
      notional: 40_040_000n, // 100 USD x 4004 = 400,400.00 COP
      fee: 0n,
    });
    assert.equal(priceOf(open({ side: 'sell' }), quote()), BID);
  });

  it('add slippage against the trader, rounded half to even to the price scale', () => {
    const config = { ...NO_COSTS, slippageBps: 150n }; // 1.5 bps
    assert.equal(priceOf(open(), quote(), config), ASK + 6_006n, '4004 x 1.5 bps = 0.6006 COP');
    assert.equal(priceOf(open({ side: 'sell' }), quote(), config), BID - 6_000n);
    assert.equal(priceOf(open(), quote(null, 33_333n), config), 33_333n + 5n, '3.3333 x 1.5 bps = 0.000499995 -> 5 units');
  });

  it('use the last price for a missing bid or ask', () => {
    assert.equal(priceOf(open(), quote(BID, null, 40_010_000n)), 40_010_000n);
    assert.equal(priceOf(open({ side: 'sell' }), quote(null, ASK, 40_010_000n)), 40_010_000n);
    assert.equal(priceOf(open({ side: 'sell' }), quote(null, null, 40_010_000n)), 40_010_000n);
  });
});

describe('limit orders', () => {
  it('buy fills when the ask reaches the limit, at the ask, with no slippage', () => {
    const config = { ...NO_COSTS, slippageBps: 500n };
    assert.equal(priceOf(open({ type: 'limit', limitPrice: ASK }), quote(), config), ASK, 'ask == limit fills at the limit');
    assert.equal(priceOf(open({ type: 'limit', limitPrice: ASK + 500n }), quote(), config), ASK, 'ask below the limit: the better price');
    assert.equal(priceOf(open({ type: 'limit', limitPrice: ASK - 1n }), quote(), config), null, 'one unit short: no fill');
    assert.equal(priceOf(open({ type: 'limit', limitPrice: BID }), quote(), config), null, 'the bid touching does not fill a buy');
  });

  it('sell fills when the bid reaches the limit, at the bid', () => {
    assert.equal(priceOf(open({ side: 'sell', type: 'limit', limitPrice: BID }), quote()), BID);
    assert.equal(priceOf(open({ side: 'sell', type: 'limit', limitPrice: BID - 700n }), quote()), BID);
    assert.equal(priceOf(open({ side: 'sell', type: 'limit', limitPrice: BID + 1n }), quote()), null);
    assert.equal(priceOf(open({ side: 'sell', type: 'limit', limitPrice: ASK }), quote()), null);
  });
});

describe('stop orders', () => {
  it('buy triggers when the ask reaches the stop, then fills like a market order', () => {
    const config = { ...NO_COSTS, slippageBps: 100n };
    assert.equal(priceOf(open({ type: 'stop', stopPrice: ASK }), quote(), config), ASK + 4_004n, 'ask == stop triggers');
    assert.equal(priceOf(open({ type: 'stop', stopPrice: ASK - 1n }), quote(), config), ASK + 4_004n);
    assert.equal(priceOf(open({ type: 'stop', stopPrice: ASK + 1n }), quote(), config), null);
  });

  it('sell triggers when the bid reaches the stop', () => {
    assert.equal(priceOf(open({ side: 'sell', type: 'stop', stopPrice: BID }), quote()), BID);
    assert.equal(priceOf(open({ side: 'sell', type: 'stop', stopPrice: BID + 1n }), quote()), BID);
    assert.equal(priceOf(open({ side: 'sell', type: 'stop', stopPrice: BID - 1n }), quote()), null);
  });

  it('keeps filling once triggered, even when the quote moves back', () => {
    const config = { ...NO_COSTS, maxFillPerTick: 4_000n };
    let order = open({ type: 'stop', stopPrice: ASK });
    const first = decideFill(order, quote(), config);
    assert.ok(first);
    order = recordFill(order, first.quantity, first.time);
    const lower = quote(BID - 100_000n, ASK - 100_000n);
    assert.equal(decideFill(open({ type: 'stop', stopPrice: ASK }), lower, config), null, 'an untriggered stop waits');
    assert.equal(decideFill(order, lower, config)?.price, ASK - 100_000n);
  });

  it('refuses a limit or stop order that lacks its price', () => {
    assert.throws(() => decideFill(open({ type: 'limit' }), quote(), NO_COSTS), (err: unknown) => err instanceof TasaError && /limit order without its price/.test(err.message));
    assert.throws(() => decideFill(open({ type: 'stop' }), quote(), NO_COSTS), /stop order without its price/);
  });
});

describe('fees, partial fills and purity', () => {
  it('charges bps of the notional plus a fixed fee per fill', () => {
    const fill = decideFill(open(), quote(), { ...NO_COSTS, feeBps: 250n, fixedFee: 150_00n });
    // 400,400.00 COP x 2.5 bps = 100.10 COP, + 150.00 COP fixed.
    assert.equal(fill?.fee, 10_010n + 15_000n);
  });

  it('splits an order into parts that sum exactly to its quantity', () => {
    const config = { ...NO_COSTS, maxFillPerTick: 333n, fixedFee: 100n };
    let order = open({ quantity: 10_001n });
    const fills = [];
    for (let i = 0; i < 100 && order.status !== 'filled'; i++) {
      const fill = decideFill(order, quote(BID, ASK, 40_020_000n, T0 + i), config);
      assert.ok(fill);
      fills.push(fill);
      order = recordFill(order, fill.quantity, fill.time);
    }
    assert.equal(order.status, 'filled');
    assert.equal(fills.length, 31, '30 fills of 3.33 USD and one of 0.11 USD');
    assert.equal(fills.reduce((sum, f) => sum + f.quantity, 0n), 10_001n);
    assert.deepEqual(fills.map((f) => f.seq), fills.map((_, i) => i + 1));
    assert.equal(fills.at(-1)?.quantity, 11n);
    assert.equal(fills.reduce((sum, f) => sum + f.fee, 0n), 31n * 100n);
  });

  it('fills nothing unless the order is open', () => {
    assert.equal(decideFill(createOrder(request(), T0), quote(), NO_COSTS), null, 'new: not yet accepted');
    assert.equal(decideFill(recordFill(open(), 10_000n, T0), quote(), NO_COSTS), null);
    assert.equal(decideFill(transitionOrder(open(), 'cancelled', T0), quote(), NO_COSTS), null);
  });

  it('never changes the order or the quote', () => {
    const order = open({ type: 'limit', limitPrice: ASK });
    const q = quote();
    const before = structuredClone({ order, q });
    decideFill(Object.freeze(order), Object.freeze(q), NO_COSTS);
    assert.deepEqual({ order, q }, before);
  });

  it('refuses a negative cost or a cap of zero', () => {
    for (const bad of [{ slippageBps: -1n }, { feeBps: -1n }, { fixedFee: -1n }, { maxFillPerTick: 0n }]) {
      assert.throws(() => decideFill(open(), quote(), { ...NO_COSTS, ...bad }), (err: unknown) => err instanceof TasaError && err.code === 'bad_argument');
    }
  });
});

describe('quoteFromTick', () => {
  it('turns feed floats into exact prices', () => {
    const tick: Tick = { symbol: 'USD/COP', time: T0, price: 4001.37, bid: 4000.0000499, ask: null, receivedAt: T0, source: 'simulator' };
    assert.deepEqual(quoteFromTick(tick), { time: T0, price: 40_013_700n, bid: 40_000_000n, ask: null });
  });
});
