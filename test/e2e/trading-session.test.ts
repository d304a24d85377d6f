/**
 * End to end: a whole USD/COP trading session (08:00-13:00 Bogota) on the seeded simulator, the
 * system running as it runs in production: `tasa ingest` and `tasa serve` as OS processes on a
 * scratch PostgreSQL database and a private Redis, every process on one fast simulated timeline.
 * The `serve` process runs the trading engine (it holds the `trading` lease).
 *
 * A strategy trades the `sma-crossover` baseline through the API while a trader places manual
 * orders beside it over HTTP. Mid-session the engine's process is killed with SIGKILL and
 * restarted: no order is lost, nothing is filled twice, open orders are restored. Later a losing
 * trade trips the daily loss limit: HALTED, open orders cancelled, new orders refused with a 422,
 * the kill audited; the operator raises the limit, restarts, and an admin resumes. After the
 * close every order is final (DAY orders expired), every fill is priced inside its slot's
 * simulated bar, and the account reconciles exactly in minor units against figures computed here
 * from the fills.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { ScaledClock } from '../../src/clock.ts';
import type { AccountJson, OrderJson, PositionList } from '../../src/contracts/api/trading.ts';
import { MarketCalendar, type Session } from '../../src/domain/calendar.ts';
import { resolveInstruments } from '../../src/feeds/simulator/instruments.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { createRestSource, vendorBar, type HistorySource } from '../../src/jobs/history-source.ts';
import { createApiToken } from '../../src/store/api-tokens-repo.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { syncReferenceData } from '../../src/store/reference-data.ts';
import { abs, formatPrice, parseCop, parseDecimal, parsePrice, USD_DECIMALS, type Price } from '../../src/trading/money.ts';
import { tasaEnv, untilClock } from '../faults/support/fault-session.ts';
import { startTasa, type TasaProcess } from '../faults/support/processes.ts';
import { freePort } from '../support/free-port.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { openScratchPostgres } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';

const SYMBOL = 'USD/COP';
const MIN = 60_000;
/** A session (5 h) in 150 real seconds. */
const SPEED = 120;
const calendar = new MarketCalendar();
/** A Wednesday; the Tuesday before it is the strategy's warm-up history. */
const SESSION = calendar.sessionFor('2026-03-04');
const WARM_UP = calendar.sessionFor('2026-03-03');
const PRE_OPEN_MS = 2 * MIN;
/** Wall time the processes get to start before the clock reaches PRE_OPEN. */
const STARTUP_REAL_MS = 16_000;
const PROCESS_START_REAL_MS = 90_000;
const logger = pino({ level: 'silent' });

/** Small positions keep the market's noise far below the loss limit; the 25k round trips then cross it. */
const LOSS_LIMIT_COP = 400_000;
const RAISED_LOSS_LIMIT_COP = 50_000_000;
const MANUAL_USD = '200.00';
const STRATEGY_USD = '500.00';
const DRIVE_USD = '25000.00';
const MAX_DRIVE_ROUNDS = 12;
const SLIPPAGE_BPS = 1;
const FEE_BPS = 1;
const FIXED_FEE_COP = '2.50';
const INITIAL_CASH_COP = 400_000_000;
/** 1.5 % away from the market (in bps): inside the 2 % price band, and (5 sigma of two hours) not reached. */
const FAR = 150n;

const TRADING_ENV = {
  TASA_TRADING_INITIAL_CASH_COP: String(INITIAL_CASH_COP),
  TASA_TRADING_DAILY_LOSS_LIMIT_COP: String(LOSS_LIMIT_COP),
  TASA_TRADING_SLIPPAGE_BPS: String(SLIPPAGE_BPS),
  TASA_TRADING_FEE_BPS: String(FEE_BPS),
  TASA_TRADING_FIXED_FEE_COP: FIXED_FEE_COP,
  // A clock time: 2 real seconds at this speed, so that a stalled process on a loaded machine does not make the feed look stale.
  TASA_TRADING_STALE_AFTER_MS: String(2_000 * SPEED),
  // The strategy's closing order (GTC) must fill before the close even if a process stalls a few real seconds.
  TASA_TRADING_FLATTEN_LEAD_MS: String(10 * MIN),
};

