/**
 * `/api/trading/*`: the paper trading API's request and response bodies. Money is a decimal
 * string at its fixed scale (USD 2 decimals, prices 4, COP 2), as on the bus (trading-messages.ts).
 */
import { Type, type Static } from 'typebox';
import { FillMessage, OrderStatus, OrderUpdate } from '../trading-messages.ts';
import { IsoDateText, IsoTime, Nullable } from './schema-kit.ts';

const decimalText = (description: string) => Type.String({ pattern: '^-?\\d+\\.\\d+$', description: `${description}, a decimal string` });
/** A decimal given as a JSON number or a string (`"1000.50"`): a string keeps every digit. */
const DecimalInput = (description: string) => Type.Union([Type.Number(), Type.String({ minLength: 1, maxLength: 40 })], { description });

export const PlaceOrderBody = Type.Object(
  {
    clientOrderId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$', description: 'Your id for the order: sending it again is the same order (idempotent). Generated when absent' }),
    ),
    symbol: Type.String({ minLength: 1, maxLength: 32, description: 'USD/COP, USDCOP or USD%2FCOP' }),
    side: Type.Enum(['buy', 'sell']),
    type: Type.Enum(['market', 'limit', 'stop']),
    quantity: DecimalInput('USD notional, above zero, at most 2 decimals'),
    limitPrice: Type.Optional(Type.Union([Type.Null(), Type.Number(), Type.String({ minLength: 1, maxLength: 40 })], { description: 'COP per USD; limit orders only' })),
    stopPrice: Type.Optional(Type.Union([Type.Null(), Type.Number(), Type.String({ minLength: 1, maxLength: 40 })], { description: 'COP per USD; stop orders only' })),
    timeInForce: Type.Optional(Type.Enum(['DAY', 'GTC'], { description: 'DAY (default) expires at the session close; GTC stays until filled or cancelled' })),
  },
  { additionalProperties: false },
);
export type PlaceOrderBody = Static<typeof PlaceOrderBody>;

const Transition = Type.Object({ status: OrderStatus, at: IsoTime('when it reached this status'), reason: Nullable(Type.String()) });

export const OrderJson = Type.Object(
  {
    ...OrderUpdate.properties,
    sessionDate: Nullable(IsoDateText('DAY orders: the session whose close expires them')),
    createdAt: IsoTime('when it was placed'),
    history: Type.Array(Transition, { description: 'Every status, oldest first' }),
  },
  { $id: 'TradingOrder' },
);
export type OrderJson = Static<typeof OrderJson>;

export const OrderList = Type.Object({
  orders: Type.Array(OrderJson, { description: 'Newest first' }),
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore: Nullable(Type.Integer()),
});
export type OrderList = Static<typeof OrderList>;

/** A refused order (denied by risk, rejected by the broker): stored and audited, returned beside the error. */
export const OrderRefusal = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), input: Type.Optional(Type.String()), hint: Type.Optional(Type.String()) }),
  order: OrderJson,
});

export const FillList = Type.Object({
  fills: Type.Array(FillMessage, { description: 'Oldest first' }),
  nextAfter: Nullable(Type.String(), 'The `after` of the next page; null on the last page'),
});
export type FillList = Static<typeof FillList>;

export const PositionJson = Type.Object({
  symbol: Type.String(),
  quantity: decimalText('USD, signed: below zero short'),
  averagePrice: Nullable(decimalText('COP per USD'), 'Null when flat'),
  costBasis: decimalText('COP'),
  realizedPnl: decimalText('COP, before fees'),
  markPrice: Nullable(decimalText('COP per USD: the latest price'), 'Null when no price is known'),
  marketValue: Nullable(decimalText('COP')),
  unrealizedPnl: Nullable(decimalText('COP')),
});
export type PositionJson = Static<typeof PositionJson>;

export const PositionList = Type.Object({ positions: Type.Array(PositionJson) });
export type PositionList = Static<typeof PositionList>;

export const TradingStateJson = Type.Object({
  mode: Type.Enum(['ACTIVE', 'REDUCING', 'HALTED']),
  since: IsoTime('when this state began'),
  reason: Nullable(Type.String()),
  actor: Type.String({ description: 'Who set it: a token id, or system (loss limit)' }),
});
export type TradingStateJson = Static<typeof TradingStateJson>;

