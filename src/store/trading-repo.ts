/**
 * Orders, their transitions and fills. Writes are idempotent where a retry can happen: an order
 * is inserted once per client order id, a fill once per (order, seq), a transition once per
 * (order, step). `recordFill` writes the fill, the order's new state, the position and the
 * account in one transaction. Money is int8 minor units read as text (see trading-state-repo.ts).
 */
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import type { Account } from '../trading/account.ts';
import type { Fill } from '../trading/fill-model.ts';
import type { Order, OrderSide, OrderStatus, OrderTransition, OrderType, TimeInForce } from '../trading/order.ts';
import type { Position } from '../trading/position.ts';
import type { Db } from './db.ts';
import { isoTime } from './rows.ts';
import { saveAccount } from './trading-state-repo.ts';

export interface OrderMeta {
  /** DAY orders: the session whose close expires them. */
  sessionDate: IsoDate | null;
  actor: string;
  strategyId: string | null;
}

export interface StoredOrder extends Order, OrderMeta {
  id: number;
  createdAt: number;
  updatedAt: number;
  /** Exchange time of the tick of its latest fill; null before its first fill. */
  lastFillTime: number | null;
}

export interface StoredFill extends Fill {
  orderId: number;
}

export interface FillWrite {
  /** The order after `recordFill` with this fill. */
  order: StoredOrder;
  fill: Fill;
  /** The account and the fill's position after it. */
  account: Account;
  position: Position;
}

export interface OrderFilter {
  open?: boolean;
  symbol?: SymbolCode;
  limit: number;
  /** Keyset paging: orders with a smaller id only. */
  beforeId?: number;
}

const OPEN_STATUSES = ['new', 'accepted', 'partially_filled'];

const ORDER_COLUMNS = `o.id::int8 AS id, o.client_order_id, o.symbol, o.side, o.type, o.quantity::text, o.time_in_force,
  o.limit_price::text, o.stop_price::text, o.status, o.filled_quantity::text, o.fill_count, o.session_date::text,
  o.actor, o.strategy_id, o.created_at, o.updated_at,
  (SELECT max(f.time) FROM trading_fills f WHERE f.order_id = o.id) AS last_fill_time`;

interface OrderRow {
  id: number;
  client_order_id: string;
  symbol: SymbolCode;
  side: OrderSide;
  type: OrderType;
  quantity: string;
  time_in_force: TimeInForce;
  limit_price: string | null;
  stop_price: string | null;
  status: OrderStatus;
  filled_quantity: string;
  fill_count: number;
  session_date: IsoDate | null;
  actor: string;
  strategy_id: string | null;
  created_at: Date;
  updated_at: Date;
  last_fill_time: Date | null;
}

/**
 * Inserts the order with its history unless its client order id is taken; returns the stored
 * order either way (`created` false: the earlier one, left as it was). Concurrent inserts of one
 * id yield one row.
 */
export async function insertOrder(db: Db, order: Order, meta: OrderMeta): Promise<{ order: StoredOrder; created: boolean }> {
  return db.transaction(async (tx) => {
    const at = isoTime(order.history[0]?.at ?? 0);
    const [inserted] = await tx.query<{ id: number }>(
      `INSERT INTO trading_orders (client_order_id, symbol, side, type, quantity, time_in_force, limit_price, stop_price, status,
         filled_quantity, fill_count, session_date, actor, strategy_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5::int8, $6, $7::int8, $8::int8, $9, $10::int8, $11, $12::date, $13, $14, $15::timestamptz, $15::timestamptz)
       ON CONFLICT (client_order_id) DO NOTHING RETURNING id::int8 AS id`,
      [
        order.clientOrderId, order.symbol, order.side, order.type, String(order.quantity), order.timeInForce, textOrNull(order.limitPrice),
        textOrNull(order.stopPrice), order.status, String(order.filledQuantity), order.fillCount, meta.sessionDate, meta.actor, meta.strategyId, at,
      ],
    );
    if (inserted) await insertTransitions(tx, Number(inserted.id), order.history);
    const stored = await findOrder(tx, { clientOrderId: order.clientOrderId });
    if (!stored) throw new Error(`order ${order.clientOrderId} is missing after its insert`);
    return { order: stored, created: inserted !== undefined };
  });
}

