/**
 * The order service: places orders (validate -> risk -> store -> broker), applies the broker's
 * fills, cancels, expires DAY orders at their session's close, and runs the kill switch (halt,
 * by hand or when the day's loss reaches the limit: open orders cancelled, optionally the
 * positions flattened, new orders denied until an admin resumes). Every change is stored with
 * its audit entry before it is published (OrderRecorder).
 *
 * One writer: every command and every broker event runs through one queue, so the state in
 * memory and the store change in one order. `start` restores the account, the trading state and
 * the open orders from the store and hands those to the broker again; an order stored `new`
 * (sent to no broker yet when the process stopped) is sent on its symbol's first quote, when the
 * broker can judge it (a DAY order whose session closed meanwhile is rejected). A fill is stored once per
 * (order, seq), so a fill reported twice changes nothing.
 */
import type { CancelTimer, Clock } from '../clock.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { bogotaDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import type { LeaseFence } from '../store/leases-repo.ts';
import { findOrder, openOrders, orderTimesSince, type OrderMeta, type StoredOrder } from '../store/trading-repo.ts';
import { dayOpeningEquity, loadRiskState, openTradingAccount, type StoredRiskState } from '../store/trading-state-repo.ts';
import { applyFillToAccount } from '../trading/account.ts';
import type { Fill, Quote } from '../trading/fill-model.ts';
import type { Centavos, Price } from '../trading/money.ts';
import { createOrder, isOpen, recordFill, transitionOrder, validateOrder, type Order, type OrderRequest, type PriceBand } from '../trading/order.ts';
import { flatPosition } from '../trading/position.ts';
import { checkOrder, haltTrading, resetTradingState, updateTradingState, validateRiskLimits, type RiskLimits, type RiskUpdate } from '../trading/risk.ts';
import type { Broker, BrokerEvent } from './broker.ts';
import { CloseTimers } from './close-timers.ts';
import { OrderRecorder, type TradingPublisher } from './order-recorder.ts';
import { flattenRequests, sameOrder } from './order-requests.ts';
import { SerialQueue } from './serial-queue.ts';
import { fillAudit, invalidOrderAudit, orderAudit } from './trading-audit.ts';
import { dailyPnl, noteOrderSent, RATE_WINDOW_MS, riskContext, valuation, type TradingBook } from './trading-book.ts';

/** The actor of what the service does on its own (loss limit, expiry); fills are the broker's. */
export const SYSTEM_ACTOR = 'system';
/** How long after a failed fill write the next attempt is made. */
const FILL_RETRY_MS = 1_000;
export const BROKER_ACTOR = 'broker';

export interface OrderServiceDeps {
  db: Db;
  broker: Broker;
  clock: Clock;
  calendar: Calendars;
  logger: Logger;
  publish: TradingPublisher;
  /** The `trading` lease this process holds: every order and fill write is fenced by it (OrderRecorder). None: unfenced. */
  fence?: LeaseFence;
}

export interface OrderServiceConfig {
  symbols: readonly SymbolCode[];
  /** The paper account's cash when it is first opened. */
  initialCash: Centavos;
  limits: RiskLimits;
  band: PriceBand;
}

export interface PlaceOptions {
  actor: string;
  strategyId?: string | null;
}

/** `created` false: the client order id was already used by this same order (idempotent retry); it is returned as stored. */
export interface PlaceResult {
  order: StoredOrder;
  created: boolean;
}

export type OrderRef = { id: number } | { clientOrderId: string };

export interface TradingSnapshot {
  book: Readonly<TradingBook>;
  equity: Centavos;
  unrealizedPnl: Centavos;
  dailyPnl: Centavos;
}

export class OrderService {
  private readonly queue = new SerialQueue();
  private readonly recorder: OrderRecorder;
  private readonly closeTimers: CloseTimers;
  /** Orders stored `new` before a restart, by symbol, until that symbol's first quote. */
  private readonly unsent = new Map<SymbolCode, StoredOrder[]>();
  /**
   * Fills wait here, in the broker's order, until they are stored. A failed write is retried on a
   * timer, so a database outage delays fills but never drops or reorders them.
   */
  private readonly inbox: Fill[] = [];
  private fillRetry: CancelTimer | null = null;
  private current: TradingBook | null = null;

