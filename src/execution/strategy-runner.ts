/**
 * The strategy runner: each enabled strategy trades one policy (a baseline or a registered model)
 * on one symbol. On every final bar in session it takes the policy's decision exactly as L6 does
 * for that bar (policy-decider.ts) and sends the market order that moves the strategy's position
 * to decision x target notional, through the order service (risk, broker, store, audit as
 * `strategy:<id>`). The strategy's position is what its own orders filled, so manual orders
 * beside it do not move its target.
 *
 * As in the backtest (flat at session end, next-bar execution):
 * - a decision order is a DAY market order: it fills on the next price (the next bar's open);
 *   one still working when the session closes expires, as the backtest ignores the target of a
 *   session's last bar;
 * - `flattenLeadMs` before each session's close the runner cancels its working orders and closes
 *   its positions (a GTC market order: it must not expire unfilled); a bar whose session is past
 *   that point is decided (the policy's state moves on) but trades nothing.
 * - one decision per bar: a bar at or before the latest one decided (a revision, a replay) is
 *   skipped, and the client order id names the strategy and the bar, so a decision re-sent after a
 *   restart is the same order, never a second one. Bars the bus skipped are read from the store
 *   before the next decision, so a lost message cannot make the policy drift from the pipeline.
 *
 * Strategies are switched on and off in `trading_strategies`; `start` attaches the enabled ones.
 * Attaching warms the policy up on every stored bar before now (the indicators then equal the
 * pipeline's over the same history) and decides the current session's bars again, so the position
 * the policy holds after a restart is the one it held before. Events run one at a time, in order.
 */
import { ALL_SYMBOLS, type Bus, type BusEvent, type Unsubscribe } from '../bus/index.ts';
import type { CancelTimer, Clock } from '../clock.ts';
import { BAR_MS } from '../domain/bar.ts';
import type { Calendars, MarketCalendar, Session } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { TasaError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { finalBar } from '../research/live-predictor.ts';
import { loadPolicy, type LoadedPolicy } from '../research/policy-loading.ts';
import { toSeries } from '../research/series.ts';
import type { Position, SeriesBar } from '../research/types.ts';
import { appendAudit } from '../store/audit-repo.ts';
import { barsBetween } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { listStrategies, saveStrategy, setStrategyEnabled, strategyPosition, type Strategy } from '../store/strategies-repo.ts';
import type { Account } from '../trading/account.ts';
import { abs, type UsdCents } from '../trading/money.ts';
import type { TimeInForce } from '../trading/order.ts';
import type { OrderService } from './order-service.ts';
import { PolicyDecider } from './policy-decider.ts';
import { SerialQueue } from './serial-queue.ts';
import { strategyAudit } from './trading-audit.ts';

export interface StrategyRunnerDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  calendar: Calendars;
  logger: Logger;
  orders: OrderService;
}

export interface StrategyRunnerConfig {
  /** How long before each session's close the strategies are flattened (the broker must still fill then). */
  flattenLeadMs: number;
}

interface Attached {
  strategy: Strategy;
  decider: PolicyDecider;
}

/** Letters, digits, `_` and `-`: it goes into client order ids and audit actors. */
const STRATEGY_ID = /^[A-Za-z0-9_-]{1,40}$/;

export function strategyActor(id: string): string {
  return `strategy:${id}`;
}

export class StrategyRunner {
  private readonly queue = new SerialQueue();
  private readonly attached = new Map<string, Attached>();
  /**
   * Each strategy's stored position and the order service's account when it was read. The position
   * moves only by a fill, and the service replaces its account object on every fill it applies; so
   * while the account is the same object and the runner has placed no order for the strategy since
   * (placing forgets it), the stored position has not moved. Spares a store query on every bar that
   * trades nothing.
   */
  private readonly held = new Map<string, { account: Account; position: UsdCents }>();
  private unsubscribe: Unsubscribe | null = null;
  private cancelFlatten: CancelTimer | null = null;

  constructor(
    private readonly deps: StrategyRunnerDeps,
    private readonly config: StrategyRunnerConfig,
  ) {}

  /** Attaches the enabled strategies and follows the bars. Start the order service first. */
  async start(): Promise<void> {
    this.unsubscribe = await this.deps.bus.subscribe(ALL_SYMBOLS, (e) => this.onEvent(e), { channels: ['bars'] });
    await this.queue.run(async () => {
      for (const strategy of await listStrategies(this.deps.db)) if (strategy.enabled) await this.attach(strategy);
    });
    this.scheduleFlatten();
  }

