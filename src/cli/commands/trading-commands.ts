/**
 * `tasa order buy|sell|cancel`, `tasa orders`, `tasa positions`, `tasa fills`, `tasa pnl`,
 * `tasa account`, `tasa halt`, `tasa resume`, `tasa strategy start|stop`, `tasa strategies`: thin commands over the running server's trading API
 * (orders go through its one trading engine; the CLI never opens the store to trade). Amounts are
 * passed as typed and checked by the server, whose refusal is printed as one sentence.
 */
import type { Command } from 'commander';
import type { Static } from 'typebox';
import type {
  AccountJson,
  FillList,
  OrderJson,
  OrderList,
  OrderResponse,
  PlaceOrderBody,
  PnlSeries,
  PositionList,
  StartStrategyBody,
  StrategyJson,
  StrategyList,
  StrategyResponse,
  TradingStateJson,
  TradingStateResponse,
} from '../../contracts/api/trading.ts';
import { TasaError } from '../../errors.ts';
import { parseChoiceArg, parseDateRange, parseIntegerArg, parseIsoDateArg } from '../args.ts';
import { apiClient, withServerOption, type ServerOptions } from '../api-client.ts';
import { createRowWriter, parseFormat, type Column, type Row } from '../output.ts';

interface OrderCliOptions extends ServerOptions {
  type: string;
  limit?: string;
  stop?: string;
  tif: string;
  clientId?: string;
  symbol: string;
}
interface ListCliOptions extends ServerOptions {
  format?: string;
}
interface OrdersCliOptions extends ListCliOptions {
  open?: boolean;
  limit?: string;
}

interface FillsCliOptions extends ListCliOptions {
  limit?: string;
}

/** The API's largest page of orders. */
const ORDERS_PAGE = 1000;
const FILLS_PAGE = 5000;
interface PnlCliOptions extends ListCliOptions {
  from?: string;
  to?: string;
}
interface StrategyCliOptions extends ServerOptions {
  policy?: string;
  symbol?: string;
  notional?: string;
}
interface HaltCliOptions extends ServerOptions {
  reason?: string;
  flatten?: boolean;
}

const ORDER_COLUMNS: Column[] = [
  { key: 'id', numeric: true },
  { key: 'clientOrderId' },
  { key: 'symbol' },
  { key: 'side' },
  { key: 'type' },
  { key: 'timeInForce' },
  { key: 'quantity', numeric: true },
  { key: 'filledQuantity', numeric: true },
  { key: 'limitPrice', numeric: true },
  { key: 'stopPrice', numeric: true },
  { key: 'status' },
  { key: 'reason' },
  { key: 'at' },
];
const POSITION_COLUMNS: Column[] = [
  { key: 'symbol' },
  { key: 'quantity', numeric: true },
  { key: 'averagePrice', numeric: true },
  { key: 'markPrice', numeric: true },
  { key: 'marketValue', numeric: true },
  { key: 'unrealizedPnl', numeric: true },
  { key: 'realizedPnl', numeric: true },
];
const FILL_COLUMNS: Column[] = [
  { key: 'time' },
  { key: 'orderId', numeric: true },
  { key: 'seq', numeric: true },
  { key: 'clientOrderId' },
  { key: 'symbol' },
  { key: 'side' },
  { key: 'quantity', numeric: true },
  { key: 'price', numeric: true },
  { key: 'notional', numeric: true },
  { key: 'fee', numeric: true },
];
const PNL_COLUMNS: Column[] = [{ key: 'date' }, { key: 'openingEquity', numeric: true }, { key: 'closingEquity', numeric: true }, { key: 'pnl', numeric: true }];
const ACCOUNT_COLUMNS: Column[] = [{ key: 'field' }, { key: 'value' }];
const STRATEGY_COLUMNS: Column[] = [{ key: 'id' }, { key: 'symbol' }, { key: 'policyId' }, { key: 'targetNotional', numeric: true }, { key: 'enabled' }, { key: 'running' }];