export const AccountJson = Type.Object({
  initialCash: decimalText('COP'),
  cash: decimalText('COP'),
  equity: Nullable(decimalText('COP: cash + positions at the latest prices'), 'Null while an open position has no price'),
  realizedPnl: decimalText('COP, before fees'),
  unrealizedPnl: Nullable(decimalText('COP')),
  fees: decimalText('COP'),
  tradingState: TradingStateJson,
  limits: Type.Object({
    maxPositionUsd: decimalText('USD'),
    maxOrderUsd: decimalText('USD'),
    maxOrdersPerMinute: Type.Integer(),
    dailyLossLimitCop: decimalText('COP'),
    priceBandBps: decimalText('bps of the market mid'),
  }),
  engine: Type.Object({
    running: Type.Boolean({ description: 'This server process runs the trading engine (it takes orders)' }),
    holder: Nullable(Type.String(), 'The process that runs it; null when none does'),
  }),
});
export type AccountJson = Static<typeof AccountJson>;

export const PnlDay = Type.Object({
  date: IsoDateText('Trading day', 'Bogota'),
  openingEquity: decimalText('COP at the day’s first price'),
  closingEquity: Nullable(decimalText('COP: the next day’s opening, or now for the latest day'), 'Null when unknown'),
  pnl: Nullable(decimalText('COP')),
});
export const PnlSeries = Type.Object({ from: IsoDateText('First day', 'Bogota'), to: IsoDateText('Last day', 'Bogota'), days: Type.Array(PnlDay) });
export type PnlSeries = Static<typeof PnlSeries>;

export const HaltBody = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why (kept in the audit log)' }),
    flatten: Type.Optional(Type.Boolean({ description: 'halt only: also close every position with market orders' })),
  },
  { additionalProperties: false },
);
export type HaltBody = Static<typeof HaltBody>;

export const StrategyJson = Type.Object({
  id: Type.String(),
  symbol: Type.String(),
  policyId: Type.String(),
  targetNotional: decimalText('USD a full long or short decision aims at'),
  enabled: Type.Boolean(),
  running: Nullable(Type.Boolean(), 'The trading engine trades it now; null when this server process does not run the engine'),
});
export const StrategyList = Type.Object({ strategies: Type.Array(StrategyJson) });
export type StrategyList = Static<typeof StrategyList>;
export type StrategyJson = Static<typeof StrategyJson>;
/** Settings for `start`: all three for a new strategy; any of them to change a stored one (the rest kept). */
export const StartStrategyBody = Type.Object(
  {
    symbol: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'USD/COP, USDCOP or USD%2FCOP' })),
    policyId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A registered model id or a baseline (flat, buy-and-hold, always-long, sma-crossover, rsi-mean-reversion)' })),
    targetNotional: Type.Optional(DecimalInput('USD a full long or short decision aims at, above zero, at most 2 decimals')),
  },
  { additionalProperties: false },
);
export type StartStrategyBody = Static<typeof StartStrategyBody>;
export const StrategyResponse = Type.Object({ strategy: StrategyJson });
export const OrderResponse = Type.Object({ order: OrderJson });
export const TradingStateResponse = Type.Object({ tradingState: TradingStateJson });

export const ParityJson = Type.Object({
  strategy: Type.String(),
  sessions: Type.Integer({ description: 'Sessions compared (a session compared twice counts once)' }),
  sessionsMismatched: Type.Integer({ description: 'Compared sessions with a trade that differs from the backtest' }),
  tradesCompared: Type.Integer({ description: 'Round trips compared, the longer of live and backtest, over every session' }),
  tradesMatched: Type.Integer({ description: 'Round trips whose side and entry and exit bars equal the backtest' }),
  lastSession: Type.String({ format: 'date', description: "The last session compared (its date in the market's own calendar; Bogota for USD/COP)" }),
  lastSessionMatched: Type.Boolean(),
  lastPriceDiffBps: Nullable(Type.Number(), 'Mean absolute live-vs-backtest fill price difference in the last session, bps; null when no trade agreed'),
});
export type ParityJson = Static<typeof ParityJson>;
export const ParityList = Type.Object({ strategies: Type.Array(ParityJson, { description: 'Every strategy the parity monitor has compared' }) });
export type ParityList = Static<typeof ParityList>;