const FINAL = new Set(['filled', 'cancelled', 'rejected', 'expired', 'denied']);

interface Rig {
  clock: ScaledClock;
  session: Session;
  sim: RunningSimulator;
  rest: HistorySource;
  db: Db;
  dir: string;
  env: Record<string, string>;
  baseUrl: string;
  trader: string;
  admin: string;
  adminId: string;
  processes: TasaProcess[];
}

interface Reply<T> {
  status: number;
  body: T;
}

interface OrderReply {
  order: OrderJson;
  error?: { code: string; message: string };
}

interface StoredOrderRow {
  id: string;
  client_order_id: string;
  status: string;
  time_in_force: string;
  quantity: string;
  filled_quantity: string;
  fill_count: number;
  updated_ms: string;
}

interface StoredFillRow {
  order_id: string;
  seq: number;
  side: 'buy' | 'sell';
  time_ms: string;
  quantity: string;
  price: string;
  notional: string;
  fee: string;
}

interface StoreSnapshot {
  orders: StoredOrderRow[];
  fills: StoredFillRow[];
  position: bigint;
}

async function api<T>(rig: Rig, method: string, path: string, token?: string, body?: unknown): Promise<Reply<T>> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(rig.baseUrl + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as T };
}

function place(rig: Rig, order: Record<string, string>): Promise<Reply<OrderReply>> {
  return api<OrderReply>(rig, 'POST', '/api/trading/orders', rig.trader, { symbol: SYMBOL, ...order });
}

async function placed(rig: Rig, order: Record<string, string>): Promise<OrderJson> {
  const reply = await place(rig, order);
  assert.equal(reply.status, 201, `order ${order['clientOrderId']} placed: ${JSON.stringify(reply.body)}`);
  return reply.body.order;
}

async function orderById(rig: Rig, id: number): Promise<OrderJson> {
  const reply = await api<OrderReply>(rig, 'GET', `/api/trading/orders/${id}`);
  assert.equal(reply.status, 200);
  return reply.body.order;
}

async function untilOrder(rig: Rig, id: number, statuses: readonly string[]): Promise<OrderJson> {
  let last: OrderJson | null = null;
  await waitFor(
    async () => statuses.includes((last = await orderById(rig, id)).status),
    () => `order ${id} to be ${statuses.join('|')} (it is ${last?.status ?? '?'})`,
  );
  assert.ok(last);
  return last;
}

async function account(rig: Rig): Promise<AccountJson> {
  return (await api<AccountJson>(rig, 'GET', '/api/trading/account')).body;
}

/** The engine's latest price (its mark on the position). */
async function markPrice(rig: Rig): Promise<Price> {
  const { positions } = (await api<PositionList>(rig, 'GET', '/api/trading/positions')).body;
  const mark = positions.find((p) => p.symbol === SYMBOL)?.markPrice;
  assert.ok(mark, 'a mark price on the position');
  return parsePrice(mark, 'mark');
}

async function openOrderIds(rig: Rig): Promise<number[]> {
  const reply = await api<{ orders: OrderJson[] }>(rig, 'GET', '/api/trading/orders?status=open&limit=1000');
  return reply.body.orders.map((o) => o.id);
}

/** A price `bps` basis points above (> 0) or below the reference, as API text. */
function away(reference: Price, bps: bigint): string {
  return formatPrice(reference + (reference * bps) / 10_000n);
}

function startServe(rig: Rig, extraEnv: Record<string, string> = {}): TasaProcess {
  const name = `serve-${rig.processes.filter((p) => p.name.startsWith('serve')).length + 1}`;
  const p = startTasa(name, 'serve', { ...rig.env, ...extraEnv, TASA_DATA_DIR: join(rig.dir, `${name}-data`) }, join(rig.dir, `${name}.log`));
  rig.processes.push(p);
  return p;
}