const FORMAT_HELP = 'table | csv | json (default: table on a terminal, csv otherwise)';

export function registerTradingCommands(program: Command): void {
  registerOrderCommands(program);
  listCommand(program, 'orders', 'Orders, newest first', ORDER_COLUMNS)
    .option('--open', 'only orders not yet final')
    .option('--limit <n>', 'at most this many (default: all, read page by page)')
    .action(async (o: OrdersCliOptions) => {
      const orders = await allOrders(o, o.limit === undefined ? Number.POSITIVE_INFINITY : parseIntegerArg('--limit', o.limit));
      await printRows(o, ORDER_COLUMNS, orders.map(orderRow));
    });
  listCommand(program, 'positions', 'Positions with unrealized P&L at the latest price', POSITION_COLUMNS).action(async (o: ListCliOptions) => {
    const list = await apiClient(o).get<PositionList>('/api/trading/positions');
    await printRows(o, POSITION_COLUMNS, list.positions);
  });
  listCommand(program, 'fills', 'Fills, oldest first', FILL_COLUMNS)
    .option('--limit <n>', 'at most this many (default: all, read page by page)')
    .action(async (o: FillsCliOptions) => {
      const fills = await allFills(o, o.limit === undefined ? Number.POSITIVE_INFINITY : parseIntegerArg('--limit', o.limit));
      await printRows(o, FILL_COLUMNS, fills);
    });
  listCommand(program, 'pnl', 'Daily P&L in COP (Bogota trading days)', PNL_COLUMNS)
    .option('--from <date>', 'first day (default: 30 days before --to)')
    .option('--to <date>', 'last day (default: today)')
    .action(async (o: PnlCliOptions) => {
      const series = await apiClient(o).get<PnlSeries>(`/api/trading/pnl${pnlQuery(o)}`);
      await printRows(o, PNL_COLUMNS, series.days);
    });
  listCommand(program, 'account', 'The paper account: cash, equity, P&L, fees, trading state and limits', ACCOUNT_COLUMNS).action(async (o: ListCliOptions) => {
    const account = await apiClient(o).get<AccountJson>('/api/trading/account');
    await printRows(o, ACCOUNT_COLUMNS, accountRows(account));
  });
  registerKillSwitchCommands(program);
  registerStrategyCommands(program);
}

function registerOrderCommands(program: Command): void {
  const order = program.command('order').description('Place or cancel an order (a trader token in TASA_TOKEN)');
  for (const side of ['buy', 'sell'] as const) {
    withServerOption(
      order
        .command(`${side} <quantityUsd>`)
        .description(`${side === 'buy' ? 'Buy' : 'Sell'} USD notional`)
        .option('--type <type>', 'market | limit | stop', 'market')
        .option('--limit <price>', 'limit price, COP per USD (limit orders)')
        .option('--stop <price>', 'stop price, COP per USD (stop orders)')
        .option('--tif <tif>', 'DAY | GTC', 'DAY')
        .option('--client-id <id>', 'your id for the order: sending it again is the same order')
        .option('--symbol <symbol>', 'instrument', 'USD/COP'),
    ).action(async (quantity: string, o: OrderCliOptions) => {
      const { order: placed } = await apiClient(o).post<Static<typeof OrderResponse>>('/api/trading/orders', orderBody(side, quantity, o));
      console.log(describeOrder(placed));
    });
  }
  withServerOption(order.command('cancel <id>').description('Cancel an open order')).action(async (id: string, o: ServerOptions) => {
    if (!/^[1-9]\d*$/.test(id)) throw new TasaError('bad_argument', `The order id must be a positive whole number, not "${id}".`, { input: id });
    const { order: cancelled } = await apiClient(o).delete<Static<typeof OrderResponse>>(`/api/trading/orders/${id}`);
    console.log(describeOrder(cancelled));
  });
}

