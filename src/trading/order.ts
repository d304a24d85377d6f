/**
 * Orders and their state machine. An order starts `new`; the risk layer either lets it through
 * to the broker or `denied`s it (refused inside Tasa, never seen by a venue); the broker
 * `accepted`s or `rejected`s it (refused by the venue). An accepted order fills in one or more
 * steps and ends `filled`, `cancelled` or `expired`. Every step is stamped with its time (epoch
 * ms, passed in) and a reason where one applies; a step the table does not allow throws.
 */
import { TasaError } from '../errors.ts';
import { findInstrument, type SymbolCode } from '../domain/symbol.ts';
import { abs, ACCOUNT_CURRENCY, BPS_WHOLE, formatBps, formatPrice, NOTIONAL_CURRENCY, type Bps, type Price, type UsdCents } from './money.ts';

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop';
/** DAY orders expire at the session close; GTC orders stay until filled or cancelled. */
export type TimeInForce = 'DAY' | 'GTC';
export type OrderStatus = 'new' | 'accepted' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected' | 'expired' | 'denied';
/** The steps made with `transitionOrder`; the two fill statuses come only from `recordFill`. */
export type OrderOutcome = 'accepted' | 'cancelled' | 'rejected' | 'expired' | 'denied';

export interface OrderRequest {
  /** The caller's id: a resubmission with the same id is the same order (idempotency). */
  clientOrderId: string;
  symbol: SymbolCode;
  side: OrderSide;
  type: OrderType;
  /** USD notional in cents, > 0. */
  quantity: UsdCents;
  timeInForce: TimeInForce;
  /** Set for limit orders only. */
  limitPrice: Price | null;
  /** Set for stop orders only. */
  stopPrice: Price | null;
}

export interface OrderTransition {
  status: OrderStatus;
  at: number;
  reason: string | null;
}

export interface Order extends OrderRequest {
  status: OrderStatus;
  filledQuantity: UsdCents;
  fillCount: number;
  /** Oldest first; the last entry is the current status. */
  history: readonly OrderTransition[];
}

const NEXT: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  new: ['accepted', 'rejected', 'denied'],
  accepted: ['partially_filled', 'filled', 'cancelled', 'expired'],
  partially_filled: ['partially_filled', 'filled', 'cancelled', 'expired'],
  filled: [],
  cancelled: [],
  rejected: [],
  expired: [],
  denied: [],
};

export function createOrder(request: OrderRequest, at: number): Order {
  return { ...request, status: 'new', filledQuantity: 0n, fillCount: 0, history: [{ status: 'new', at, reason: null }] };
}

/** Working at the broker: it can still fill. */
export function isOpen(order: Order): boolean {
  return order.status === 'accepted' || order.status === 'partially_filled';
}

/** No transition leads out of it. */
export function isFinal(order: Order): boolean {
  return NEXT[order.status].length === 0;
}

export function remaining(order: Order): UsdCents {
  return order.quantity - order.filledQuantity;
}

export function transitionOrder(order: Order, to: OrderOutcome, at: number, reason: string | null = null): Order {
  return step(order, to, at, reason, {});
}

/** Adds a fill of `quantity` (0 < quantity <= remaining): partially filled, or filled when nothing remains. */
export function recordFill(order: Order, quantity: UsdCents, at: number): Order {
  if (quantity <= 0n || quantity > remaining(order)) {
    throw new TasaError('conflict', `Order ${order.clientOrderId} cannot take a fill of ${quantity} cents: ${remaining(order)} cents remain.`, {
      input: order.clientOrderId,
    });
  }
  const filledQuantity = order.filledQuantity + quantity;
  const status = filledQuantity === order.quantity ? 'filled' : 'partially_filled';
  return step(order, status, at, null, { filledQuantity, fillCount: order.fillCount + 1 });
}

