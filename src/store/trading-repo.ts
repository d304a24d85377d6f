/**
 * Orders, their transitions and fills. Writes are idempotent where a retry can happen: an order
 * is inserted once per client order id, a fill once per (order, seq), a transition once per
 * (order, step). `recordFill` writes the fill, the order's new state, the position, the account
 * and the audit entry in one statement. With a lease fence, a write of a process that no longer
 * holds the lease is refused (leases-repo `fenceCte`). Money is int8 minor units read as text
 * (see trading-state-repo.ts).
 */
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import type { Account } from '../trading/account.ts';
import type { Fill } from '../trading/fill-model.ts';
import type { Order, OrderSide, OrderStatus, OrderTransition, OrderType, TimeInForce } from '../trading/order.ts';
import type { Position } from '../trading/position.ts';
import type { AuditInput } from './audit-repo.ts';
import type { Db } from './db.ts';
import { fenceCte, fencedOut, fenceParams, type LeaseFence } from './leases-repo.ts';
import { isoTime, isoTimeOrNull } from './rows.ts';

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
 * id yield one row. One statement (atomic without a transaction of its own); with a `fence`,
 * refused (`fencedOut`) unless the lease still carries its holder and epoch.
 */
export async function insertOrder(db: Db, order: Order, meta: OrderMeta, fence: LeaseFence | null = null): Promise<{ order: StoredOrder; created: boolean }> {
  const at = isoTime(order.history[0]?.at ?? 0);
  const [row] = await db.query<{ allowed: boolean; id: number | null }>(
    `WITH ${fenceCte(19)},
     inserted AS (
       INSERT INTO trading_orders (client_order_id, symbol, side, type, quantity, time_in_force, limit_price, stop_price, status,
         filled_quantity, fill_count, session_date, actor, strategy_id, created_at, updated_at)
       SELECT $1, $2, $3, $4, $5::int8, $6, $7::int8, $8::int8, $9, $10::int8, $11::int, $12::date, $13, $14, $15::timestamptz, $15::timestamptz FROM fence
       ON CONFLICT (client_order_id) DO NOTHING RETURNING id
     ),
     steps AS (${transitionsInsert('inserted', 16)})
     SELECT EXISTS (SELECT 1 FROM fence) AS allowed, (SELECT id::int8 FROM inserted) AS id`,
    [
      order.clientOrderId, order.symbol, order.side, order.type, String(order.quantity), order.timeInForce, textOrNull(order.limitPrice),
      textOrNull(order.stopPrice), order.status, String(order.filledQuantity), order.fillCount, meta.sessionDate, meta.actor, meta.strategyId, at,
      ...transitionParams(order.history), ...fenceParams(fence),
    ],
  );
  if (fence !== null && row?.allowed !== true) throw fencedOut(fence);
  const stored = await findOrder(db, { clientOrderId: order.clientOrderId });
  if (!stored) throw new Error(`order ${order.clientOrderId} is missing after its insert`);
  return { order: stored, created: row?.id !== null && row?.id !== undefined };
}

/** Writes the order's status, filled quantity and any transitions not yet stored, in one statement; fenced like `insertOrder`. */
export async function saveOrder(db: Db, order: StoredOrder, fence: LeaseFence | null = null): Promise<void> {
  const at = isoTime(order.history.at(-1)?.at ?? order.updatedAt);
  const [row] = await db.query<{ allowed: boolean }>(
    `WITH ${fenceCte(10)},
     saved AS (
       UPDATE trading_orders SET status = $2, filled_quantity = $3::int8, fill_count = $4::int, session_date = $5::date, updated_at = $6::timestamptz
       WHERE id = $1::int8 AND EXISTS (SELECT 1 FROM fence) RETURNING id
     ),
     steps AS (${transitionsInsert('saved', 7)})
     SELECT EXISTS (SELECT 1 FROM fence) AS allowed`,
    [order.id, order.status, String(order.filledQuantity), order.fillCount, order.sessionDate, at, ...transitionParams(order.history), ...fenceParams(fence)],
  );
  if (fence !== null && row?.allowed !== true) throw fencedOut(fence);
}

/** The INSERT of a whole history (`transitionParams` at `$first`..) for the order ids in CTE `orders`; steps stored already are kept. */
function transitionsInsert(orders: string, first: number): string {
  return `INSERT INTO trading_order_transitions (order_id, step, status, at, reason)
       SELECT o.id, t.step - 1, t.status, t.at, t.reason
       FROM ${orders} o, unnest($${first}::text[], $${first + 1}::timestamptz[], $${first + 2}::text[]) WITH ORDINALITY AS t(status, at, reason, step)
       ON CONFLICT (order_id, step) DO NOTHING`;
}

function transitionParams(history: readonly OrderTransition[]): [string[], string[], (string | null)[]] {
  return [history.map((h) => h.status), history.map((h) => isoTime(h.at)), history.map((h) => h.reason)];
}

