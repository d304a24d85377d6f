/**
 * The trading engine of a deployment: a paper broker, the order service and the strategy runner,
 * run by ONE process.
 * Which one is decided by the `trading` lease (store/leases-repo.ts): the process holding it runs
 * the engine and renews it every third of its life; the others stand by, try again on the same
 * timer, and take over once the holder has stopped renewing. A holder whose renewal finds another
 * holder stops its engine. A database outage changes nothing (the lease is kept until the
 * database says otherwise). The engine's messages go on the bus (orders, fills, positions).
 */
import type { Bus } from '../bus/index.ts';
import type { CancelTimer, Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { TradingMessage } from '../contracts/trading-messages.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import { acquireLease, leaseHolder, releaseLease, type LeaseFence } from '../store/leases-repo.ts';
import { parseBps, parseCop } from '../trading/money.ts';
import { OrderService, type OrderServiceConfig } from './order-service.ts';
import { PaperBroker, type PaperBrokerConfig } from './paper-broker.ts';
import { StrategyRunner, type StrategyRunnerConfig } from './strategy-runner.ts';

export const TRADING_LEASE = 'trading';

/** What the API needs: the order service and strategy runner when this process runs the engine, and who runs it. */
export interface TradingAccess {
  /** Null when another process (or none) runs the engine. */
  service(): OrderService | null;
  /** Null when another process (or none) runs the engine. */
  strategies(): StrategyRunner | null;
  /** The process running the engine now, null when none does. */
  holder(): Promise<string | null>;
}

export interface TradingSettings {
  service: OrderServiceConfig;
  broker: PaperBrokerConfig;
  strategies: StrategyRunnerConfig;
}

/** The engine's settings from the configuration (TASA_TRADING_*). */
export function tradingSettings(config: Config, symbols: readonly SymbolCode[]): TradingSettings {
  // USD in cents, COP in centavos: both hundredths.
  const hundredths = (whole: number) => BigInt(whole) * 100n;
  return {
    service: {
      symbols,
      initialCash: hundredths(config.TASA_TRADING_INITIAL_CASH_COP),
      limits: {
        maxPosition: hundredths(config.TASA_TRADING_MAX_POSITION_USD),
        maxOrderSize: hundredths(config.TASA_TRADING_MAX_ORDER_USD),
        maxOrdersPerMinute: config.TASA_TRADING_MAX_ORDERS_PER_MINUTE,
        dailyLossLimit: hundredths(config.TASA_TRADING_DAILY_LOSS_LIMIT_COP),
        reduceOnlyLoss: null,
        flattenOnHalt: false,
      },
      band: { maxDeviationBps: parseBps(config.TASA_TRADING_PRICE_BAND_BPS, 'TASA_TRADING_PRICE_BAND_BPS') },
    },
    broker: {
      fillModel: {
        slippageBps: parseBps(config.TASA_TRADING_SLIPPAGE_BPS, 'TASA_TRADING_SLIPPAGE_BPS'),
        feeBps: parseBps(config.TASA_TRADING_FEE_BPS, 'TASA_TRADING_FEE_BPS'),
        fixedFee: parseCop(config.TASA_TRADING_FIXED_FEE_COP, 'TASA_TRADING_FIXED_FEE_COP'),
        maxFillPerTick: null,
      },
      staleAfterMs: config.TASA_TRADING_STALE_AFTER_MS,
    },
    strategies: { flattenLeadMs: config.TASA_TRADING_FLATTEN_LEAD_MS },
  };
}

/** Sends each trading message on its bus channel. */
export function publishTrading(bus: Bus, message: TradingMessage): Promise<unknown> {
  switch (message.channel) {
    case 'orders':
      return bus.publish('orders', message.symbol, message.data);
    case 'fills':
      return bus.publish('fills', message.symbol, message.data);
    case 'positions':
      return bus.publish('positions', message.symbol, message.data);
  }
}

export interface EngineDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  calendar: Calendars;
  logger: Logger;
  settings: TradingSettings;
  /** The lease this process runs the engine under: its order and fill writes are fenced by it. */
  fence?: LeaseFence;
}

