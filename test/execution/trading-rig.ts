/** An order service with a paper broker on a memory bus and a ManualClock, over a test database; ticks published by hand. */
import { createMemoryBus, type Bus } from '../../src/bus/index.ts';
import { afterEach, beforeEach } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import type { TradingMessage } from '../../src/contracts/trading-messages.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { toIsoUtc } from '../../src/domain/time.ts';
import { createLogger } from '../../src/log.ts';
import { OrderService, type OrderServiceConfig } from '../../src/execution/order-service.ts';
import { PaperBroker, type PaperBrokerConfig } from '../../src/execution/paper-broker.ts';
import type { Db } from '../../src/store/db.ts';
import type { LeaseFence } from '../../src/store/leases-repo.ts';
import type { OrderRequest } from '../../src/trading/order.ts';
import type { DatabaseTarget } from '../support/test-db.ts';

export const SYMBOL = 'USD/COP';
/** Tuesday 2024-03-05, 10:00 Bogota; the session closes at 18:00Z. */
export const T0 = Date.parse('2024-03-05T15:00:00Z');
export const CLOSE = Date.parse('2024-03-05T18:00:00Z');

export const SERVICE_CONFIG: OrderServiceConfig = {
  symbols: [SYMBOL],
  initialCash: 1_000_000_000n, // 10,000,000 COP
  limits: {
    maxPosition: 1_000_000n, // 10,000 USD
    maxOrderSize: 500_000n, // 5,000 USD
    maxOrdersPerMinute: 1_000,
    dailyLossLimit: 100_000_000n, // 1,000,000 COP
    reduceOnlyLoss: null,
    flattenOnHalt: false,
  },
  band: { maxDeviationBps: 50_000n }, // 500 bps
};

export const BROKER_CONFIG: PaperBrokerConfig = {
  fillModel: { slippageBps: 100n, feeBps: 50n, fixedFee: 100n, maxFillPerTick: null },
  staleAfterMs: 30_000,
};

export interface RigOptions {
  bus?: Bus;
  service?: Partial<OrderServiceConfig>;
  broker?: Partial<PaperBrokerConfig>;
  /** The lease the service's writes are fenced by (none: unfenced). */
  fence?: LeaseFence;
}

export interface Rig {
  bus: Bus;
  service: OrderService;
  messages: TradingMessage[];
  /** One second later on the clock, a tick at `bid`/`ask` (COP, price = mid); then everything settles. */
  tick(bid: number, ask: number): Promise<void>;
  /** Publishes a tick stamped `time` (a replay when that time was seen before). */
  tickAt(time: number, bid: number, ask: number): Promise<void>;
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRig(db: Db, clock: ManualClock, opts: RigOptions = {}): Promise<Rig> {
  const logger = createLogger('silent');
  const bus = opts.bus ?? createMemoryBus({ clock, logger });
  const calendar = new MarketCalendar();
  const broker = new PaperBroker({ bus, clock, calendar, logger, config: { ...BROKER_CONFIG, ...opts.broker } });
  const messages: TradingMessage[] = [];
  const publish = (m: TradingMessage) => messages.push(m);
  const service = new OrderService({ db, broker, clock, calendar, logger, publish, fence: opts.fence }, { ...SERVICE_CONFIG, ...opts.service });
  await service.start();
  let stopped: Promise<void> | undefined;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      await service.idle();
    }
  };
  const tickAt = async (time: number, bid: number, ask: number) => {
    const price = (bid + ask) / 2;
    await bus.publish('ticks', SYMBOL, { symbol: SYMBOL, price, bid, ask, spread: ask - bid, timestamp: toIsoUtc(time), receivedAt: toIsoUtc(clock.now()), source: 'simulator' });
    await settle();
  };
  return {
    bus,
    service,
    messages,
    tickAt,
    tick: async (bid, ask) => {
      await clock.advance(1_000);
      await tickAt(clock.now(), bid, ask);
    },
    settle,
    // Idempotent: a test may stop a rig itself (a restart) before the scope stops it again.
    stop: async () => {
      stopped ??= (async () => {
        await service.stop();
        if (opts.bus === undefined) await bus.close();
      })();
      await stopped;
    },
  };
}

export interface RigScope {
  /** This test's store (a new one per test). */
  readonly db: Db;
  /** This test's clock, at T0 when the test starts. */
  readonly clock: ManualClock;
  /** Starts a rig on this test's store and clock; every rig started is stopped after the test. */
  start(opts?: RigOptions): Promise<Rig>;
}

/** Registers, in the calling `describe`, a fresh store and clock per test and the stopping of its rigs. */
export function rigPerTest(target: DatabaseTarget): RigScope {
  let db: Db | null = null;
  let clock: ManualClock | null = null;
  const rigs: Rig[] = [];
  beforeEach(async () => {
    db = await target.open();
    clock = new ManualClock(T0);
  });
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.stop();
    await db?.close();
  });
  const scope: RigScope = {
    get db() {
      if (db === null) throw new Error('the store exists only inside a test');
      return db;
    },
    get clock() {
      if (clock === null) throw new Error('the clock exists only inside a test');
      return clock;
    },
    start: async (opts = {}) => {
      const rig = await startRig(scope.db, scope.clock, opts);
      rigs.push(rig);
      return rig;
    },
  };
  return scope;
}

export function marketOrder(clientOrderId: string, side: 'buy' | 'sell', quantity: bigint, fields: Partial<OrderRequest> = {}): OrderRequest {
  return { clientOrderId, symbol: SYMBOL, side, type: 'market', quantity, timeInForce: 'DAY', limitPrice: null, stopPrice: null, ...fields };
}