async function engineUp(p: TasaProcess): Promise<void> {
  await p.waitForLine(/API and dashboard on/, PROCESS_START_REAL_MS);
  await p.waitForLine(/trading engine started/, PROCESS_START_REAL_MS);
}

async function snapshotStore(db: Db): Promise<StoreSnapshot> {
  const orders = await db.query<StoredOrderRow>(
    `SELECT id::text, client_order_id, status, time_in_force, quantity::text, filled_quantity::text, fill_count,
            (extract(epoch FROM updated_at) * 1000)::int8::text AS updated_ms
     FROM trading_orders ORDER BY id`,
  );
  // In the order the account applied them: each fill's audit entry is written in its transaction.
  const fills = await db.query<StoredFillRow>(
    `SELECT f.order_id::text, f.seq, f.side, (extract(epoch FROM f.time) * 1000)::int8::text AS time_ms,
            f.quantity::text, f.price::text, f.notional::text, f.fee::text
     FROM trading_fills f JOIN trading_orders o ON o.id = f.order_id
     JOIN audit_log a ON a.action = 'order.fill' AND a.entity = 'order:' || o.client_order_id AND (a.details->>'seq')::int = f.seq
     ORDER BY a.id`,
  );
  const [row] = await db.query<{ quantity: string }>('SELECT quantity::text FROM trading_positions WHERE symbol = $1', [SYMBOL]);
  return { orders, fills, position: BigInt(row?.quantity ?? '0') };
}

const signed = (f: StoredFillRow): bigint => (f.side === 'buy' ? BigInt(f.quantity) : -BigInt(f.quantity));

/** Each order's fills are seq 1..fill_count, adding up to its filled quantity; the position is their sum. */
function assertFillsConsistent(s: StoreSnapshot, when: string): void {
  for (const order of s.orders) {
    const fills = s.fills.filter((f) => f.order_id === order.id);
    assert.deepEqual(fills.map((f) => f.seq), Array.from({ length: order.fill_count }, (_, i) => i + 1), `${when}: ${order.client_order_id} has each fill once`);
    assert.equal(fills.reduce((sum, f) => sum + BigInt(f.quantity), 0n), BigInt(order.filled_quantity), `${when}: ${order.client_order_id} filled quantity`);
    if (order.status === 'filled') assert.equal(order.filled_quantity, order.quantity, `${when}: ${order.client_order_id} is filled whole`);
  }
  assert.equal(s.position, s.fills.reduce((sum, f) => sum + signed(f), 0n), `${when}: the position is the sum of the fills`);
}

/** The previous session's bars from the simulator's REST, as the failsafe would store them: the strategy's indicators are warm at the open. */
async function seedWarmUp(rig: Rig, warmUp: Session): Promise<void> {
  const { bars } = await rig.rest.timeSeries({ symbol: SYMBOL, start: warmUp.open, end: warmUp.close });
  assert.ok(bars.length >= 50, `warm-up bars (${bars.length})`);
  await upsertBars(rig.db, bars.map((b) => vendorBar(rig.rest.barSource, SYMBOL, b, 'backfilled')));
}