  constructor(
    private readonly deps: OrderServiceDeps,
    private readonly config: OrderServiceConfig,
  ) {
    validateRiskLimits(config.limits);
    this.recorder = new OrderRecorder(deps.db, deps.publish, deps.logger, deps.fence ?? null);
    this.closeTimers = new CloseTimers(deps.clock);
  }

  /** Restores the book from the store and starts the broker. */
  start(): Promise<void> {
    return this.queue.run(() => this.restore());
  }

  async stop(): Promise<void> {
    await this.deps.broker.stop();
    this.closeTimers.cancelAll();
    this.fillRetry?.();
    this.fillRetry = null;
    await this.queue.idle();
  }

  /** Resolves once every command and broker event so far has been applied. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * Places an order. An invalid request throws `bad_argument` (nothing stored, audited as
   * `order.invalid`); a risk denial returns the order `denied` with the reason; a broker
   * rejection returns it `rejected`; a client order id used by a different order throws `conflict`.
   */
  place(request: OrderRequest, opts: PlaceOptions): Promise<PlaceResult> {
    return this.queue.run(() => this.placeNow(request, { actor: opts.actor, strategyId: opts.strategyId ?? null }));
  }

  /** Cancels an open order; `not_found` for no such order, `conflict` for one already final. */
  cancel(ref: OrderRef, actor: string, reason = `cancelled by ${actor}`): Promise<StoredOrder> {
    return this.queue.run(async () => {
      const stored = await findOrder(this.deps.db, ref);
      if (stored === null) throw new TasaError('not_found', `No order ${'id' in ref ? ref.id : ref.clientOrderId}.`, { input: JSON.stringify(ref) });
      const order = this.book.open.get(stored.clientOrderId);
      if (order === undefined) {
        throw new TasaError('conflict', `Order ${stored.clientOrderId} is ${stored.status}: only an open order can be cancelled.`, { input: stored.clientOrderId });
      }
      return this.finish(order, 'cancelled', actor, reason);
    });
  }

  /** The kill switch: HALTED, open orders cancelled, the positions flattened if asked. */
  halt(actor: string, reason: string, flatten = this.config.limits.flattenOnHalt): Promise<StoredRiskState> {
    return this.queue.run(async () => {
      await this.applyRiskUpdate(haltTrading(this.book.risk, this.deps.clock.now(), reason, flatten), actor);
      return this.book.risk;
    });
  }

  /** Back to ACTIVE (an admin's act). While the day's loss is still past the limit, the next tick trips it again. */
  resume(actor: string, reason: string): Promise<StoredRiskState> {
    return this.queue.run(async () => {
      if (this.book.risk.mode === 'ACTIVE') return this.book.risk;
      const state = { ...resetTradingState(this.deps.clock.now(), reason), actor };
      await this.recorder.riskState(state);
      this.book.risk = state;
      return state;
    });
  }

  snapshot(): TradingSnapshot {
    const value = valuation(this.book);
    return { book: this.book, equity: value.equity, unrealizedPnl: value.unrealizedPnl, dailyPnl: dailyPnl(this.book) };
  }

  private get book(): TradingBook {
    if (this.current === null) throw new TasaError('internal', 'The order service is not started.');
    return this.current;
  }

  private async restore(): Promise<void> {
    const { db, clock, broker } = this.deps;
    const now = clock.now();
    const account = await openTradingAccount(db, this.config.initialCash, now);
    const risk = (await loadRiskState(db)) ?? { mode: 'ACTIVE', since: now, reason: null, actor: SYSTEM_ACTOR };
    const recentOrderTimes = await orderTimesSince(db, now - RATE_WINDOW_MS);
    this.current = { account, marks: new Map(), open: new Map(), risk, recentOrderTimes, day: null };
    await broker.start(this.config.symbols, (e) => this.onBrokerEvent(e));
    for (const order of await openOrders(db)) {
      if (order.status === 'new') {
        this.unsent.set(order.symbol, [...(this.unsent.get(order.symbol) ?? []), order]);
      } else {
        broker.restore(order, order.lastFillTime);
        this.track(order);
      }
    }
    await this.expireDayOrders();
  }

