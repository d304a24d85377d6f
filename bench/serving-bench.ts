/**
 * Serving figures: `/market/latest` requests/s (USD/COP alone, and cycling over the five shipped
 * symbols on a server that serves them all), and WebSocket fan-out (messages/s delivered,
 * p99 publish -> client latency, event-loop lag of the server) at 1,000 and 10,000 clients.
 * The server (memory bus, rate limit off) runs here; the load runs in a child process
 * (bench/serving-load.ts) so that clients and server do not share an event loop. Both share the
 * machine's cores, so the figures are a floor for a server with a core of its own.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { pino } from 'pino';
import { createMemoryBus, type Bus } from '../src/bus/index.ts';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { BAR_MS } from '../src/domain/bar.ts';
import { loadMarketCalendar } from '../src/calendar-config.ts';
import type { LatestPrice } from '../src/contracts/bus-messages.ts';
import { createMetrics, type Metrics } from '../src/metrics/metrics.ts';
import { startServer } from '../src/server/app.ts';
import type { ServerDeps } from '../src/server/deps.ts';
import { NO_TRADING } from '../src/execution/trading-engine.ts';
import type { Db } from '../src/store/db.ts';
import { upsertBars } from '../src/store/bars-repo.ts';
import { databaseTargets, type DatabaseTarget } from '../test/support/test-db.ts';
import { sessionBars } from '../test/server/seed-bars.ts';
import { against, formatRate, record } from './harness.ts';
import type { HttpReport, LoadCommand, LoadReply, WsReport } from './serving-load.ts';
import { commonOpenWindow, MIX_SYMBOLS, modelQuotes } from './instrument-mix.ts';

const LOAD = fileURLToPath(new URL('./serving-load.ts', import.meta.url));
const SYMBOL = 'USD/COP';

export async function benchServing(): Promise<void> {
  const db: Db = await (databaseTargets()[0] as { open: () => Promise<Db> }).open();
  const bus = createMemoryBus({ clock: systemClock });
  const metrics = createMetrics({ defaultMetrics: false });
  const deps = serverDeps(db, bus, metrics);
  const server = await startServer(deps);
  const load = new LoadProcess();
  try {
    const bare = await benchBareFastify(load);
    await benchLatest(load, bus, new URL(server.url), bare);
    await benchLatestSymbolMix(load, db, bare);
    // A moderate and a heavy rate each: latency below saturation, then throughput at the aim.
    await benchFanout(load, bus, metrics, server.url, 1_000, [
      { rate: 100, events: 500, sampleEvery: 5 },
      { rate: 300, events: 1_500, sampleEvery: 5 },
    ]);
    await benchFanout(load, bus, metrics, server.url, 10_000, [
      { rate: 10, events: 50, sampleEvery: 25 },
      { rate: 30, events: 150, sampleEvery: 25 },
    ]);
  } finally {
    load.stop();
    await server.close();
    await bus.close();
    await db.close();
  }
}

/** The server as `tasa up` builds it, on the memory bus, rate limit off; USD/COP alone unless `symbols` says otherwise. */
function serverDeps(db: Db, bus: Bus, metrics: Metrics, symbols: readonly string[] = [SYMBOL]): ServerDeps {
  return {
    db,
    bus,
    clock: systemClock,
    calendar: loadMarketCalendar({}),
    config: loadConfig({ TASA_LOG_LEVEL: 'silent', TASA_HTTP_PORT: '0', TASA_RATE_LIMIT_PER_MINUTE: '0', TASA_SYMBOLS: symbols.join(',') }),
    logger: pino({ level: 'silent' }),
    metrics,
    symbols: [...symbols],
    version: 'bench',
    localStatus: null,
    jobs: null,
    trading: NO_TRADING,
  };
}