  async stop(): Promise<void> {
    this.cancelFlatten?.();
    this.cancelFlatten = null;
    await this.unsubscribe?.();
    this.unsubscribe = null;
    await this.queue.idle();
  }

  /** Resolves once every event and command so far has been handled. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Saves the strategy switched on, with its audit entry by `actor`, and starts trading it (again, with these settings, if it ran). */
  enable(strategy: Omit<Strategy, 'enabled'>, actor: string): Promise<void> {
    if (!STRATEGY_ID.test(strategy.id)) {
      return Promise.reject(new TasaError('bad_argument', `Strategy id "${strategy.id}" must be 1-40 letters, digits, _ or -.`, { input: strategy.id }));
    }
    return this.queue.run(async () => {
      const enabled = { ...strategy, enabled: true };
      const decider = await this.warmedUp(enabled);
      const now = this.deps.clock.now();
      await this.deps.db.transaction(async (tx) => {
        await saveStrategy(tx, enabled, now);
        await appendAudit(tx, [strategyAudit(enabled, true, actor, now)]);
      });
      this.held.delete(strategy.id);
      this.attached.set(strategy.id, { strategy: enabled, decider });
    });
  }

  /** Switches the strategy off (audited as by `actor`): its working orders are cancelled, its position is left as it is. */
  disable(id: string, actor: string): Promise<void> {
    return this.queue.run(async () => {
      const now = this.deps.clock.now();
      const found = await this.deps.db.transaction(async (tx) => {
        if (!(await setStrategyEnabled(tx, id, false, now))) return false;
        await appendAudit(tx, [strategyAudit({ id }, false, actor, now)]);
        return true;
      });
      if (!found) throw new TasaError('not_found', `No strategy ${id}.`, { input: id });
      this.attached.delete(id);
      await this.cancelWorking(id, 'the strategy was switched off');
    });
  }

  /** The strategies being traded now. */
  running(): Strategy[] {
    return [...this.attached.values()].map((a) => a.strategy);
  }

  private async attach(strategy: Strategy): Promise<void> {
    try {
      this.held.delete(strategy.id);
      this.attached.set(strategy.id, { strategy, decider: await this.warmedUp(strategy) });
    } catch (err) {
      this.deps.logger.error({ err, strategy: strategy.id }, 'strategy runner: strategy not attached');
    }
  }

  /** The strategy's policy fed with every stored bar before now; the current session's bars are decided. */
  private async warmedUp(strategy: Strategy): Promise<PolicyDecider> {
    const decider = new PolicyDecider(intraday(await loadPolicy(this.deps.db, strategy.policyId)));
    const now = this.deps.clock.now();
    const bars = await barsBetween(this.deps.db, strategy.symbol, 0, now - BAR_MS + 1);
    const calendar = this.deps.calendar.of(strategy.symbol);
    const current = calendar.sessionAt(now)?.date;
    for (const bar of toSeries(bars, calendar)) {
      if (bar.session === current) decider.decide(bar);
      else decider.warmUp(bar);
    }
    return decider;
  }

  private onEvent(e: BusEvent): void {
    if (e.channel !== 'bars') return;
    const bar = finalBar(e.symbol, e.data);
    if (bar === null) return;
    for (const a of this.attached.values()) {
      if (a.strategy.symbol !== e.symbol) continue;
      this.enqueue(async () => {
        const [row] = toSeries([bar], this.deps.calendar.of(e.symbol));
        // Still attached (not switched off or replaced meanwhile) and a bar in session.
        if (row !== undefined && this.attached.get(a.strategy.id) === a) await this.onBar(a, row);
      }, 'bar');
    }
  }

  private async onBar(a: Attached, bar: SeriesBar): Promise<void> {
    const last = a.decider.lastTime;
    if (last !== null && bar.time <= last) return;
    if (last !== null && bar.time > last + BAR_MS) await this.catchUp(a, last, bar);
    const target = a.decider.decide(bar);
    const session = this.deps.calendar.of(a.strategy.symbol).sessionFor(bar.session);
    if (session === null || this.deps.clock.now() >= this.flattenTime(session)) return;
    await this.moveTo(a.strategy, target, String(bar.time), 'DAY');
  }

  /**
   * Feeds the policy the stored bars between its last one and `bar` that the bus did not bring
   * (a lost message, a publisher restart; or simply the night between sessions), trading none of
   * them: its indicators and position then stay those the pipeline computes over the same history.
   */
  private async catchUp(a: Attached, last: number, bar: SeriesBar): Promise<void> {
    const missed = await barsBetween(this.deps.db, a.strategy.symbol, last + 1, bar.time);
    for (const row of toSeries(missed, this.deps.calendar.of(a.strategy.symbol))) {
      if (row.session === bar.session) a.decider.decide(row);
      else a.decider.warmUp(row);
    }
  }

