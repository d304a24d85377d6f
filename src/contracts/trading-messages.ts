/**
 * What the trading layer publishes: an order's new state, a fill, a position after a fill. Money
 * is a decimal string at its fixed scale (USD 2 decimals, prices 4, COP 2; see
 * src/trading/money.ts), so JSON never rounds it. Keyed by the channel each goes on, like
 * bus-messages.ts, which makes them bus channels.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { IsoTime, Nullable } from './api/schema-kit.ts';

const decimal = (decimals: number, description: string) =>
  Type.String({ pattern: `^-?\\d+\\.\\d{${decimals}}$`, description: `${description}, a decimal string with ${decimals} decimals` });
const Usd = decimal(2, 'USD');
const Price = decimal(4, 'COP per USD');
const Cop = decimal(2, 'COP');

export const OrderSide = Type.Union([Type.Literal('buy'), Type.Literal('sell')]);
export const OrderStatus = Type.Union([
  Type.Literal('new'),
  Type.Literal('accepted'),
  Type.Literal('partially_filled'),
  Type.Literal('filled'),
  Type.Literal('cancelled'),
  Type.Literal('rejected'),
  Type.Literal('expired'),
  Type.Literal('denied'),
]);

/** `orders`: an order after each change of its status (and after each fill). */
export const OrderUpdate = Type.Object({
  id: Type.Integer(),
  clientOrderId: Type.String(),
  symbol: Type.String(),
  side: OrderSide,
  type: Type.Union([Type.Literal('market'), Type.Literal('limit'), Type.Literal('stop')]),
  timeInForce: Type.Union([Type.Literal('DAY'), Type.Literal('GTC')]),
  quantity: Usd,
  filledQuantity: Usd,
  limitPrice: Nullable(Price),
  stopPrice: Nullable(Price),
  status: OrderStatus,
  /** Why it reached this status (denials, rejections, cancels, expiry); null otherwise. */
  reason: Nullable(Type.String()),
  actor: Type.String(),
  strategyId: Nullable(Type.String()),
  at: IsoTime('when it reached this status'),
});
export type OrderUpdate = Static<typeof OrderUpdate>;

/** `fills`: one fill of an order; (orderId, seq) names it once. */
export const FillMessage = Type.Object({
  orderId: Type.Integer(),
  clientOrderId: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  symbol: Type.String(),
  side: OrderSide,
  quantity: Usd,
  price: Price,
  /** quantity x price. */
  notional: Cop,
  fee: Cop,
  time: IsoTime('exchange time of the tick it filled on'),
});
export type FillMessage = Static<typeof FillMessage>;

/** `positions`: a symbol's position after a fill. */
export const PositionMessage = Type.Object({
  symbol: Type.String(),
  /** Signed: below zero short. */
  quantity: Usd,
  /** Null when flat. */
  averagePrice: Nullable(Price),
  costBasis: Cop,
  realizedPnl: Cop,
  at: IsoTime('when the fill that changed it was recorded'),
});
export type PositionMessage = Static<typeof PositionMessage>;

/** Channel -> the schema of its data. */
export const TRADING_MESSAGE_SCHEMAS = {
  orders: OrderUpdate,
  fills: FillMessage,
  positions: PositionMessage,
} satisfies Record<string, TSchema>;

export type TradingChannel = keyof typeof TRADING_MESSAGE_SCHEMAS;

/** One message with the channel and symbol it goes on: `switch (m.channel)` narrows `m.data`. */
export type TradingMessage = { [C in TradingChannel]: { channel: C; symbol: string; data: Static<(typeof TRADING_MESSAGE_SCHEMAS)[C]> } }[TradingChannel];