function registerKillSwitchCommands(program: Command): void {
  withServerOption(program.command('halt').description('Kill switch (admin token): halt trading and cancel open orders'))
    .option('--reason <text>', 'why (kept in the audit log)', 'halted from the CLI')
    .option('--flatten', 'also close every position with market orders')
    .action(async (o: HaltCliOptions) => {
      const body = { reason: o.reason ?? '', ...(o.flatten === true ? { flatten: true } : {}) };
      console.log(describeState((await apiClient(o).post<Static<typeof TradingStateResponse>>('/api/trading/halt', body)).tradingState));
    });
  withServerOption(program.command('resume').description('Resume trading after a halt (admin token)'))
    .option('--reason <text>', 'why (kept in the audit log)', 'resumed from the CLI')
    .action(async (o: HaltCliOptions) => {
      const body = { reason: o.reason ?? '' };
      console.log(describeState((await apiClient(o).post<Static<typeof TradingStateResponse>>('/api/trading/resume', body)).tradingState));
    });
}

function registerStrategyCommands(program: Command): void {
  listCommand(program, 'strategies', 'Strategies: the policy each trades and whether it runs', STRATEGY_COLUMNS).action(async (o: ListCliOptions) => {
    const list = await apiClient(o).get<Static<typeof StrategyList>>('/api/trading/strategies');
    await printRows(o, STRATEGY_COLUMNS, list.strategies);
  });
  const strategy = program.command('strategy').description('Start or stop a strategy (a trader token in TASA_TOKEN)');
  withServerOption(strategy.command('start <id>').description('Start a strategy: a new one needs --policy, --symbol and --notional; a stored one starts as saved unless given'))
    .option('--policy <id>', 'a registered model id or a baseline (flat, always-long, sma-crossover, rsi-mean-reversion)')
    .option('--symbol <symbol>', 'instrument, e.g. USD/COP')
    .option('--notional <usd>', 'USD a full long or short decision aims at')
    .action(async (id: string, o: StrategyCliOptions) => {
      const body: StartStrategyBody = { ...(o.policy === undefined ? {} : { policyId: o.policy }), ...(o.symbol === undefined ? {} : { symbol: o.symbol }), ...(o.notional === undefined ? {} : { targetNotional: o.notional }) };
      const { strategy: started } = await apiClient(o).post<Static<typeof StrategyResponse>>(`/api/trading/strategies/${encodeURIComponent(id)}/start`, body);
      console.log(describeStrategy(started));
    });
  withServerOption(strategy.command('stop <id>').description('Stop a strategy: its working orders are cancelled, its position kept')).action(async (id: string, o: ServerOptions) => {
    const { strategy: stopped } = await apiClient(o).post<Static<typeof StrategyResponse>>(`/api/trading/strategies/${encodeURIComponent(id)}/stop`, {});
    console.log(describeStrategy(stopped));
  });
}

function listCommand(program: Command, name: string, description: string, columns: readonly Column[]): Command {
  const cmd = program.command(name).description(`${description}; columns: ${columns.map((c) => c.key).join(', ')}`);
  return withServerOption(cmd).option('--format <format>', FORMAT_HELP);
}

function orderBody(side: 'buy' | 'sell', quantity: string, o: OrderCliOptions): PlaceOrderBody {
  return {
    symbol: o.symbol,
    side,
    type: parseChoiceArg('--type', o.type, ['market', 'limit', 'stop'] as const),
    quantity,
    timeInForce: parseChoiceArg('--tif', o.tif.toUpperCase(), ['DAY', 'GTC'] as const),
    ...(o.limit === undefined ? {} : { limitPrice: o.limit }),
    ...(o.stop === undefined ? {} : { stopPrice: o.stop }),
    ...(o.clientId === undefined ? {} : { clientOrderId: o.clientId }),
  };
}

function pnlQuery(o: PnlCliOptions): string {
  if (o.from === undefined) return o.to === undefined ? '' : `?to=${parseIsoDateArg('--to', o.to)}`;
  const range = parseDateRange(o.from, o.to);
  return `?from=${range.from}&to=${range.to}`;
}