  private async placeNow(request: OrderRequest, meta: Omit<OrderMeta, 'sessionDate'>): Promise<PlaceResult> {
    const now = this.deps.clock.now();
    const existing = await findOrder(this.deps.db, { clientOrderId: request.clientOrderId });
    if (existing !== null) return { order: sameOrder(existing, request), created: false };
    const problem = validateOrder(request, this.mid(request.symbol), this.config.band);
    if (problem !== null) {
      await this.recorder.audit(invalidOrderAudit(request, meta.actor, now, problem.code, problem.reason));
      throw new TasaError('bad_argument', `Order ${request.clientOrderId} is invalid: ${problem.reason}.`, { input: problem.code });
    }
    await this.ensureDay(now);
    const sessionDate = request.timeInForce === 'DAY' ? (this.deps.calendar.of(request.symbol).sessionAt(now)?.date ?? null) : null;
    const decision = checkOrder(request, riskContext(this.book, request, now), this.config.limits);
    if (!decision.accepted) {
      const denied = transitionOrder(createOrder(request, now), 'denied', now, decision.reason);
      return this.recorder.insert(denied, { ...meta, sessionDate }, (o) => orderAudit('order.denied', o, meta.actor, now, { code: decision.code }));
    }
    return this.submitNew(createOrder(request, now), { ...meta, sessionDate }, now);
  }

  /** Stores a new order, then sends it to the broker. Risk is the caller's (flatten orders skip it). */
  private async submitNew(order: Order, meta: OrderMeta, now: number): Promise<PlaceResult> {
    noteOrderSent(this.book, now);
    const inserted = await this.recorder.insert(order, meta, (o) => orderAudit('order.placed', o, meta.actor, now));
    if (!inserted.created) return inserted;
    return { order: await this.send(inserted.order), created: true };
  }

  private async send(order: StoredOrder): Promise<StoredOrder> {
    const answer = await this.deps.broker.submit(order);
    const now = this.deps.clock.now();
    if (!answer.accepted) return this.reject(order, answer.reason, now);
    const accepted = advance(order, transitionOrder(order, 'accepted', now), now);
    await this.recorder.save(accepted, null);
    this.track(accepted);
    return accepted;
  }

  private async reject(order: StoredOrder, reason: string, now: number): Promise<StoredOrder> {
    const rejected = advance(order, transitionOrder(order, 'rejected', now, reason), now);
    await this.recorder.save(rejected, orderAudit('order.rejected', rejected, BROKER_ACTOR, now));
    return rejected;
  }

  private async sendUnsent(symbol: SymbolCode, now: number): Promise<void> {
    const orders = this.unsent.get(symbol) ?? [];
    this.unsent.delete(symbol);
    for (const order of orders) {
      // A DAY order stored with no session was placed while the market was closed: it never had one.
      const close = this.sessionClose(order);
      const dayOver = order.timeInForce === 'DAY' && (close === null || close <= now);
      if (dayOver) await this.reject(order, 'its session closed before it reached the broker', now);
      else await this.send(order);
    }
  }

  /** Keeps an open order in the book and its DAY expiry on the clock. */
  private track(order: StoredOrder): void {
    this.book.open.set(order.clientOrderId, order);
    const close = this.sessionClose(order);
    if (close !== null) this.closeTimers.schedule(close, () => this.enqueue(() => this.expireDayOrders(), 'DAY order expiry'));
  }

  private sessionClose(order: StoredOrder): number | null {
    if (order.timeInForce !== 'DAY' || order.sessionDate === null) return null;
    return this.deps.calendar.of(order.symbol).sessionFor(order.sessionDate)?.close ?? null;
  }

  private async expireDayOrders(): Promise<void> {
    const now = this.deps.clock.now();
    for (const order of [...this.book.open.values()]) {
      const close = this.sessionClose(order);
      if (close !== null && close <= now) await this.finish(order, 'expired', SYSTEM_ACTOR, 'the session closed');
    }
  }

  private async finish(order: StoredOrder, outcome: 'cancelled' | 'expired', actor: string, reason: string): Promise<StoredOrder> {
    this.deps.broker.cancel(order.clientOrderId);
    const now = this.deps.clock.now();
    const done = advance(order, transitionOrder(order, outcome, now, reason), now);
    await this.recorder.save(done, orderAudit(outcome === 'cancelled' ? 'order.cancelled' : 'order.expired', done, actor, now));
    this.book.open.delete(order.clientOrderId);
    return done;
  }

  private onBrokerEvent(event: BrokerEvent): void {
    if (event.kind === 'fill') {
      this.inbox.push(event.fill);
      this.enqueue(() => this.applyFills(), 'fill');
    } else this.enqueue(() => this.applyQuote(event.symbol, event.quote), 'quote');
  }