/** Phase A: the strategy and resting orders, a filled market order, an idempotent retry. */
async function tradeBeforeCrash(rig: Rig): Promise<{ resting: OrderJson[]; stopOrder: OrderJson }> {
  const strategy = await api<{ strategy: { enabled: boolean; running: boolean | null } }>(rig, 'POST', '/api/trading/strategies/sma/start', rig.trader, {
    symbol: SYMBOL,
    policyId: 'sma-crossover',
    targetNotional: STRATEGY_USD,
  });
  assert.equal(strategy.status, 200, JSON.stringify(strategy.body));
  assert.deepEqual([strategy.body.strategy.enabled, strategy.body.strategy.running], [true, true]);
  await untilClock(rig.clock, SPEED, rig.session.open + 30 * MIN);
  const buy = { clientOrderId: 'manual-buy-1', side: 'buy', type: 'market', quantity: MANUAL_USD };
  const first = await placed(rig, buy);
  const filled = await untilOrder(rig, first.id, ['filled']);
  const retry = await place(rig, buy);
  assert.deepEqual([retry.status, retry.body.order.id], [200, first.id], 'the same client order id is the same order');
  assert.equal(filled.filledQuantity, MANUAL_USD);
  const reference = await markPrice(rig);
  const resting = [
    await placed(rig, { clientOrderId: 'manual-limit-buy', side: 'buy', type: 'limit', quantity: MANUAL_USD, limitPrice: away(reference, -FAR), timeInForce: 'GTC' }),
    await placed(rig, { clientOrderId: 'manual-limit-sell', side: 'sell', type: 'limit', quantity: MANUAL_USD, limitPrice: away(reference, FAR), timeInForce: 'DAY' }),
  ];
  const stopOrder = await placed(rig, { clientOrderId: 'manual-stop-buy', side: 'buy', type: 'stop', quantity: MANUAL_USD, stopPrice: away(reference, FAR), timeInForce: 'GTC' });
  for (const o of [...resting, stopOrder]) assert.equal(o.status, 'accepted', `${o.clientOrderId} rests`);
  return { resting, stopOrder };
}

/** Phase B: SIGKILL the engine's process right after an order was accepted, restart it, compare with the store before the kill. */
async function crashAndRestart(rig: Rig, serve: TasaProcess, openBefore: readonly OrderJson[]): Promise<TasaProcess> {
  await untilClock(rig.clock, SPEED, rig.session.open + 60 * MIN);
  const inFlight = await placed(rig, { clientOrderId: 'manual-buy-in-flight', side: 'buy', type: 'market', quantity: MANUAL_USD });
  await serve.kill9();
  const atKill = await snapshotStore(rig.db);
  assertFillsConsistent(atKill, 'at the kill');
  const restarted = startServe(rig);
  await engineUp(restarted);
  const filled = await untilOrder(rig, inFlight.id, ['filled']);
  assert.equal(filled.filledQuantity, MANUAL_USD);
  const after = await snapshotStore(rig.db);
  for (const before of atKill.orders) {
    const now = after.orders.find((o) => o.id === before.id);
    assert.ok(now, `order ${before.client_order_id} placed before the kill is still stored`);
    assert.equal(now.client_order_id, before.client_order_id);
    if (FINAL.has(before.status)) assert.deepEqual(now, before, `${before.client_order_id} was final: unchanged`);
  }
  for (const fill of atKill.fills) assert.ok(after.fills.some((f) => JSON.stringify(f) === JSON.stringify(fill)), `fill ${fill.order_id}#${fill.seq} kept as it was`);
  assertFillsConsistent(after, 'after the restart');
  assert.equal(after.fills.filter((f) => f.order_id === String(inFlight.id)).length, 1, 'the order in flight at the kill filled once');
  const open = await openOrderIds(rig);
  for (const o of openBefore) assert.ok(open.includes(o.id), `${o.clientOrderId} is open again after the restart`);
  return restarted;
}

/** The restarted engine has the restored order in its book: it cancels it. */
async function cancelRestored(rig: Rig, order: OrderJson): Promise<void> {
  const reply = await api<OrderReply>(rig, 'DELETE', `/api/trading/orders/${order.id}`, rig.trader);
  assert.deepEqual([reply.status, reply.body.order.status], [200, 'cancelled'], JSON.stringify(reply.body));
  const again = await api<{ error: { code: string } }>(rig, 'DELETE', `/api/trading/orders/${order.id}`, rig.trader);
  assert.equal(again.status, 409, 'a final order cannot be cancelled again');
}

/** Phase C: round trips of 25k USD (spread, slippage and fees lost each time) until the loss limit halts trading. */
async function driveToLossLimit(rig: Rig): Promise<void> {
  await untilClock(rig.clock, SPEED, rig.session.open + 150 * MIN);
  assert.equal((await account(rig)).tradingState.mode, 'ACTIVE', 'the market noise alone did not reach the loss limit');
  for (let round = 0; round < MAX_DRIVE_ROUNDS; round++) {
    for (const side of ['buy', 'sell']) {
      const reply = await place(rig, { clientOrderId: `drive-${round}-${side}`, side, type: 'market', quantity: DRIVE_USD });
      if (reply.status === 422) return;
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      // A halt on a quote before the order's tick cancels it.
      if ((await untilOrder(rig, reply.body.order.id, ['filled', 'cancelled'])).status === 'cancelled') return;
    }
  }
  assert.fail(`${MAX_DRIVE_ROUNDS} losing round trips did not reach the loss limit`);
}