/**
 * Writes a fill with its order's new state (and its one new transition), the position, the
 * account and the fill's audit entry, as ONE statement: every part depends on the fill's insert,
 * so a second write of the same (order, seq) changes nothing and returns false. One statement is
 * atomic without a transaction, and costs one round trip where BEGIN + six writes + COMMIT cost
 * eight (the fill is the latency path: a tick waits for it). Fenced like `insertOrder`.
 */
export async function recordFill(db: Db, write: FillWrite, recordedAt: number, opts: { audit?: AuditInput; fence?: LeaseFence | null } = {}): Promise<boolean> {
  const { fill, order, account, position } = write;
  const step = order.history.at(-1);
  if (step === undefined) throw new Error(`order ${order.clientOrderId} has no history`);
  const audit = opts.audit ?? null;
  const fence = opts.fence ?? null;
  const [row] = await db.query<{ allowed: boolean; written: boolean }>(
    `WITH ${fenceCte(29)},
     fill AS (
       INSERT INTO trading_fills (order_id, seq, symbol, side, time, quantity, price, notional, fee, recorded_at)
       SELECT $1::int8, $2::int, $3, $4, $5::timestamptz, $6::int8, $7::int8, $8::int8, $9::int8, $10::timestamptz FROM fence
       ON CONFLICT (order_id, seq) DO NOTHING RETURNING order_id
     ),
     filled AS (
       UPDATE trading_orders SET status = $11::text, filled_quantity = $12::int8, fill_count = $28::int, updated_at = $13::timestamptz
       WHERE id IN (SELECT order_id FROM fill)
     ),
     step AS (INSERT INTO trading_order_transitions (order_id, step, status, at, reason) SELECT order_id, $14::int, $11::text, $13::timestamptz, $32::text FROM fill),
     account AS (
       UPDATE trading_account SET cash = $15::int8, fees = $16::int8, realized_pnl = $17::int8, updated_at = $10::timestamptz
       WHERE id = 1 AND EXISTS (SELECT 1 FROM fill)
     ),
     position AS (
       INSERT INTO trading_positions (symbol, quantity, cost_basis, realized_pnl, updated_at)
       SELECT $18, $19::int8, $20::int8, $21::int8, $10::timestamptz FROM fill
       ON CONFLICT (symbol) DO UPDATE SET quantity = excluded.quantity, cost_basis = excluded.cost_basis,
         realized_pnl = excluded.realized_pnl, updated_at = excluded.updated_at
     ),
     audit AS (
       INSERT INTO audit_log (at, actor, action, entity, details)
       SELECT coalesce($22::timestamptz, now()), $23, $24, $25, $26::text::jsonb FROM fill WHERE $27::boolean
     )
     SELECT EXISTS (SELECT 1 FROM fence) AS allowed, EXISTS (SELECT 1 FROM fill) AS written`,
    [
      order.id, fill.seq, fill.symbol, fill.side, isoTime(fill.time), String(fill.quantity), String(fill.price), String(fill.notional), String(fill.fee), isoTime(recordedAt),
      order.status, String(order.filledQuantity), isoTime(step.at), order.history.length - 1,
      String(account.cash), String(account.fees), String(account.realizedPnl),
      position.symbol, String(position.quantity), String(position.costBasis), String(position.realizedPnl),
      isoTimeOrNull(audit?.at), audit?.actor ?? null, audit?.action ?? null, audit?.entity ?? null, JSON.stringify(audit?.details ?? {}), audit !== null,
      order.fillCount, ...fenceParams(fence), step.reason,
    ],
  );
  if (fence !== null && row?.allowed !== true) throw fencedOut(fence);
  return row?.written === true;
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
/** Where a page of fills ended: the next page starts after this fill (fills are ordered by time, order id, seq). */
export interface FillCursor {
  time: number;
  orderId: number;
  seq: number;
}

export async function listFills(db: Db, filter: { from?: number; to?: number; strategyId?: string; after?: FillCursor; limit: number }): Promise<StoredFill[]> {
  const after = filter.after;
  const rows = await db.query<{
    order_id: number; client_order_id: string; seq: number; symbol: SymbolCode; side: OrderSide; time: Date; quantity: string; price: string; notional: string; fee: string;
  }>(
    `SELECT f.order_id::int8 AS order_id, o.client_order_id, f.seq, f.symbol, f.side, f.time, f.quantity::text, f.price::text, f.notional::text, f.fee::text
     FROM trading_fills f JOIN trading_orders o ON o.id = f.order_id
     WHERE ($1::timestamptz IS NULL OR f.time >= $1) AND ($2::timestamptz IS NULL OR f.time < $2) AND ($4::text IS NULL OR o.strategy_id = $4)
       AND ($5::timestamptz IS NULL OR (f.time, f.order_id, f.seq) > ($5::timestamptz, $6::int8, $7::int4))
     ORDER BY f.time, f.order_id, f.seq LIMIT $3`,
    [
      filter.from === undefined ? null : isoTime(filter.from),
      filter.to === undefined ? null : isoTime(filter.to),
      filter.limit,
      filter.strategyId ?? null,
      after === undefined ? null : isoTime(after.time),
      after?.orderId ?? null,
      after?.seq ?? null,
    ],
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