  private enqueue(job: () => Promise<void>, what: string): void {
    this.queue.run(job).catch((err: unknown) => this.deps.logger.error({ err }, `order service: ${what} failed`));
  }

  private async applyFills(): Promise<void> {
    for (let fill = this.inbox[0]; fill !== undefined && this.fillRetry === null; fill = this.inbox[0]) {
      try {
        await this.applyFill(fill);
      } catch (err) {
        this.deps.logger.error({ err, clientOrderId: fill.clientOrderId, seq: fill.seq }, 'order service: storing a fill failed; retrying');
        this.fillRetry = this.deps.clock.setTimer(FILL_RETRY_MS, () => {
          this.fillRetry = null;
          this.enqueue(() => this.applyFills(), 'fill retry');
        });
        return;
      }
      this.inbox.shift();
    }
  }

  private async applyFill(fill: Fill): Promise<void> {
    const order = this.book.open.get(fill.clientOrderId);
    if (order === undefined || fill.seq !== order.fillCount + 1) {
      this.deps.logger.warn({ clientOrderId: fill.clientOrderId, seq: fill.seq }, 'order service: fill for no open order, or out of turn: ignored');
      return;
    }
    const now = this.deps.clock.now();
    const filled = { ...advance(order, recordFill(order, fill.quantity, now), now), lastFillTime: fill.time };
    const account = applyFillToAccount(this.book.account, fill);
    const position = account.positions[fill.symbol] ?? flatPosition(fill.symbol);
    const written = await this.recorder.fill({ order: filled, fill, account, position }, fillAudit(filled, fill, BROKER_ACTOR, now), now);
    // Not written: the store has this (order, seq) already, from an attempt whose commit was not
    // acknowledged. It was computed from this same state, so the book takes it as stored.
    if (!written) this.deps.logger.warn({ clientOrderId: fill.clientOrderId, seq: fill.seq }, 'order service: fill already stored');
    this.book.account = account;
    if (isOpen(filled)) this.book.open.set(filled.clientOrderId, filled);
    else this.book.open.delete(filled.clientOrderId);
    await this.checkLoss(now);
  }

  private async applyQuote(symbol: SymbolCode, quote: Quote): Promise<void> {
    this.book.marks.set(symbol, quote.price);
    const now = this.deps.clock.now();
    await this.sendUnsent(symbol, now);
    await this.checkLoss(now);
  }

  /** Escalates the trading state when the day's loss reaches a limit. */
  private async checkLoss(now: number): Promise<void> {
    await this.ensureDay(now);
    await this.applyRiskUpdate(updateTradingState(this.book.risk, dailyPnl(this.book), this.config.limits, now), SYSTEM_ACTOR);
  }

  /** The day's opening equity, taken at its first mark and stored, so a restart keeps the day's P&L. */
  private async ensureDay(now: number): Promise<void> {
    const date = bogotaDate(now);
    if (this.book.day?.date === date) return;
    const openingEquity = await dayOpeningEquity(this.deps.db, date, valuation(this.book).equity, now);
    this.book.day = { date, openingEquity };
  }

  private async applyRiskUpdate(update: RiskUpdate, actor: string): Promise<void> {
    if (update.state === this.book.risk) return;
    const state = { ...update.state, actor };
    await this.recorder.riskState(state);
    this.book.risk = state;
    const reason = `trading halted: ${state.reason ?? 'no reason given'}`;
    if (update.cancelOpenOrders) for (const order of [...this.book.open.values()]) await this.finish(order, 'cancelled', actor, reason);
    if (update.flatten) await this.flatten(actor);
  }

  /** Market orders closing every open position; they skip the risk checks, which deny everything while halted. */
  private async flatten(actor: string): Promise<void> {
    const now = this.deps.clock.now();
    for (const request of flattenRequests(this.book.account, now)) {
      await this.submitNew(createOrder(request, now), { actor, strategyId: null, sessionDate: null }, now);
    }
  }

  /** The middle of the last quote (its price when one side is missing), null before any. */
  private mid(symbol: SymbolCode): Price | null {
    const quote = this.deps.broker.quote(symbol);
    if (quote === null) return null;
    return quote.bid !== null && quote.ask !== null ? (quote.bid + quote.ask) / 2n : quote.price;
  }
}

/** The stored order with the state machine's step applied. */
function advance(stored: StoredOrder, next: Order, at: number): StoredOrder {
  return { ...stored, ...next, updatedAt: at };
}
