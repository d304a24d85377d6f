/**
 * Trading figures, on the embedded store and on PostgreSQL when a URL is given:
 * - order-to-fill latency on a live tick: a market order accepted, then a tick published on the
 *   in-process bus; the time until the fill is stored (with its audit entry) and published;
 * - orders/s through `OrderService.place`: validate, risk, store + audit, paper broker acceptance
 *   (limit orders away from the market, so they rest).
 * The real OrderService and PaperBroker run on a wall clock (speed 1) set inside a session, since
 * the paper broker fills nothing while the market is closed, with their writes fenced by the
 * `trading` lease as in a deployment. Reference in the same run, on the
 * same store, taken in turns with the measured work so that background load falls on both alike:
 * a raw single-row INSERT round trip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMemoryBus, type Bus } from '../src/bus/index.ts';
import { ScaledClock } from '../src/clock.ts';
import type { TradingMessage } from '../src/contracts/trading-messages.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { toIsoUtc } from '../src/domain/time.ts';
import { OrderService } from '../src/execution/order-service.ts';
import { TRADING_LEASE } from '../src/execution/trading-engine.ts';
import { PaperBroker } from '../src/execution/paper-broker.ts';
import { createLogger } from '../src/log.ts';
import type { Db } from '../src/store/db.ts';
import { acquireLease } from '../src/store/leases-repo.ts';
import { migrate } from '../src/store/migrate.ts';
import { openDb } from '../src/store/open-db.ts';
import { BROKER_CONFIG, marketOrder, SERVICE_CONFIG, SYMBOL } from '../test/execution/trading-rig.ts';
import { openScratchPostgres } from '../test/support/test-db.ts';
import { formatRate, record } from './harness.ts';

const LATENCY_SAMPLES = 500;
const ORDERS = 1_000;
const BATCH = 100;
const WARM_UP = 20;
const calendar = new MarketCalendar();
const logger = createLogger('silent');

/** A service that only the bench's own flow limits: no risk limit or stale feed gets in the way. */
const BENCH_LIMITS = { ...SERVICE_CONFIG.limits, maxPosition: 10n ** 12n, maxOrdersPerMinute: 1_000_000, dailyLossLimit: 10n ** 15n };