  /** Cancels the strategy's working orders, then sends the market order that brings its position to target x notional. */
  private async moveTo(strategy: Strategy, target: Position, tag: string, timeInForce: TimeInForce): Promise<void> {
    await this.cancelWorking(strategy.id, 'replaced by a newer decision');
    const held = await this.heldPosition(strategy);
    const change = BigInt(target) * strategy.targetNotional - held;
    if (change === 0n) return;
    this.held.delete(strategy.id);
    const request = {
      clientOrderId: `s.${strategy.id}.${tag}`,
      symbol: strategy.symbol,
      side: change > 0n ? ('buy' as const) : ('sell' as const),
      type: 'market' as const,
      quantity: abs(change),
      timeInForce,
      limitPrice: null,
      stopPrice: null,
    };
    const { order } = await this.deps.orders.place(request, { actor: strategyActor(strategy.id), strategyId: strategy.id });
    if (order.status === 'denied' || order.status === 'rejected') {
      this.deps.logger.warn({ strategy: strategy.id, order: order.clientOrderId, reason: order.history.at(-1)?.reason }, `strategy runner: order ${order.status}`);
    }
  }

  private async heldPosition(strategy: Strategy): Promise<UsdCents> {
    const account = this.deps.orders.snapshot().book.account;
    const known = this.held.get(strategy.id);
    if (known?.account === account) return known.position;
    const position = await strategyPosition(this.deps.db, strategy.id, strategy.symbol);
    this.held.set(strategy.id, { account, position });
    return position;
  }

  private async cancelWorking(strategyId: string, reason: string): Promise<void> {
    const working = [...this.deps.orders.snapshot().book.open.values()].filter((o) => o.strategyId === strategyId);
    for (const order of working) {
      try {
        await this.deps.orders.cancel({ clientOrderId: order.clientOrderId }, strategyActor(strategyId), reason);
      } catch (err) {
        // It filled or expired meanwhile: nothing left to cancel.
        if (!(err instanceof TasaError && err.code === 'conflict')) throw err;
      }
    }
  }

  private flattenTime(session: Session): number {
    return session.close - this.config.flattenLeadMs;
  }

  /**
   * A timer at the next flatten time of any market; it flattens the strategies of every symbol
   * whose session ends then (markets close at different times), then sets the next one.
   */
  private scheduleFlatten(): void {
    const now = this.deps.clock.now();
    const due = this.deps.calendar.all().map((calendar) => ({ symbol: calendar.symbol, session: this.nextFlattenSession(calendar, now) }));
    const at = Math.min(...due.map((d) => this.flattenTime(d.session)));
    const closing = due.filter((d) => this.flattenTime(d.session) === at);
    this.cancelFlatten = this.deps.clock.setTimer(at - now, () => {
      for (const { symbol, session } of closing) this.enqueue(() => this.flattenSymbol(symbol, session), `session-end flatten of ${symbol}`);
      this.scheduleFlatten();
    });
  }

  private nextFlattenSession(calendar: MarketCalendar, now: number): Session {
    const session = calendar.nextSession(now);
    return this.flattenTime(session) <= now ? calendar.nextSession(session.close) : session;
  }

  private async flattenSymbol(symbol: SymbolCode, session: Session): Promise<void> {
    for (const a of this.attached.values()) if (a.strategy.symbol === symbol) await this.moveTo(a.strategy, 0, `flat-${session.date}`, 'GTC');
  }

  private enqueue(job: () => Promise<void>, what: string): void {
    this.queue.run(job).catch((err: unknown) => this.deps.logger.error({ err }, `strategy runner: ${what} failed`));
  }
}

/**
 * The runner flattens every strategy before each close, as the backtest does for every policy but
 * one that holds overnight (buy-and-hold): trading that one here would not be what L6 measured.
 */
function intraday(loaded: LoadedPolicy): LoadedPolicy {
  if (loaded.policy.holdsOvernight !== true) return loaded;
  throw new TasaError('bad_argument', `Policy ${loaded.id} holds positions overnight; strategies are flat at every session's close, so it cannot be traded as one.`, {
    input: 'policyId',
    hint: 'Pick a policy that trades within sessions (a trained model, sma-crossover, rsi-mean-reversion, always-long, flat).',
  });
}