/** HALTED by the system, open orders cancelled, new orders refused with a 422, the kill audited; only an admin may resume. */
async function assertHalted(rig: Rig, resting: readonly OrderJson[]): Promise<void> {
  await waitFor(async () => (await account(rig)).tradingState.mode === 'HALTED', 'trading to halt');
  const state = (await account(rig)).tradingState;
  assert.equal(state.actor, 'system');
  assert.match(state.reason ?? '', /daily loss limit of 400000\.00 COP/);
  for (const o of resting) {
    const now = await orderById(rig, o.id);
    assert.equal(now.status, 'cancelled', `${o.clientOrderId} cancelled by the kill switch`);
    assert.match(now.reason ?? '', /^trading halted/);
  }
  assert.deepEqual(await openOrderIds(rig), [], 'no order is open while halted');
  const refused = await place(rig, { clientOrderId: 'manual-while-halted', side: 'sell', type: 'market', quantity: MANUAL_USD });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error?.code, 'order_denied');
  assert.match(refused.body.error?.message ?? '', /trading is halted/);
  const kills = await listAudit(rig.db, { entity: 'trading', action: 'trading.halted', limit: 10 });
  assert.equal(kills.length, 1, 'one kill in the audit log');
  assert.equal(kills[0]?.actor, 'system');
  assert.match(String(kills[0]?.details['reason']), /daily loss limit/);
  const byTrader = await api<{ error: { message: string } }>(rig, 'POST', '/api/trading/resume', rig.trader, { reason: 'not mine to say' });
  assert.equal(byTrader.status, 403);
}

/** Phase D: the operator raises the limit and restarts (the halt is kept), then an admin resumes and trading works again. */
async function raiseLimitAndResume(rig: Rig, serve: TasaProcess): Promise<void> {
  await serve.stop();
  const restarted = startServe(rig, { TASA_TRADING_DAILY_LOSS_LIMIT_COP: String(RAISED_LOSS_LIMIT_COP) });
  await engineUp(restarted);
  assert.equal((await account(rig)).tradingState.mode, 'HALTED', 'the halt outlives a restart');
  const resumed = await api<{ tradingState: AccountJson['tradingState'] }>(rig, 'POST', '/api/trading/resume', rig.admin, { reason: 'loss limit raised after review' });
  assert.equal(resumed.status, 200);
  assert.deepEqual([resumed.body.tradingState.mode, resumed.body.tradingState.actor], ['ACTIVE', rig.adminId]);
  const audit = await listAudit(rig.db, { entity: 'trading', action: 'trading.resumed', limit: 10 });
  assert.deepEqual(audit.map((e) => [e.actor, e.details['reason']]), [[rig.adminId, 'loss limit raised after review']]);
  const sell = await placed(rig, { clientOrderId: 'manual-sell-after-resume', side: 'sell', type: 'market', quantity: MANUAL_USD });
  await untilOrder(rig, sell.id, ['filled']);
}

/** Figures computed here from the stored fills, never by the trading code. */
interface Expected {
  cash: bigint;
  fees: bigint;
  quantity: bigint;
  /** Sells' notional minus buys'. */
  netProceeds: bigint;
  /** Average-cost realized P&L as an exact fraction, and how many roundings (half a centavo each, at most) the system may make. */
  realized: { num: bigint; den: bigint };
  roundings: number;
}