export interface TradingEngine {
  orders: OrderService;
  strategies: StrategyRunner;
  stop(): Promise<void>;
}

/**
 * A started paper broker, order service and strategy runner (no lease: the caller decides that this
 * process runs it). The runner resumes the strategies switched on.
 */
export async function startTradingEngine(deps: EngineDeps): Promise<TradingEngine> {
  const { db, bus, clock, calendar, logger, settings, fence } = deps;
  const broker = new PaperBroker({ bus, clock, calendar, logger, config: settings.broker });
  const orders = new OrderService({ db, broker, clock, calendar, logger, publish: (m) => publishTrading(bus, m), fence }, settings.service);
  await orders.start();
  const strategies = new StrategyRunner({ db, bus, clock, calendar, logger, orders }, settings.strategies);
  await strategies.start();
  return {
    orders,
    strategies,
    stop: async () => {
      await strategies.stop();
      await orders.stop();
    },
  };
}

/** No engine anywhere (a server that only reads). */
export const NO_TRADING: TradingAccess = { service: () => null, strategies: () => null, holder: () => Promise.resolve(null) };

/** This process runs the engine, unconditionally (tests). */
export function localTrading(engine: TradingEngine, holder: string): TradingAccess {
  return { service: () => engine.orders, strategies: () => engine.strategies, holder: () => Promise.resolve(holder) };
}

export interface TradingHostOptions extends EngineDeps {
  /** This process's name in the lease (host:pid). */
  holder: string;
  leaseTtlMs: number;
}

/**
 * Runs the engine while this process holds the `trading` lease (split deployments: every `serve`
 * process has one). The engine's order and fill writes are fenced by the epoch it was started
 * under, so a holder that lost the lease (and has not yet noticed) cannot write them.
 */
export class TradingHost implements TradingAccess {
  private running: TradingEngine | null = null;
  /** The lease epoch the running engine writes under (its fence). */
  private epoch: number | null = null;
  private timer: CancelTimer | null = null;
  private stopped = false;

  constructor(private readonly o: TradingHostOptions) {}

  /** Takes the lease if it is free (starting the engine) and keeps trying or renewing on the clock. */
  async start(): Promise<void> {
    await this.round();
  }

  service(): OrderService | null {
    return this.running?.orders ?? null;
  }

  strategies(): StrategyRunner | null {
    return this.running?.strategies ?? null;
  }

  holder(): Promise<string | null> {
    return this.running !== null ? Promise.resolve(this.o.holder) : leaseHolder(this.o.db, TRADING_LEASE, this.o.clock.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.();
    if (this.running === null) return;
    await this.stopEngine('stopping');
    await releaseLease(this.o.db, TRADING_LEASE, this.o.holder).catch(() => undefined);
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const { db, clock, holder, leaseTtlMs, logger } = this.o;
    try {
      const epoch = await acquireLease(db, { name: TRADING_LEASE, holder, now: clock.now(), ttlMs: leaseTtlMs });
      if (epoch === null && this.running !== null) await this.stopEngine('another process holds the trading lease');
      // Another holder had the lease in between: its orders and fills are in the store, not in this engine's book.
      if (epoch !== null && this.running !== null && epoch !== this.epoch) await this.stopEngine('the lease passed through another holder; restarting');
      if (epoch !== null && this.running === null && !this.stopped) {
        this.running = await startTradingEngine({ ...this.o, fence: { name: TRADING_LEASE, holder, epoch } });
        this.epoch = epoch;
        logger.info({ holder, epoch }, 'trading engine started: this process holds the trading lease');
      }
    } catch (err) {
      logger.warn({ err }, 'trading lease: renewal failed; keeping the current state');
    }
    if (!this.stopped) this.timer = clock.setTimer(Math.floor(leaseTtlMs / 3), () => void this.round());
  }

  private async stopEngine(why: string): Promise<void> {
    const engine = this.running;
    this.running = null;
    await engine?.stop();
    this.o.logger.info({ holder: this.o.holder }, `trading engine stopped: ${why}`);
  }
}