/** What this machine allows: a bare fastify JSON route under the same load, to put the next figure in scale. */
async function benchBareFastify(load: LoadProcess): Promise<number> {
  const app = Fastify();
  app.get('/latest', () => ({ symbol: SYMBOL, price: 4000.5, bid: 4000, ask: 4001, spread: 1 }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const cpu = process.cpuUsage();
    const r = (await load.call({ cmd: 'http', port, paths: ['/latest'], connections: 64, durationMs: 3_000, warmupMs: 500 })) as HttpReport;
    const perCpu = perCpuSecond(r.total, cpu);
    record('serving', 'baseline: bare fastify JSON route', `${grouped(perCpu)} req/CPU-s`, `this machine's ceiling for the load below; ${formatRate(r.requests, r.elapsedMs, 'req')} wall`);
    return perCpu;
  } finally {
    await app.close();
  }
}

async function benchLatest(load: LoadProcess, bus: Bus, url: URL, bare: number): Promise<void> {
  const now = systemClock.now();
  const latest: LatestPrice = { symbol: SYMBOL, price: 4000.5, bid: 4000, ask: 4001, spread: 1, timestamp: new Date(now).toISOString(), receivedAt: new Date(now).toISOString(), source: 'bench' };
  await bus.setLatest(`latest:${SYMBOL}`, latest, 3_600_000);
  const connections = 64;
  const cpu = process.cpuUsage();
  const r = (await load.call({ cmd: 'http', port: Number(url.port), paths: ['/market/latest?symbol=USD%2FCOP'], connections, durationMs: 5_000, warmupMs: 1_000 })) as HttpReport;
  const perCpu = perCpuSecond(r.total, cpu);
  record(
    'serving',
    'GET /market/latest',
    `${grouped(perCpu)} req/CPU-s`,
    `${connections} keep-alive connections from a child process; ${formatRate(r.requests, r.elapsedMs, 'req')} wall; p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; ${r.errors} non-200`,
    against('bare fastify req/CPU-s', perCpu, bare),
  );
}

/**
 * `/market/latest` on a server serving the five shipped symbols (TASA_SYMBOLS), a latest price
 * cached for each through the bus, the requests cycling over the five; against the same bare
 * fastify route as the USD/COP row. The prices are the simulator model's at 2026-03-03 14:00 UTC.
 */
async function benchLatestSymbolMix(load: LoadProcess, db: Db, bare: number): Promise<void> {
  const bus = createMemoryBus({ clock: systemClock });
  const server = await startServer(serverDeps(db, bus, createMetrics({ defaultMetrics: false }), MIX_SYMBOLS));
  try {
    await cacheModelPrices(bus);
    const paths = MIX_SYMBOLS.map((symbol) => `/market/latest?symbol=${encodeURIComponent(symbol)}`);
    await assertEachServed(server.url, paths);
    const connections = 64;
    const cpu = process.cpuUsage();
    const r = (await load.call({ cmd: 'http', port: Number(new URL(server.url).port), paths, connections, durationMs: 5_000, warmupMs: 1_000 })) as HttpReport;
    const perCpu = perCpuSecond(r.total, cpu);
    record(
      'serving',
      'GET /market/latest, symbol mix',
      `${grouped(perCpu)} req/CPU-s`,
      `cycling over ${MIX_SYMBOLS.join(', ')} (server with the five in TASA_SYMBOLS); ${connections} keep-alive connections from a child process; ${formatRate(r.requests, r.elapsedMs, 'req')} wall; p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; ${r.errors} non-200`,
      against('bare fastify req/CPU-s', perCpu, bare),
    );
  } finally {
    await server.close();
    await bus.close();
  }
}

/** Publishes each mix symbol's latest price through the bus, as ingestion does on a tick. */
async function cacheModelPrices(bus: Bus): Promise<void> {
  const { from } = commonOpenWindow(loadMarketCalendar({}), MIX_SYMBOLS, '2026-03-03');
  const slot = from + Math.ceil((Date.UTC(2026, 2, 3, 14) - from) / BAR_MS) * BAR_MS;
  const now = new Date(systemClock.now()).toISOString();
  for (const [symbol, tick] of modelQuotes(MIX_SYMBOLS, slot)) {
    const latest: LatestPrice = { symbol, price: tick.price, bid: tick.bid, ask: tick.ask, spread: tick.ask - tick.bid, timestamp: now, receivedAt: now, source: 'bench' };
    await bus.setLatest(`latest:${symbol}`, latest, 3_600_000);
  }
}

/** Fails the bench unless every path answers 200 with its own symbol's price: a mix of 404s would measure nothing. */
async function assertEachServed(baseUrl: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const response = await fetch(`${baseUrl}${path}`);
    const body = (await response.json()) as { symbol?: string; price?: number };
    const symbol = new URL(path, baseUrl).searchParams.get('symbol');
    if (response.status !== 200 || body.symbol !== symbol || !(typeof body.price === 'number' && body.price > 0)) {
      throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`);
    }
  }
}

/** The candle route on each store, against a bare fastify route measured in the same run. */
export async function benchCandleServing(): Promise<void> {
  const load = new LoadProcess();
  try {
    const bare = await benchBareFastify(load);
    for (const target of databaseTargets()) await benchCandles(load, target, bare);
  } finally {
    load.stop();
  }
}

/** Stored sessions for the candle figures: about four months of 5-minute bars. */
const CANDLE_SESSIONS = 80;

/**
 * `GET /api/candlesticks` on each store: the chart's first page (the latest 300 candles, from the
 * in-memory window, trusted until the store notifies a write or the once-a-second recheck), and a page further back
 * than the window (index range scans).
 */
async function benchCandles(load: LoadProcess, target: DatabaseTarget, bare: number): Promise<void> {
  const db = await target.open();
  const calendar = new MarketCalendar();
  const dates = calendar.sessionsBetween('2023-06-01', '2024-12-31').slice(-CANDLE_SESSIONS).map((s) => s.date);
  await upsertBars(db, dates.flatMap((date, i) => sessionBars(calendar, date, { base: 4000 + i })));
  const bus = createMemoryBus({ clock: systemClock });
  const server = await startServer(serverDeps(db, bus, createMetrics({ defaultMetrics: false })));
  try {
    const port = Number(new URL(server.url).port);
    const pages = [
      { name: '5min limit 300 (memory window)', path: '/api/candlesticks/USDCOP?interval=5min&limit=300' },
      { name: '1h limit 300 (memory window)', path: '/api/candlesticks/USDCOP?interval=1h&limit=300' },
      { name: '5min limit 300, page before the window (store)', path: `/api/candlesticks/USDCOP?interval=5min&limit=300&to=${dates[5] ?? ''}` },
    ];
    for (const page of pages) {
      // The first request loads the window: a one-off, not what a page costs.
      await (await fetch(`${server.url}${page.path}`)).arrayBuffer();
      const cpu = process.cpuUsage();
      const r = (await load.call({ cmd: 'http', port, paths: [page.path], connections: 64, durationMs: 3_000, warmupMs: 500 })) as HttpReport;
      const perCpu = perCpuSecond(r.total, cpu);
      record(
        'serving',
        `GET /api/candlesticks ${page.name}, ${target.name}`,
        `${grouped(perCpu)} req/CPU-s`,
        `${CANDLE_SESSIONS} sessions stored; ${formatRate(r.requests, r.elapsedMs, 'req')} wall; p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; ${r.errors} non-200`,
        against('bare fastify req/CPU-s', perCpu, bare),
      );
    }
  } finally {
    await server.close();
    await bus.close();
    await db.close();
  }
}

interface FanoutRun {
  rate: number;
  events: number;
  sampleEvery: number;
}

async function benchFanout(load: LoadProcess, bus: Bus, metrics: Metrics, httpUrl: string, clients: number, runs: FanoutRun[]): Promise<void> {
  const sampleEvery = runs[0]?.sampleEvery ?? 10;
  const opened = (await load.call({ cmd: 'ws-open', url: `${httpUrl.replace(/^http/, 'ws')}/ws`, clients, sampleEvery })) as { connected: number; failed: number };
  const label = `ws fan-out, ${clients.toLocaleString('en-US')} clients`;
  record('serving', `${label}: held`, `${opened.connected.toLocaleString('en-US')} connected`, opened.failed > 0 ? `${opened.failed} failed to connect` : 'every client subscribed');
  await publishAtRate(bus, 20, 200); // warm-up
  await sleep(500);
  for (const run of runs) await fanoutRun(load, bus, metrics, `${label} at ${run.rate} ticks/s`, opened.connected, run);
  await load.call({ cmd: 'ws-close' });
  await sleep(500);
}

async function fanoutRun(load: LoadProcess, bus: Bus, metrics: Metrics, label: string, clients: number, o: FanoutRun): Promise<void> {
  await load.call({ cmd: 'ws-expect', events: o.events });
  const droppedBefore = await droppedTotal(metrics);
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const cpu = process.cpuUsage();
  const start = systemClock.now();
  await publishAtRate(bus, o.events, o.rate);
  let report = (await load.call({ cmd: 'ws-report' })) as WsReport;
  for (const deadline = systemClock.now() + 20_000; report.completeClients < clients && systemClock.now() < deadline; ) {
    await sleep(100);
    report = (await load.call({ cmd: 'ws-report' })) as WsReport;
  }
  lag.disable();
  const serverCpu = grouped(perCpuSecond(report.received, cpu));
  const expected = o.events * clients;
  const dropped = (await droppedTotal(metrics)) - droppedBefore;
  record(
    'serving',
    label,
    formatRate(report.received, report.lastAt - start, 'msg'),
    `delivered ${report.received.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} (${dropped} conflated/dropped); ` +
      `publish -> client p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms, max ${report.maxMs} ms (${report.samples.toLocaleString('en-US')} samples); ` +
      `server event-loop lag p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms; ${serverCpu} msg per server CPU-second`,
  );
}

/** Publishes `events` ticks at `rate` per second (in small batches on a 2 ms loop), each stamped with its publish time. */
async function publishAtRate(bus: Bus, events: number, rate: number): Promise<void> {
  const start = systemClock.now();
  for (let published = 0; published < events; ) {
    const due = Math.min(events, Math.floor(((systemClock.now() - start) * rate) / 1000) + 1);
    for (; published < due; published++) {
      const now = systemClock.now();
      const price = 4000 + (published % 100) / 10;
      await bus.publish('ticks', SYMBOL, { symbol: SYMBOL, price, bid: price - 0.5, ask: price + 0.5, spread: 1, timestamp: new Date(now).toISOString(), receivedAt: new Date(now).toISOString(), source: 'bench' });
    }
    await sleep(2);
  }
}

/** Work per CPU-second the server process used since `since` (its own and the kernel's on its behalf): capacity on a core of its own. */
function perCpuSecond(count: number, since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  const seconds = (used.user + used.system) / 1e6;
  return Math.round(count / seconds);
}

function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

async function droppedTotal(metrics: Metrics): Promise<number> {
  const values = (await metrics.wsMessagesDropped.get()).values;
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** The load child and its one-at-a-time command channel. */
class LoadProcess {
  private readonly child: ChildProcess;
  private waiting: ((m: LoadReply) => void) | null = null;

  constructor() {
    this.child = fork(LOAD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: LoadReply) => {
      const resolve = this.waiting;
      this.waiting = null;
      resolve?.(m);
    });
  }

  call(command: LoadCommand): Promise<LoadReply> {
    return new Promise((resolve, reject) => {
      this.waiting = (m) => (m.cmd === 'error' ? reject(new Error(`load process: ${m.message}`)) : resolve(m));
      this.child.send(command);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env['TASA_LOG_LEVEL'] ??= 'silent';
  await benchServing();
}