function expectedFromFills(fills: readonly StoredFillRow[], initialCash: bigint): Expected {
  let quantity = 0n;
  // Cost of the open quantity, exact: costNum / costDen centavos.
  let costNum = 0n;
  let costDen = 1n;
  let realized = { num: 0n, den: 1n };
  let roundings = 0;
  let netProceeds = 0n;
  let fees = 0n;
  for (const f of fills) {
    const q = signed(f);
    const notional = f.side === 'buy' ? BigInt(f.notional) : -BigInt(f.notional);
    netProceeds -= notional;
    fees += BigInt(f.fee);
    const closing = quantity !== 0n && quantity > 0n !== q > 0n ? (abs(q) < abs(quantity) ? abs(q) : abs(quantity)) : 0n;
    if (closing > 0n) {
      // Closing `closing` of `|quantity|`: proceeds share of the fill, cost share of the position.
      const proceeds = { num: -notional * closing, den: abs(q) };
      const cost = { num: costNum * closing, den: costDen * abs(quantity) };
      realized = addFractions(realized, addFractions(proceeds, { num: -cost.num, den: cost.den }));
      costNum = costNum * (abs(quantity) - closing);
      costDen = costDen * abs(quantity);
      roundings += 2;
    }
    const opening = abs(q) - closing;
    if (opening > 0n) {
      const added = { num: notional * opening, den: abs(q) };
      ({ num: costNum, den: costDen } = addFractions({ num: costNum, den: costDen }, added));
    }
    quantity += q;
  }
  return { cash: initialCash + netProceeds - fees, fees, quantity, netProceeds, realized, roundings };
}

function addFractions(a: { num: bigint; den: bigint }, b: { num: bigint; den: bigint }): { num: bigint; den: bigint } {
  const num = a.num * b.den + b.num * a.den;
  const den = a.den * b.den;
  const g = gcd(abs(num), den);
  return { num: num / g, den: den / g };
}

function gcd(a: bigint, b: bigint): bigint {
  return b === 0n ? (a === 0n ? 1n : a) : gcd(b, a % b);
}

/** Twice the distance between `exact / divisor` and `rounded` is at most one unit: rounded to the nearest. */
function assertRoundedToNearest(rounded: bigint, exact: bigint, divisor: bigint, what: string): void {
  assert.ok(2n * abs(exact - rounded * divisor) <= divisor, `${what}: ${rounded} is ${exact}/${divisor} rounded`);
}

/** Each fill's notional and fee follow from its quantity and price; its price lies in its slot's simulated bar widened by spread and slippage. */
async function assertFillsPriced(rig: Rig, fills: readonly StoredFillRow[]): Promise<void> {
  const { bars } = await rig.rest.timeSeries({ symbol: SYMBOL, start: rig.session.open, end: rig.session.close });
  const bySlot = new Map(bars.map((b) => [b.time, b]));
  const [instrument] = resolveInstruments([SYMBOL]);
  assert.ok(instrument);
  const widen = instrument.spreadFraction[1] + SLIPPAGE_BPS / 10_000;
  const fixedFee = parseCop(FIXED_FEE_COP, 'fixed fee');
  for (const f of fills) {
    const what = `fill ${f.order_id}#${f.seq}`;
    const bar = bySlot.get(Math.floor(Number(f.time_ms) / (5 * MIN)) * 5 * MIN);
    assert.ok(bar, `${what}: a simulated bar for its tick time`);
    const price = Number(f.price) / 10_000;
    assert.ok(price >= bar.low * (1 - widen) && price <= bar.high * (1 + widen), `${what}: ${price} inside [${bar.low}, ${bar.high}] +- spread and slippage`);
    // USD cents x 1e-4 COP = 1e-6 COP; centavos are 1e-2 COP.
    assertRoundedToNearest(BigInt(f.notional), BigInt(f.quantity) * BigInt(f.price), 10_000n, `${what} notional`);
    // fee = notional x FEE_BPS / 10,000 + the fixed fee.
    assertRoundedToNearest(BigInt(f.fee) - fixedFee, BigInt(f.notional) * BigInt(FEE_BPS), 10_000n, `${what} fee`);
  }
}

