/**
 * The paper trading API. Orders (`POST` trader, idempotent on the client order id: 201 placed,
 * 200 the same order again, 409 a different order under a used id, 422 refused by risk or the
 * broker with the stored order beside the error), cancels (trader; 409 once final), positions
 * marked at the latest price, fills, the account, the daily P&L and the kill switch (admin);
 * strategies are in strategy-routes.ts. Writes go to the order service, which runs in one
 * process of the deployment (the trading engine's): elsewhere they are 503
 * `unavailable` naming that process. Reads come from the store.
 * Every change is audited with the token id as its actor (never the secret).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { cachedLatestPrice } from '../../bus/index.ts';
import {
  AccountJson,
  FillList,
  HaltBody,
  OrderList,
  OrderRefusal,
  OrderResponse,
  PlaceOrderBody,
  PnlSeries,
  PositionList,
  TradingStateResponse,
  type OrderJson,
  type PositionJson,
  type TradingStateJson,
} from '../../contracts/api/trading.ts';
import type { SymbolCode } from '../../domain/symbol.ts';
import { addDays, bogotaDate, toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import type { OrderService } from '../../execution/order-service.ts';
import { tradingSettings } from '../../execution/trading-engine.ts';
import { fillMessage, orderUpdate, positionAmounts } from '../../execution/trading-wire.ts';
import { findOrder, listFills, listOrders, type FillCursor, type StoredOrder } from '../../store/trading-repo.ts';
import { dayOpeningEquities, loadRiskState, openTradingAccount, type StoredRiskState } from '../../store/trading-state-repo.ts';
import { valueAccount, type Account, type AccountValuation } from '../../trading/account.ts';
import { quoteFromTick } from '../../trading/fill-model.ts';
import { formatBps, formatCop, formatPrice, formatUsd, parsePrice, parseUsd, type Price } from '../../trading/money.ts';
import type { OrderRequest } from '../../trading/order.ts';
import { marketValue, type Position } from '../../trading/position.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { RowId } from '../param-bounds.ts';
import { datePeriod, instantParam, principalOf, servedSymbol, TOKEN_SECURITY } from '../request-inputs.ts';
import { bounded, localEngine, MAX_QUANTITY_CENTS, tradedSymbol, TRADING_TAGS as TAGS, TRADING_WRITE_ERRORS as WRITE_ERRORS } from './trading-route-parts.ts';

const MAX_PRICE = 1_000_000_000_000n; // 100,000,000 COP per USD
const MAX_PNL_DAYS = 366;

const IdParams = Type.Object({ id: RowId('Order id') });
const OrdersQuery = Type.Object({
  status: Type.Optional(Type.Enum(['open', 'all'], { description: 'open: not yet final (new, accepted, partially filled); default all' })),
  symbol: Type.Optional(Type.String({ description: 'USD/COP, USD%2FCOP or USDCOP' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  before: Type.Optional(RowId('Orders with a smaller id only: the nextBefore of the previous page')),
});
const FillsQuery = Type.Object({
  from: Type.Optional(Type.String({ description: 'Date (Bogota) or ISO 8601 time; inclusive' })),
  to: Type.Optional(Type.String({ description: 'Date (Bogota, the whole day) or ISO 8601 time; exclusive' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000 })),
  after: Type.Optional(Type.String({ pattern: '^[0-9]{1,13}-[0-9]{1,15}-[0-9]{1,9}$', description: 'Fills after this one only: the nextAfter of the previous page (<time ms>-<order id>-<seq>)' })),
});
const PnlQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date', description: 'First day (Bogota); default 30 days before `to`' })),
  to: Type.Optional(Type.String({ format: 'date', description: 'Last day (Bogota); default today' })),
});

export const tradingRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  const settings = tradingSettings(deps.config, deps.symbols);
  const trader = app.requireRole('trader');
  const admin = app.requireRole('admin');

  const engine = (): Promise<OrderService> => localEngine(deps, deps.trading.service());

  /** The latest price of each served symbol: the engine's marks here, else the latest-price cache. */
  const marks = async (): Promise<Map<SymbolCode, Price>> => {
    const local = deps.trading.service()?.snapshot().book.marks;
    if (local !== undefined) return new Map(local);
    const found = new Map<SymbolCode, Price>();
    for (const symbol of deps.symbols) {
      const tick = await cachedLatestPrice(deps.bus, symbol);
      if (tick !== null) found.set(symbol, quoteFromTick({ symbol, time: Date.parse(tick.timestamp), price: tick.price, bid: tick.bid, ask: tick.ask }).price);
    }
    return found;
  };

  app.post(
    '/api/trading/orders',
    {
      preHandler: trader,
      schema: {
        tags: TAGS,
        summary: 'Place an order (trader)',
        description:
          '201 placed; 200 when the same order was placed under this clientOrderId before (it is returned as stored); 409 when the id is taken by a different order; 422 when risk denies it (halted, limits) or the broker rejects it (market closed, stale feed): stored, audited, and returned beside the error; 400 for an invalid order (nothing stored); 503 when this process does not run the trading engine.',
        security: TOKEN_SECURITY,
        body: PlaceOrderBody,
        response: { 200: OrderResponse, 201: OrderResponse, 409: ErrorBody, 422: OrderRefusal, ...WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const order = orderRequest(request.body, deps.symbols);
      const result = await (await engine()).place(order, { actor: principal.id });
      const stored = result.order;
      if (stored.status === 'denied' || stored.status === 'rejected') {
        const reason = stored.history.at(-1)?.reason ?? 'no reason given';
        return reply.code(422).send({
          error: { code: `order_${stored.status}`, message: `Order ${stored.clientOrderId} was ${stored.status}: ${reason}.`, input: stored.clientOrderId },
          order: orderJson(stored),
        });
      }
      return reply.code(result.created ? 201 : 200).send({ order: orderJson(stored) });
    },
  );

  app.get(
    '/api/trading/orders',
    { schema: { tags: TAGS, summary: 'Orders, newest first', querystring: OrdersQuery, response: { 200: OrderList, 404: ErrorBody, ...COMMON_ERRORS } } },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 100;
      const orders = await listOrders(deps.db, {
        open: q.status === 'open',
        limit,
        ...(q.symbol === undefined ? {} : { symbol: servedSymbol(deps.symbols, q.symbol) }),
        ...(q.before === undefined ? {} : { beforeId: q.before }),
      });
      const last = orders.at(-1);
      return { orders: orders.map(orderJson), nextBefore: orders.length === limit && last !== undefined ? last.id : null };
    },
  );

  app.get(
    '/api/trading/orders/:id',
    { schema: { tags: TAGS, summary: 'One order with its history', params: IdParams, response: { 200: OrderResponse, 404: ErrorBody, ...COMMON_ERRORS } } },
    async (request) => ({ order: orderJson(await storedOrder(deps, request.params.id)) }),
  );

  app.delete(
    '/api/trading/orders/:id',
    {
      preHandler: trader,
      schema: {
        tags: TAGS,
        summary: 'Cancel an open order (trader)',
        description: '404 for no such order; 409 when it is already final (filled, cancelled, rejected, expired, denied).',
        security: TOKEN_SECURITY,
        params: IdParams,
        response: { 200: OrderResponse, 404: ErrorBody, 409: ErrorBody, ...WRITE_ERRORS },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const service = await engine();
      return { order: orderJson(await service.cancel({ id: request.params.id }, principal.id)) };
    },
  );

  app.get(
    '/api/trading/positions',
    { schema: { tags: TAGS, summary: 'Positions with unrealized P&L at the latest price', response: { 200: PositionList, ...COMMON_ERRORS } } },
    async () => {
      const account = await openTradingAccount(deps.db, settings.service.initialCash, deps.clock.now());
      const prices = await marks();
      return { positions: Object.values(account.positions).map((p) => positionJson(p, prices.get(p.symbol) ?? null)) };
    },
  );

  app.get(
    '/api/trading/fills',
    { schema: { tags: TAGS, summary: 'Fills, oldest first', querystring: FillsQuery, response: { 200: FillList, ...COMMON_ERRORS } } },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 1000;
      const fills = await listFills(deps.db, {
        limit,
        ...(q.from === undefined ? {} : { from: instantParam('from', q.from, 'start', null) }),
        ...(q.to === undefined ? {} : { to: instantParam('to', q.to, 'end', null) }),
        ...(q.after === undefined ? {} : { after: fillCursorOf(q.after) }),
      });
      const last = fills.at(-1);
      return { fills: fills.map((f) => fillMessage(f, f.orderId)), nextAfter: fills.length === limit && last !== undefined ? fillCursorText(last) : null };
    },
  );

  app.get(
    '/api/trading/account',
    { schema: { tags: TAGS, summary: 'The paper account: cash, equity, P&L, fees, trading state and limits', response: { 200: AccountJson, ...COMMON_ERRORS } } },
    async () => {
      const now = deps.clock.now();
      const account = await openTradingAccount(deps.db, settings.service.initialCash, now);
      const value = valuation(account, await marks());
      const state = (await loadRiskState(deps.db)) ?? { mode: 'ACTIVE', since: now, reason: null, actor: 'system' };
      const { limits, band } = settings.service;
      return {
        initialCash: formatCop(account.initialCash),
        cash: formatCop(account.cash),
        equity: value === null ? null : formatCop(value.equity),
        realizedPnl: formatCop(account.realizedPnl),
        unrealizedPnl: value === null ? null : formatCop(value.unrealizedPnl),
        fees: formatCop(account.fees),
        tradingState: stateJson(state),
        limits: {
          maxPositionUsd: formatUsd(limits.maxPosition),
          maxOrderUsd: formatUsd(limits.maxOrderSize),
          maxOrdersPerMinute: limits.maxOrdersPerMinute,
          dailyLossLimitCop: formatCop(limits.dailyLossLimit),
          priceBandBps: formatBps(band.maxDeviationBps),
        },
        engine: { running: deps.trading.service() !== null, holder: await deps.trading.holder() },
      };
    },
  );

  app.get(
    '/api/trading/pnl',
    {
      schema: {
        tags: TAGS,
        summary: 'Daily P&L (Bogota trading days): equity at each day’s first price to the next day’s',
        querystring: PnlQuery,
        response: { 200: PnlSeries, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const to = request.query.to ?? bogotaDate(deps.clock.now());
      const period = datePeriod(request.query.from ?? addDays(to, -30), to, MAX_PNL_DAYS, null);
      const stored = await dayOpeningEquities(deps.db, period.from, period.days + 1);
      const account = await openTradingAccount(deps.db, settings.service.initialCash, deps.clock.now());
      const equityNow = valuation(account, await marks())?.equity ?? null;
      const days = stored
        .map((day, i) => ({ ...day, closing: stored[i + 1]?.openingEquity ?? equityNow }))
        .filter((day) => day.date <= period.to)
        .map((day) => ({
          date: day.date,
          openingEquity: formatCop(day.openingEquity),
          closingEquity: day.closing === null ? null : formatCop(day.closing),
          pnl: day.closing === null ? null : formatCop(day.closing - day.openingEquity),
        }));
      return { from: period.from, to: period.to, days };
    },
  );

  /** The kill switch's two admin routes: same body (a reason), same answer (the trading state). */
  const stateChange = (summary: string, description: string) => ({
    preHandler: admin,
    schema: { tags: TAGS, summary, description, security: TOKEN_SECURITY, body: HaltBody, response: { 200: TradingStateResponse, ...WRITE_ERRORS } },
  });
  app.post(
    '/api/trading/halt',
    stateChange('Kill switch (admin): halt trading, cancel open orders, optionally flatten', 'Audited with the token id; new orders are refused (422) until an admin resumes.'),
    async (request) => {
      const service = await engine();
      return { tradingState: stateJson(await service.halt(principalOf(request).id, request.body.reason, request.body.flatten)) };
    },
  );
  app.post(
    '/api/trading/resume',
    stateChange('Resume trading after a halt (admin)', 'While the day’s loss is still past the limit, the next price halts trading again.'),
    async (request) => {
      const service = await engine();
      return { tradingState: stateJson(await service.resume(principalOf(request).id, request.body.reason)) };
    },
  );

  return Promise.resolve();
};

/** The request body as an order; a bad value is a 400 naming its field (checked before anything is stored). */
function orderRequest(body: PlaceOrderBody, served: readonly string[]): OrderRequest {
  return {
    clientOrderId: body.clientOrderId ?? `o-${randomUUID()}`,
    symbol: tradedSymbol(body.symbol, served),
    side: body.side,
    type: body.type,
    quantity: bounded(parseUsd(body.quantity, 'quantity'), MAX_QUANTITY_CENTS, 'quantity', `${formatUsd(MAX_QUANTITY_CENTS)} USD`),
    timeInForce: body.timeInForce ?? 'DAY',
    limitPrice: priceInput(body.limitPrice, 'limitPrice'),
    stopPrice: priceInput(body.stopPrice, 'stopPrice'),
  };
}

function priceInput(value: number | string | null | undefined, name: string): Price | null {
  if (value === undefined || value === null) return null;
  return bounded(parsePrice(value, name), MAX_PRICE, name, `${formatPrice(MAX_PRICE)} COP per USD`);
}

async function storedOrder(deps: ServerDeps, id: number): Promise<StoredOrder> {
  const order = await findOrder(deps.db, { id });
  if (order === null) throw new TasaError('not_found', `No order with id ${id}.`, { input: 'id' });
  return order;
}

function orderJson(order: StoredOrder): OrderJson {
  return {
    ...orderUpdate(order),
    sessionDate: order.sessionDate,
    createdAt: toIsoUtc(order.createdAt),
    history: order.history.map((h) => ({ status: h.status, at: toIsoUtc(h.at), reason: h.reason })),
  };
}

/** The account at the latest prices; null while an open position has none. */
function valuation(account: Account, prices: ReadonlyMap<SymbolCode, Price>): AccountValuation | null {
  const priced = Object.values(account.positions).every((p) => p.quantity === 0n || prices.has(p.symbol));
  return priced ? valueAccount(account, Object.fromEntries(prices)) : null;
}

function positionJson(position: Position, mark: Price | null): PositionJson {
  const value = mark === null ? null : marketValue(position, mark);
  return {
    ...positionAmounts(position),
    markPrice: mark === null ? null : formatPrice(mark),
    marketValue: value === null ? null : formatCop(value),
    unrealizedPnl: value === null ? null : formatCop(value - position.costBasis),
  };
}

function stateJson(state: StoredRiskState): TradingStateJson {
  return { mode: state.mode, since: toIsoUtc(state.since), reason: state.reason, actor: state.actor };
}

/** A fills page cursor as text: `<time ms>-<order id>-<seq>` of the page's last fill. */
function fillCursorText(fill: FillCursor): string {
  return `${fill.time}-${fill.orderId}-${fill.seq}`;
}

/** The schema's pattern makes it three whole numbers, the time at most 13 digits (before 2287). */
function fillCursorOf(text: string): FillCursor {
  const [time = 0, orderId = 0, seq = 0] = text.split('-').map(Number);
  return { time, orderId, seq };
}