export async function benchTrading(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tasa-bench-trading-'));
  try {
    const embedded = await openDb({ dataDir: dir });
    try {
      await benchStore('embedded (PGlite, disk)', embedded);
    } finally {
      await embedded.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const url = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];
  if (!url) return record('trading', 'orders and fills, PostgreSQL', 'skipped', 'set BENCH_DATABASE_URL or TEST_DATABASE_URL');
  const scratch = await openScratchPostgres(url);
  try {
    await benchStore('PostgreSQL', scratch.db);
  } finally {
    await scratch.db.close();
  }
}

async function benchStore(label: string, db: Db): Promise<void> {
  await migrate(db);
  const insert = await rawInsert(db);
  const desk = await openDesk(db);
  try {
    // Latency first: the throughput run leaves a thousand orders resting in the book.
    await benchFillLatency(label, desk, insert);
    await benchPlaceRate(label, desk, insert);
  } finally {
    await desk.stop();
  }
}

/** One raw single-row INSERT round trip on the store (ms); a fresh key each call. */
async function rawInsert(db: Db): Promise<() => Promise<number>> {
  await db.exec('CREATE TABLE bench_insert_reference (id bigint PRIMARY KEY, at timestamptz NOT NULL, body text NOT NULL)');
  let id = 0;
  return async () => {
    id += 1;
    const start = performance.now();
    await db.query('INSERT INTO bench_insert_reference (id, at, body) VALUES ($1, $2, $3)', [id, new Date(), 'reference row']);
    return performance.now() - start;
  };
}

interface Desk {
  service: OrderService;
  /** Publishes a tick at `bid`/`ask` stamped now (strictly after the previous one). */
  tick(bid: number, ask: number): Promise<void>;
  /** Resolves with performance.now() when the `fills` message of the order's first fill is published. */
  filled(clientOrderId: string): Promise<number>;
  stop(): Promise<void>;
}

async function openDesk(db: Db): Promise<Desk> {
  const session = calendar.sessionFor('2026-03-03');
  if (!session) throw new Error('2026-03-03 must be a trading day');
  const clock = new ScaledClock(session.open + 3_600_000, 1);
  const bus: Bus = createMemoryBus({ clock, logger });
  const waiting = new Map<string, (at: number) => void>();
  const publish = (m: TradingMessage): void => {
    if (m.channel !== 'fills' || m.data.seq !== 1) return;
    waiting.get(m.data.clientOrderId)?.(performance.now());
    waiting.delete(m.data.clientOrderId);
  };
  // Stale after an hour: placing a thousand orders without a tick must not make the feed stale.
  const broker = new PaperBroker({ bus, clock, calendar, logger, config: { ...BROKER_CONFIG, staleAfterMs: 3_600_000 } });
  // Fenced by the trading lease, as the engine runs in a deployment: every write proves its epoch.
  const holder = 'bench';
  const epoch = await acquireLease(db, { name: TRADING_LEASE, holder, now: clock.now(), ttlMs: 3_600_000 });
  if (epoch === null) throw new Error('the bench could not take the trading lease');
  const fence = { name: TRADING_LEASE, holder, epoch };
  const service = new OrderService({ db, broker, clock, calendar, logger, publish, fence }, { ...SERVICE_CONFIG, limits: BENCH_LIMITS });
  await service.start();
  let lastTime = 0;
  const desk: Desk = {
    service,
    tick: async (bid, ask) => {
      lastTime = Math.max(clock.now(), lastTime + 1);
      const at = toIsoUtc(lastTime);
      await bus.publish('ticks', SYMBOL, { symbol: SYMBOL, price: (bid + ask) / 2, bid, ask, spread: ask - bid, timestamp: at, receivedAt: at, source: 'simulator' });
    },
    filled: (clientOrderId) => new Promise((resolve) => waiting.set(clientOrderId, resolve)),
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
  await desk.tick(4000, 4004);
  await service.idle();
  return desk;
}

/** Market orders, buy and sell in turn (the position stays small), each filled by the next tick. */
async function benchFillLatency(label: string, desk: Desk, insert: () => Promise<number>): Promise<void> {
  const fills: number[] = [];
  const inserts: number[] = [];
  for (let i = 0; i < WARM_UP + LATENCY_SAMPLES; i++) {
    const id = `latency-${i}`;
    const placed = await desk.service.place(marketOrder(id, i % 2 === 0 ? 'buy' : 'sell', 1_000n), { actor: 'bench' });
    if (placed.order.status !== 'accepted') throw new Error(`order ${id} is ${placed.order.status}: ${placed.order.history.at(-1)?.reason ?? ''}`);
    const stored = desk.filled(id);
    const start = performance.now();
    await desk.tick(4000 + (i % 7), 4004 + (i % 7));
    const ms = (await stored) - start;
    await desk.service.idle();
    const reference = await insert();
    if (i < WARM_UP) continue;
    fills.push(ms);
    inserts.push(reference);
  }
  const fill = percentiles(fills);
  const raw = percentiles(inserts);
  record(
    'trading',
    `order -> fill on a live tick, ${label}`,
    `p99 ${ms2(fill.p99)}`,
    `p50 ${ms2(fill.p50)}, ${LATENCY_SAMPLES} market orders, tick published on the in-process bus until the fill is stored and published (aim: p99 < 5 ms embedded); ` +
      `reference same run, same store: raw single-row INSERT round trip p50 ${ms2(raw.p50)}, p99 ${ms2(raw.p99)} (fill p50 = ${(fill.p50 / raw.p50).toFixed(1)}× INSERT)`,
  );
}

/** Resting limit orders (1% away from the market), in batches taken in turns with as many raw INSERTs. */
async function benchPlaceRate(label: string, desk: Desk, insert: () => Promise<number>): Promise<void> {
  let placeMs = 0;
  let insertMs = 0;
  const total = WARM_UP + ORDERS;
  for (let i = 0; i < total; ) {
    const end = i < WARM_UP ? WARM_UP : Math.min(total, i + BATCH);
    const start = performance.now();
    for (let n = i; n < end; n++) {
      const buy = n % 2 === 0;
      const request = marketOrder(`rest-${n}`, buy ? 'buy' : 'sell', 1_000n, { type: 'limit', limitPrice: buy ? 39_600_000n : 40_400_000n, timeInForce: 'GTC' });
      const placed = await desk.service.place(request, { actor: 'bench' });
      if (placed.order.status !== 'accepted') throw new Error(`order ${request.clientOrderId} is ${placed.order.status}`);
    }
    const batchMs = performance.now() - start;
    let batchInsertMs = 0;
    for (let n = i; n < end; n++) batchInsertMs += await insert();
    if (i >= WARM_UP) {
      placeMs += batchMs;
      insertMs += batchInsertMs;
    }
    i = end;
  }
  record(
    'trading',
    `orders placed (validate + risk + store + paper broker), ${label}`,
    formatRate(ORDERS, placeMs, 'orders'),
    `${ORDERS.toLocaleString('en-US')} resting limit orders, one at a time, each stored and audited then accepted by the paper broker; ` +
      `reference same run, same store: raw single-row INSERT ${formatRate(ORDERS, insertMs, 'rows')} (an order costs ${(placeMs / insertMs).toFixed(1)} INSERT round trips)`,
  );
}

function percentiles(samples: readonly number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  return { p50: at(50), p99: at(99) };
}

/** Milliseconds with two decimals: these latencies are around a millisecond. */
function ms2(ms: number): string {
  return `${ms.toFixed(2)} ms`;
}