/** After the close: every order final, DAY orders open at the close expired, the account reconciled to the centavo. */
async function assertClosedAndReconciled(rig: Rig, dayOrder: OrderJson): Promise<void> {
  await untilClock(rig.clock, SPEED, rig.session.close + 5 * MIN);
  await waitFor(async () => (await openOrderIds(rig)).length === 0, 'every order to be final after the close');
  const expired = await orderById(rig, dayOrder.id);
  assert.equal(expired.status, 'expired', 'the DAY order open at the close expired');
  const expiredAt = Date.parse(expired.at);
  // The expiry timer fires at the close; a stalled process may run it a few real seconds (minutes on this clock) late.
  assert.ok(expiredAt >= rig.session.close && expiredAt < rig.session.close + 5 * MIN, `expired at the close (${expired.at})`);
  const store = await snapshotStore(rig.db);
  assert.ok(store.orders.every((o) => FINAL.has(o.status)), 'every order is final');
  for (const o of store.orders.filter((x) => x.time_in_force === 'DAY' && Number(x.updated_ms) >= rig.session.close)) {
    assert.equal(o.status, 'expired', `${o.client_order_id}, open at the close, expired`);
  }
  assertFillsConsistent(store, 'after the close');
  await assertFillsPriced(rig, store.fills);
  await assertAccount(rig, expectedFromFills(store.fills, BigInt(INITIAL_CASH_COP) * 100n));
}

async function assertAccount(rig: Rig, expected: Expected): Promise<void> {
  const acct = await account(rig);
  const positions = (await api<PositionList>(rig, 'GET', '/api/trading/positions')).body.positions;
  const position = positions.find((p) => p.symbol === SYMBOL);
  assert.ok(position?.markPrice && position.marketValue && acct.equity !== null && acct.unrealizedPnl !== null);
  const cop = (text: string) => parseCop(text, 'amount', true);
  const quantity = parseDecimal(position.quantity, USD_DECIMALS, { name: 'quantity', allowNegative: true });
  const mark = parsePrice(position.markPrice, 'mark');
  const { bars } = await rig.rest.timeSeries({ symbol: SYMBOL, start: rig.session.close - 5 * MIN, end: rig.session.close });
  assert.equal(mark, parsePrice(bars.at(-1)?.close ?? NaN, 'last price', 'half_even'), 'marked at the session’s last price');
  const marketValue = cop(position.marketValue);
  assertRoundedToNearest(marketValue, quantity * mark, 10_000n, 'market value');
  assert.equal(quantity, expected.quantity, 'position = sum of the fills');
  assert.equal(cop(acct.cash), expected.cash, 'cash = initial - buys + sells - fees');
  assert.equal(cop(acct.fees), expected.fees, 'fees = sum of the fills’ fees');
  assert.equal(cop(acct.equity), cop(acct.cash) + marketValue, 'equity = cash + positions at the last price');
  const realized = cop(acct.realizedPnl);
  const unrealized = cop(acct.unrealizedPnl);
  assert.equal(realized + unrealized, expected.netProceeds + marketValue, 'realized + unrealized = what the trades made, marked');
  assert.equal(cop(acct.cash) + marketValue, cop(acct.initialCash) + realized + unrealized - cop(acct.fees), 'cash + positions = initial + realized + unrealized - fees');
  const { num, den } = expected.realized;
  assert.ok(abs(realized * den - num) * 2n <= BigInt(expected.roundings) * den, `realized ${realized} is the average-cost ${num}/${den} within its roundings`);
}

const PG_URL = process.env['TEST_DATABASE_URL'];
const skip = SESSION === null || WARM_UP === null ? 'the sessions are not in the calendar' : PG_URL || process.env['CI'] ? false : 'set TEST_DATABASE_URL';

