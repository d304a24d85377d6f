/**
 * A local TwelveData stand-in: one HTTP server serving the REST API and the WebSocket price stream
 * (/v1/quotes/price) from one seeded price path, so a client written for the real service works
 * against it unchanged, a REST backfill joins the live stream without a seam, and tests can run it
 * on a ManualClock. See research/twelvedata-protocol.md for the protocol it follows.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Clock } from '../../clock.ts';
import type { Bar } from '../../domain/bar.ts';
import type { Logger } from '../../log.ts';
import { KeyPolicy } from './api-keys.ts';
import { BASIC_PLAN, CreditLedger, type CreditPlan, type KeyCredits } from './credits.ts';
import type { SymbolData } from './endpoint.ts';
import { FaultInjector, type FaultControls, type FaultCounts, type FaultOptions } from './faults.ts';
import { PriceHistory } from './history.ts';
import { resolveInstruments, type SimInstrument } from './instruments.ts';
import { TickPrinters } from './tick-printers.ts';
import { ModelPriceSource } from './price-model.ts';
import type { SlotPriceSource } from './price-source.ts';
import { ReplayPriceSource } from './replay-source.ts';
import { RestApi } from './rest-api.ts';
import { TickPath, type SimTick } from './tick-path.ts';
import { WS_PATH, WsGateway } from './ws-gateway.ts';

export interface SimulatorOptions {
  clock: Clock;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default 1. */
  seed?: number;
  /** Default ['USD/COP']. */
  symbols?: string[];
  /** `replay`: ticks are drawn through each stored bar's OHLC; slots without a bar have no data. */
  source?: { kind: 'model' } | { kind: 'replay'; bars: Bar[] };
  /** Accepted keys; unset = any non-empty key. */
  apiKeys?: string[];
  /** API credits; default Basic, 8 per minute and 800 per day. */
  plan?: CreditPlan;
  /** Average tick rate during each pair's busy market hours (its session; a third of it outside); default 3. */
  ticksPerSecond?: number;
  /** `null` instead of [] in subscribe-status, as the real server does; default true. */
  nullArrays?: boolean;
  /** Error bodies with their HTTP status ('http', default) or always HTTP 200 ('body-200'). */
  errorStatusMode?: 'http' | 'body-200';
  /** Close a socket after this long without a client heartbeat; default never. */
  heartbeatTimeoutMs?: number;
  /** At most this many connections per key, a new one closing the oldest (the real service: 3); default no cap. */
  maxConnectionsPerKey?: number;
  /** At most this many symbols per connection, the rest failing (the Basic plan: 8); default no cap. */
  maxSymbolsPerConnection?: number;
  faults?: FaultOptions;
  /**
   * After the process stalls (a suspended laptop, a blocked event loop at a high clock speed), the
   * ticks due meanwhile are sent in a burst, at most this much of them (default 10 minutes); the
   * rest are skipped though REST still has them. Tests that compare with REST set Infinity.
   */
  maxBacklogMs?: number;
  logger?: Logger;
  /** Told of every price frame written to a socket (connection id, frame text): fault tests record what was delivered. */
  onPriceFrame?: (connection: number, frame: string) => void;
}

export interface SimulatorStats {
  connections: number;
  connectionsTotal: number;
  /** Symbol -> number of connections subscribed to it. */
  subscriptions: Record<string, number>;
  /** Price events written to sockets (duplicates and late ones included, garbage frames not). */
  ticksSent: number;
  /** Ticks the live feeds produced (once each, whatever the number of subscribers). */
  ticksGenerated: number;
  wsMessagesReceived: number;
  restRequests: number;
  /** Keyed by keyId() (a short sha256), never by the key. */
  credits: Record<string, KeyCredits>;
  faults: FaultCounts & { heartbeatTimeouts: number; evictions: number };
}

export interface RunningSimulator {
  restUrl: string;
  wsUrl: string;
  port: number;
  faults: FaultControls;
  stats(): SimulatorStats;
  /**
   * Ground truth: every tick the live feed prints for `symbol` in the 5-minute slot opening at
   * `slotOpen` (exchange times unrounded), whether or not a connection received it. REST bars
   * aggregate exactly these.
   */
  ticksInSlot(symbol: string, slotOpen: number): readonly SimTick[];
  close(): Promise<void>;
}

const DEFAULT_SEED = 1;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_TICKS_PER_SECOND = 3;