function step(order: Order, to: OrderStatus, at: number, reason: string | null, changes: Partial<Order>): Order {
  if (!NEXT[order.status].includes(to)) {
    throw new TasaError('conflict', `Order ${order.clientOrderId} cannot go from ${order.status} to ${to}.`, { input: order.clientOrderId });
  }
  return { ...order, ...changes, status: to, history: [...order.history, { status: to, at, reason }] };
}

export type OrderProblemCode =
  | 'bad_client_order_id'
  | 'unknown_symbol'
  | 'unsupported_symbol'
  | 'bad_quantity'
  | 'missing_price'
  | 'unexpected_price'
  | 'bad_price'
  | 'no_reference_price'
  | 'price_outside_band';

export interface OrderProblem {
  code: OrderProblemCode;
  reason: string;
}

/** How far a limit or stop price may be from the market's last mid, in basis points of that mid. */
export interface PriceBand {
  maxDeviationBps: Bps;
}

const CLIENT_ORDER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Why the request is not a valid order (checked before risk), or null. `mid` is the market's last mid, if any. */
export function validateOrder(request: OrderRequest, mid: Price | null, band: PriceBand): OrderProblem | null {
  return checkIdentity(request) ?? checkQuantity(request) ?? checkPriceFields(request) ?? checkBand(request, mid, band);
}

function checkIdentity(request: OrderRequest): OrderProblem | null {
  if (!CLIENT_ORDER_ID.test(request.clientOrderId)) {
    return { code: 'bad_client_order_id', reason: `client order id "${request.clientOrderId}" must be 1-64 letters, digits or . _ : -` };
  }
  const instrument = findInstrument(request.symbol);
  if (instrument === undefined) return { code: 'unknown_symbol', reason: `unknown symbol "${request.symbol}"` };
  if (instrument.base !== NOTIONAL_CURRENCY || instrument.quote !== ACCOUNT_CURRENCY) {
    return {
      code: 'unsupported_symbol',
      reason: `the paper account books ${NOTIONAL_CURRENCY} notional against ${ACCOUNT_CURRENCY} cash; ${request.symbol} is ${instrument.base} against ${instrument.quote}, which it cannot book`,
    };
  }
  return null;
}

function checkQuantity(request: OrderRequest): OrderProblem | null {
  return request.quantity > 0n ? null : { code: 'bad_quantity', reason: `quantity must be above zero, got ${request.quantity} cents` };
}

function checkPriceFields(request: OrderRequest): OrderProblem | null {
  const needsLimit = request.type === 'limit';
  const needsStop = request.type === 'stop';
  if (needsLimit !== (request.limitPrice !== null)) return priceFieldProblem(request.type, 'limit', needsLimit);
  if (needsStop !== (request.stopPrice !== null)) return priceFieldProblem(request.type, 'stop', needsStop);
  const price = request.limitPrice ?? request.stopPrice;
  if (price !== null && price <= 0n) return { code: 'bad_price', reason: `a ${request.type} price must be above zero` };
  return null;
}

function priceFieldProblem(type: OrderType, field: 'limit' | 'stop', needed: boolean): OrderProblem {
  return needed
    ? { code: 'missing_price', reason: `a ${type} order needs a ${field} price` }
    : { code: 'unexpected_price', reason: `a ${type} order takes no ${field} price` };
}

function checkBand(request: OrderRequest, mid: Price | null, band: PriceBand): OrderProblem | null {
  const price = request.limitPrice ?? request.stopPrice;
  if (price === null) return null;
  if (mid === null) return { code: 'no_reference_price', reason: `no market price to check the ${request.type} price against` };
  // |price - mid| / mid > maxDeviation / whole, cross-multiplied to stay in integers.
  if (abs(price - mid) * BPS_WHOLE <= mid * band.maxDeviationBps) return null;
  return {
    code: 'price_outside_band',
    reason: `${request.type} price ${formatPrice(price)} is more than ${formatBps(band.maxDeviationBps)} bps from the market mid ${formatPrice(mid)}`,
  };
}