describe('a whole trading session with the system as OS processes', { skip, timeout: 420_000 }, () => {
  let rig: Rig | null = null;
  let redis: PrivateRedis | null = null;
  let passed = false;
  before(async () => {
    assert.ok(SESSION && WARM_UP && PG_URL, 'TEST_DATABASE_URL is required');
    redis = await startPrivateRedis();
    const scratch = await openScratchPostgres(PG_URL);
    await migrate(scratch.db);
    await syncReferenceData(scratch.db, calendar.all());
    const anchor = Math.round(performance.timeOrigin + performance.now()) + STARTUP_REAL_MS;
    const clockStart = SESSION.open - PRE_OPEN_MS;
    const clock = new ScaledClock(clockStart, SPEED, anchor);
    const plan = { perMinute: 10_000, perDay: 1_000_000 };
    const sim = await startSimulator({ clock, seed: 21, ticksPerSecond: 0.2, plan, logger });
    const rest = createRestSource({ db: scratch.db, clock, keys: ['e2e-trading-key'], baseUrl: sim.restUrl, simulated: true, plan, logger, timeoutMs: 10_000 * SPEED }).source;
    const httpPort = await freePort();
    const env = { ...tasaEnv({ databaseUrl: scratch.url, redisUrl: redis.url, sim, speed: SPEED, clockStart, anchor, httpPort }), ...TRADING_ENV };
    const trader = await createApiToken(scratch.db, { name: 'e2e-trader', role: 'trader' });
    const admin = await createApiToken(scratch.db, { name: 'e2e-admin', role: 'admin' });
    const dir = await mkdtemp(join(tmpdir(), 'tasa-trading-e2e-'));
    rig = { clock, session: SESSION, sim, rest, db: scratch.db, dir, env, baseUrl: `http://127.0.0.1:${httpPort}`, trader: trader.token, admin: admin.token, adminId: admin.info.id, processes: [] };
    await seedWarmUp(rig, WARM_UP);
  });
  after(async () => {
    for (const p of rig?.processes ?? []) await p.kill9().catch(() => undefined);
    await rig?.sim.close().catch(() => undefined);
    await rig?.db.close().catch(() => undefined);
    await redis?.destroy().catch(() => undefined);
    if (passed && rig) await rm(rig.dir, { recursive: true, force: true });
    else if (rig) process.stderr.write(`trading e2e logs kept in ${rig.dir}\n`);
  });

  it('trades, survives kill -9, halts at the loss limit, and reconciles to the centavo', async (t) => {
    assert.ok(rig);
    const ingest = startTasa('ingest', 'ingest', { ...rig.env, TASA_DATA_DIR: join(rig.dir, 'ingest-data') }, join(rig.dir, 'ingest.log'));
    rig.processes.push(ingest);
    let serve = startServe(rig);
    await engineUp(serve);
    await ingest.waitForLine(/-> ACTIVE|"to":"ACTIVE"/, PROCESS_START_REAL_MS);

    const { resting, stopOrder } = await tradeBeforeCrash(rig);
    serve = await crashAndRestart(rig, serve, [...resting, stopOrder]);
    await cancelRestored(rig, stopOrder);

    await driveToLossLimit(rig);
    await assertHalted(rig, resting);
    await raiseLimitAndResume(rig, serve);

    const dayOrder = await placed(rig, { clientOrderId: 'manual-day-limit', side: 'sell', type: 'limit', quantity: MANUAL_USD, limitPrice: away(await markPrice(rig), FAR), timeInForce: 'DAY' });
    await assertClosedAndReconciled(rig, dayOrder);
    const { orders, fills } = await snapshotStore(rig.db);
    const strategyFilled = orders.filter((o) => o.client_order_id.startsWith('s.sma.') && o.status === 'filled').length;
    assert.ok(strategyFilled >= 2, `the strategy traded (${strategyFilled} filled orders)`);
    const statuses = [...new Set(orders.map((o) => o.status))].map((status) => `${status} ${orders.filter((o) => o.status === status).length}`);
    const acct = await account(rig);
    t.diagnostic(`${orders.length} orders (${statuses.join(', ')}), ${fills.length} fills, ${strategyFilled} strategy orders filled`);
    t.diagnostic(`cash ${acct.cash}, equity ${acct.equity}, realized ${acct.realizedPnl}, unrealized ${acct.unrealizedPnl}, fees ${acct.fees} COP`);
    passed = true;
  });
});
