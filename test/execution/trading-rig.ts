/** An order service with a paper broker on a memory bus and a ManualClock, over a test database; ticks published by hand. */
import { createMemoryBus, type Bus } from '../../src/bus/index.ts';
import type { ManualClock } from '../../src/clock.ts';
import type { TradingMessage } from '../../src/contracts/trading-messages.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { toIsoUtc } from '../../src/domain/time.ts';
import { createLogger } from '../../src/log.ts';
import { OrderService, type OrderServiceConfig } from '../../src/execution/order-service.ts';
import { PaperBroker, type PaperBrokerConfig } from '../../src/execution/paper-broker.ts';
import type { Db } from '../../src/store/db.ts';
import type { LeaseFence } from '../../src/store/leases-repo.ts';
import type { OrderRequest } from '../../src/trading/order.ts';

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
    stop: async () => {
      await service.stop();
      if (opts.bus === undefined) await bus.close();
    },
  };
}

export function marketOrder(clientOrderId: string, side: 'buy' | 'sell', quantity: bigint, fields: Partial<OrderRequest> = {}): OrderRequest {
  return { clientOrderId, symbol: SYMBOL, side, type: 'market', quantity, timeInForce: 'DAY', limitPrice: null, stopPrice: null, ...fields };
}