export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const parts = assemble(opts, logger);
  const port = await listen(parts.server, opts.host ?? DEFAULT_HOST, opts.port ?? 0);
  const host = urlHost(opts.host ?? DEFAULT_HOST);
  logger.info({ port, symbols: [...parts.symbolData.keys()], seed: opts.seed ?? DEFAULT_SEED }, 'simulator: listening');
  let closing: Promise<void> | null = null;
  return {
    restUrl: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}${WS_PATH}`,
    port,
    faults: parts.faults,
    stats: () => collectStats(parts, opts.clock.now()),
    ticksInSlot: (symbol, slotOpen) => parts.symbolData.get(symbol)?.history.ticks.ticksInSlot(slotOpen) ?? [],
    close: () => (closing ??= shutdown(parts)),
  };
}

interface Parts {
  symbolData: Map<string, SymbolData>;
  faults: FaultInjector;
  credits: CreditLedger;
  gateway: WsGateway;
  feeds: TickPrinters;
  rest: RestApi;
  server: Server;
}

/** Wires the price data, the WS gateway, the live feeds and the REST API onto one HTTP server. */
function assemble(opts: SimulatorOptions, logger: Logger): Parts {
  const seed = opts.seed ?? DEFAULT_SEED;
  const instruments = resolveInstruments(opts.symbols ?? ['USD/COP']);
  const symbolData = buildSymbolData(instruments, opts, seed);
  const keys = new KeyPolicy(opts.apiKeys);
  const faults = new FaultInjector(opts.clock, seed, opts.faults);
  const plan = checkedPlan(opts.plan ?? BASIC_PLAN);
  const credits = new CreditLedger(plan);
  const errorStatusMode = opts.errorStatusMode ?? 'http';
  const gateway = new WsGateway({
    clock: opts.clock,
    instruments: new Map(instruments.map((i) => [i.symbol, i])),
    keys,
    nullArrays: opts.nullArrays ?? true,
    errorStatusMode,
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
    maxConnectionsPerKey: opts.maxConnectionsPerKey,
    maxSymbolsPerConnection: opts.maxSymbolsPerConnection,
    faults,
    logger,
    onPriceFrame: opts.onPriceFrame,
  });
  const tickPaths = new Map([...symbolData].map(([symbol, data]) => [symbol, data.history.ticks]));
  const feeds = new TickPrinters(opts.clock, tickPaths, (symbol, tick) => gateway.publish(symbol, tick), opts.maxBacklogMs);
  gateway.attachFeeds(feeds);
  const rest = new RestApi({ clock: opts.clock, symbols: symbolData, keys, credits, perMinute: plan.perMinute, errorStatusMode, faults, logger });
  const server = createServer((req, res) => rest.handle(req, res));
  server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  return { symbolData, faults, credits, gateway, feeds, rest, server };
}

async function shutdown(parts: Parts): Promise<void> {
  parts.faults.stop();
  parts.feeds.stopAll();
  await parts.gateway.close();
  await closeServer(parts.server);
}

function checkedPlan(plan: CreditPlan): CreditPlan {
  if (!(plan.perMinute > 0 && plan.perDay > 0)) throw new RangeError(`plan credits must be > 0, got ${plan.perMinute}/min, ${plan.perDay}/day`);
  return plan;
}

function buildSymbolData(instruments: SimInstrument[], opts: SimulatorOptions, seed: number): Map<string, SymbolData> {
  const ticksPerSecond = opts.ticksPerSecond ?? DEFAULT_TICKS_PER_SECOND;
  if (!(ticksPerSecond > 0)) throw new RangeError(`ticksPerSecond must be > 0, got ${ticksPerSecond}`);
  const source = opts.source ?? { kind: 'model' };
  return new Map(
    instruments.map((instrument) => {
      const prices: SlotPriceSource =
        source.kind === 'model' ? new ModelPriceSource(instrument, seed) : new ReplayPriceSource(source.bars.filter((b) => b.symbol === instrument.symbol));
      const history = new PriceHistory(new TickPath(prices, instrument, seed, ticksPerSecond));
      return [instrument.symbol, { instrument, history }];
    }),
  );
}

function collectStats({ gateway, feeds, rest, credits, faults }: Parts, now: number): SimulatorStats {
  const ws = gateway.stats();
  return {
    connections: ws.connections,
    connectionsTotal: ws.connectionsTotal,
    subscriptions: ws.subscriptions,
    ticksSent: ws.ticksSent,
    ticksGenerated: feeds.ticksGenerated,
    wsMessagesReceived: ws.messagesReceived,
    restRequests: rest.requests,
    credits: credits.snapshot(now),
    faults: { ...faults.counts, heartbeatTimeouts: ws.heartbeatTimeouts, evictions: ws.evictions },
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // fetch keeps REST connections alive; without this close() would wait for them to time out.
    server.closeAllConnections();
  });
}

/** An IPv6 literal needs brackets in a URL. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