/** Writes the order's status, filled quantity and any transitions not yet stored. */
export async function saveOrder(db: Db, order: StoredOrder): Promise<void> {
  await db.transaction(async (tx) => {
    const at = isoTime(order.history.at(-1)?.at ?? order.updatedAt);
    await tx.query(
      'UPDATE trading_orders SET status = $2, filled_quantity = $3::int8, fill_count = $4, session_date = $5::date, updated_at = $6::timestamptz WHERE id = $1',
      [order.id, order.status, String(order.filledQuantity), order.fillCount, order.sessionDate, at],
    );
    await insertTransitions(tx, order.id, order.history);
  });
}

async function insertTransitions(tx: Db, orderId: number, history: readonly OrderTransition[]): Promise<void> {
  await tx.query(
    `INSERT INTO trading_order_transitions (order_id, step, status, at, reason)
     SELECT $1, t.step - 1, t.status, t.at, t.reason FROM unnest($2::text[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS t(status, at, reason, step)
     ON CONFLICT (order_id, step) DO NOTHING`,
    [orderId, history.map((h) => h.status), history.map((h) => isoTime(h.at)), history.map((h) => h.reason)],
  );
}

/**
 * Writes a fill with its order's new state, the position and the account, in one transaction.
 * Returns false, writing nothing, when the order already has a fill with this seq.
 */
export async function recordFill(db: Db, write: FillWrite, recordedAt: number): Promise<boolean> {
  const { fill, order } = write;
  return db.transaction(async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO trading_fills (order_id, seq, symbol, side, time, quantity, price, notional, fee, recorded_at)
       VALUES ($1, $2, $3, $4, $5::timestamptz, $6::int8, $7::int8, $8::int8, $9::int8, $10::timestamptz)
       ON CONFLICT (order_id, seq) DO NOTHING RETURNING seq`,
      [order.id, fill.seq, fill.symbol, fill.side, isoTime(fill.time), String(fill.quantity), String(fill.price), String(fill.notional), String(fill.fee), isoTime(recordedAt)],
    );
    if (inserted.length === 0) return false;
    await saveOrder(tx, order);
    await saveAccount(tx, write.account, write.position, recordedAt);
    return true;
  });
}

export async function findOrder(db: Db, ref: { id: number } | { clientOrderId: string }): Promise<StoredOrder | null> {
  const [where, value] = 'id' in ref ? ['o.id = $1::int8', ref.id] : ['o.client_order_id = $1', ref.clientOrderId];
  const rows = await db.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM trading_orders o WHERE ${where}`, [value]);
  return (await withHistory(db, rows))[0] ?? null;
}

/** Orders newest first; `open`: only those not yet final (new, accepted, partially filled). */
export async function listOrders(db: Db, filter: OrderFilter): Promise<StoredOrder[]> {
  const rows = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM trading_orders o
     WHERE ($1::boolean IS NOT TRUE OR o.status = ANY($2::text[])) AND ($3::text IS NULL OR o.symbol = $3) AND ($5::int8 IS NULL OR o.id < $5::int8)
     ORDER BY o.id DESC LIMIT $4`,
    [filter.open ?? false, OPEN_STATUSES, filter.symbol ?? null, filter.limit, filter.beforeId ?? null],
  );
  return withHistory(db, rows);
}

/** Every order not yet final, oldest first: what a restart hands back to the broker. */
export async function openOrders(db: Db): Promise<StoredOrder[]> {
  const rows = await db.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM trading_orders o WHERE o.status = ANY($1::text[]) ORDER BY o.id`, [OPEN_STATUSES]);
  return withHistory(db, rows);
}

