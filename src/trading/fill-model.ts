/**
 * The paper fill model: given an open order and one quote tick, the fill it gets on that tick, or
 * none. Pure: the order is read, never changed (apply the fill with `recordFill`).
 * - market: buy at the ask plus slippage, sell at the bid minus slippage;
 * - limit: buy when ask <= limit, at the ask (the better of the two); sell when bid >= limit,
 *   at the bid; no slippage, so a limit fill is never worse than its limit;
 * - stop: buy triggers when ask >= stop, sell when bid <= stop, then fills like a market order.
 *   A stop order with a fill has triggered (every triggered tick fills something), so it keeps
 *   filling like a market order even if the quote moves back;
 * - a quote without a bid or an ask uses its last price for the missing side;
 * - fee per fill: `feeBps` of the fill's notional plus `fixedFee`;
 * - `maxFillPerTick` (optional) caps the USD filled per tick, so an order fills in parts.
 * The caller (the broker) hands over only ticks that arrived after the order was accepted.
 */
import { TasaError } from '../errors.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Tick } from '../domain/tick.ts';
import { bpsOf, minBig, notional, parsePrice, type Bps, type Centavos, type Price, type UsdCents } from './money.ts';
import { isOpen, remaining, type Order, type OrderSide } from './order.ts';

export interface Quote {
  /** Exchange time, epoch ms. */
  time: number;
  bid: Price | null;
  ask: Price | null;
  price: Price;
}

export interface FillModelConfig {
  slippageBps: Bps;
  feeBps: Bps;
  /** COP charged on every fill, partial fills included. */
  fixedFee: Centavos;
  /** Most USD filled per tick; null fills the whole remainder at once. */
  maxFillPerTick: UsdCents | null;
}

export interface Fill {
  clientOrderId: string;
  /** 1 for the order's first fill, 2 for the second...: (clientOrderId, seq) names a fill once. */
  seq: number;
  symbol: SymbolCode;
  side: OrderSide;
  time: number;
  quantity: UsdCents;
  price: Price;
  /** quantity x price in COP, rounded half to even; paid on a buy, received on a sell. */
  notional: Centavos;
  fee: Centavos;
}

/** A feed tick as an exact quote; feed prices are floats, rounded half to even to the price scale (finer than any quote). */
export function quoteFromTick(tick: Pick<Tick, 'symbol' | 'time' | 'price' | 'bid' | 'ask'>): Quote {
  const price = (value: number, name: string): Price => parsePrice(value, `${tick.symbol} tick ${name}`, 'half_even');
  return { time: tick.time, price: price(tick.price, 'price'), bid: tick.bid === null ? null : price(tick.bid, 'bid'), ask: tick.ask === null ? null : price(tick.ask, 'ask') };
}

export function decideFill(order: Order, quote: Quote, config: FillModelConfig): Fill | null {
  checkConfig(config);
  if (!isOpen(order)) return null;
  const price = fillPrice(order, quote, config.slippageBps);
  if (price === null) return null;
  const quantity = config.maxFillPerTick === null ? remaining(order) : minBig(remaining(order), config.maxFillPerTick);
  const value = notional(quantity, price);
  const { clientOrderId, symbol, side } = order;
  return { clientOrderId, seq: order.fillCount + 1, symbol, side, time: quote.time, quantity, price, notional: value, fee: bpsOf(value, config.feeBps) + config.fixedFee };
}

function checkConfig(config: FillModelConfig): void {
  const bad = (field: string, value: bigint) => new TasaError('bad_argument', `Fill model ${field} must not be negative, got ${value}.`, { input: field });
  if (config.slippageBps < 0n) throw bad('slippageBps', config.slippageBps);
  if (config.feeBps < 0n) throw bad('feeBps', config.feeBps);
  if (config.fixedFee < 0n) throw bad('fixedFee', config.fixedFee);
  if (config.maxFillPerTick !== null && config.maxFillPerTick <= 0n) {
    throw new TasaError('bad_argument', `Fill model maxFillPerTick must be above zero or null, got ${config.maxFillPerTick}.`, { input: 'maxFillPerTick' });
  }
}

function fillPrice(order: Order, quote: Quote, slippage: Bps): Price | null {
  const bid = quote.bid ?? quote.price;
  const ask = quote.ask ?? quote.price;
  const buying = order.side === 'buy';
  const touch = buying ? ask : bid;
  switch (order.type) {
    case 'market':
      return withSlippage(touch, buying, slippage);
    case 'limit': {
      const limit = requiredPrice(order, order.limitPrice);
      const crossed = buying ? ask <= limit : bid >= limit;
      return crossed ? touch : null;
    }
    case 'stop': {
      const stop = requiredPrice(order, order.stopPrice);
      const triggered = order.fillCount > 0 || (buying ? ask >= stop : bid <= stop);
      return triggered ? withSlippage(touch, buying, slippage) : null;
    }
  }
}

/** Slippage always against the trader: a buy pays more, a sell receives less. */
function withSlippage(price: Price, buying: boolean, slippage: Bps): Price {
  const cost = bpsOf(price, slippage);
  return buying ? price + cost : price - cost;
}

function requiredPrice(order: Order, price: Price | null): Price {
  if (price === null) throw new TasaError('bad_argument', `Order ${order.clientOrderId} is a ${order.type} order without its price.`, { input: order.clientOrderId });
  return price;
}