async function printRows(o: ListCliOptions, columns: readonly Column[], rows: readonly Row[]): Promise<void> {
  const writer = createRowWriter(parseFormat(o.format, process.stdout.isTTY), columns, process.stdout);
  await writer.write(rows);
  await writer.end();
}

/** Orders newest first, following the API's pages until `limit` or the oldest. */
async function allOrders(o: OrdersCliOptions, limit: number): Promise<OrderList['orders']> {
  const client = apiClient(o);
  const orders: OrderList['orders'] = [];
  let before: number | null = null;
  do {
    const size = Math.min(ORDERS_PAGE, limit - orders.length);
    const query = `status=${o.open === true ? 'open' : 'all'}&limit=${size}${before === null ? '' : `&before=${before}`}`;
    const page: OrderList = await client.get<OrderList>(`/api/trading/orders?${query}`);
    orders.push(...page.orders);
    before = page.nextBefore;
  } while (before !== null && orders.length < limit);
  return orders;
}

/** Fills oldest first, following the API's pages until `limit` or the newest. */
async function allFills(o: FillsCliOptions, limit: number): Promise<FillList['fills']> {
  const client = apiClient(o);
  const fills: FillList['fills'] = [];
  let after: string | null = null;
  do {
    const size = Math.min(FILLS_PAGE, limit - fills.length);
    const page: FillList = await client.get<FillList>(`/api/trading/fills?limit=${size}${after === null ? '' : `&after=${after}`}`);
    fills.push(...page.fills);
    after = page.nextAfter;
  } while (after !== null && fills.length < limit);
  return fills;
}

/** An order's current state as a row; its status history is left to the API (`GET /api/trading/orders/{id}`). */
function orderRow(order: OrderJson): Row {
  const { id, clientOrderId, symbol, side, type, timeInForce, quantity, filledQuantity, limitPrice, stopPrice, status, reason, at } = order;
  return { id, clientOrderId, symbol, side, type, timeInForce, quantity, filledQuantity, limitPrice, stopPrice, status, reason, at };
}

function accountRows(a: AccountJson): Row[] {
  const state = a.tradingState;
  const fields: Array<[string, string | number | boolean | null]> = [
    ['cash', a.cash],
    ['equity', a.equity],
    ['initialCash', a.initialCash],
    ['realizedPnl', a.realizedPnl],
    ['unrealizedPnl', a.unrealizedPnl],
    ['fees', a.fees],
    ['tradingState', `${state.mode} since ${state.since}${state.reason === null ? '' : ` (${state.reason})`}`],
    ['maxPositionUsd', a.limits.maxPositionUsd],
    ['maxOrderUsd', a.limits.maxOrderUsd],
    ['maxOrdersPerMinute', a.limits.maxOrdersPerMinute],
    ['dailyLossLimitCop', a.limits.dailyLossLimitCop],
    ['priceBandBps', a.limits.priceBandBps],
    ['engine', a.engine.running ? 'runs in this server' : `runs in ${a.engine.holder ?? 'no process'}`],
  ];
  return fields.map(([field, value]) => ({ field, value }));
}

function describeOrder(o: OrderJson): string {
  const price = o.limitPrice ?? o.stopPrice;
  const at = price === null ? '' : ` at ${price}`;
  return `order ${o.id} (${o.clientOrderId}): ${o.side} ${o.quantity} USD ${o.symbol} ${o.type}${at} ${o.timeInForce}, ${o.status}${o.reason === null ? '' : `: ${o.reason}`}`;
}

function describeStrategy(s: StrategyJson): string {
  const state = s.running === null ? (s.enabled ? 'enabled' : 'disabled') : s.running ? 'running' : 'stopped';
  return `strategy ${s.id}: ${s.policyId} on ${s.symbol}, ${s.targetNotional} USD, ${state}`;
}

function describeState(s: TradingStateJson): string {
  return `trading ${s.mode} since ${s.since} by ${s.actor}${s.reason === null ? '' : `: ${s.reason}`}`;
}