/** When the orders created at or after `from` and sent on (not denied) were created: the order-rate limit. Oldest first. */
export async function orderTimesSince(db: Db, from: number): Promise<number[]> {
  const rows = await db.query<{ created_at: Date }>("SELECT created_at FROM trading_orders WHERE created_at >= $1::timestamptz AND status <> 'denied' ORDER BY created_at", [isoTime(from)]);
  return rows.map((r) => r.created_at.getTime());
}

/** Fills with `from <= time < to` (either bound optional), of one strategy's orders if given, oldest first. */
export async function listFills(db: Db, filter: { from?: number; to?: number; strategyId?: string; limit: number }): Promise<StoredFill[]> {
  const rows = await db.query<{
    order_id: number; client_order_id: string; seq: number; symbol: SymbolCode; side: OrderSide; time: Date; quantity: string; price: string; notional: string; fee: string;
  }>(
    `SELECT f.order_id::int8 AS order_id, o.client_order_id, f.seq, f.symbol, f.side, f.time, f.quantity::text, f.price::text, f.notional::text, f.fee::text
     FROM trading_fills f JOIN trading_orders o ON o.id = f.order_id
     WHERE ($1::timestamptz IS NULL OR f.time >= $1) AND ($2::timestamptz IS NULL OR f.time < $2) AND ($4::text IS NULL OR o.strategy_id = $4)
     ORDER BY f.time, f.order_id, f.seq LIMIT $3`,
    [filter.from === undefined ? null : isoTime(filter.from), filter.to === undefined ? null : isoTime(filter.to), filter.limit, filter.strategyId ?? null],
  );
  return rows.map((r) => ({
    orderId: Number(r.order_id), clientOrderId: r.client_order_id, seq: r.seq, symbol: r.symbol, side: r.side, time: r.time.getTime(),
    quantity: BigInt(r.quantity), price: BigInt(r.price), notional: BigInt(r.notional), fee: BigInt(r.fee),
  }));
}

async function withHistory(db: Db, rows: readonly OrderRow[]): Promise<StoredOrder[]> {
  if (rows.length === 0) return [];
  const steps = await db.query<{ order_id: number; status: OrderStatus; at: Date; reason: string | null }>(
    'SELECT order_id::int8 AS order_id, status, at, reason FROM trading_order_transitions WHERE order_id = ANY($1::int8[]) ORDER BY order_id, step',
    [rows.map((r) => r.id)],
  );
  const byOrder = new Map<number, OrderTransition[]>();
  for (const s of steps) {
    const list = byOrder.get(Number(s.order_id)) ?? [];
    list.push({ status: s.status, at: s.at.getTime(), reason: s.reason });
    byOrder.set(Number(s.order_id), list);
  }
  return rows.map((r) => orderFromRow(r, byOrder.get(Number(r.id)) ?? []));
}

function orderFromRow(r: OrderRow, history: OrderTransition[]): StoredOrder {
  return {
    id: Number(r.id), clientOrderId: r.client_order_id, symbol: r.symbol, side: r.side, type: r.type, quantity: BigInt(r.quantity),
    timeInForce: r.time_in_force, limitPrice: bigOrNull(r.limit_price), stopPrice: bigOrNull(r.stop_price), status: r.status,
    filledQuantity: BigInt(r.filled_quantity), fillCount: r.fill_count, history, sessionDate: r.session_date, actor: r.actor,
    strategyId: r.strategy_id, createdAt: r.created_at.getTime(), updatedAt: r.updated_at.getTime(), lastFillTime: r.last_fill_time?.getTime() ?? null,
  };
}

function textOrNull(value: bigint | null): string | null {
  return value === null ? null : String(value);
}

function bigOrNull(text: string | null): bigint | null {
  return text === null ? null : BigInt(text);
}
