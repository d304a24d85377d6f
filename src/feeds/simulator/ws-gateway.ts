/**
 * The WebSocket side at /v1/quotes/price: the authenticated upgrade, per-connection subscriptions,
 * heartbeats, the optional heartbeat timeout and per-key connection cap, and the fan-out of price
 * events (through the fault injector) to the connections subscribed to each symbol.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { CancelTimer, Clock } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import { keyId, wsApiKey, type KeyPolicy } from './api-keys.ts';
import type { FaultInjector } from './faults.ts';
import { canonicalSymbol, type SimInstrument } from './instruments.ts';
import type { TickPrinters } from './tick-printers.ts';
import type { SimTick } from './tick-path.ts';
import { invalidApiKey, unknownEndpoint, type TdErrorBody } from './td-errors.ts';
import {
  HEARTBEAT_REPLY,
  RESET_REPLY,
  errorEvent,
  parseClientMessage,
  priceEvent,
  statusEvent,
  successEntry,
  type SuccessEntry,
} from './ws-messages.ts';

export const WS_PATH = '/v1/quotes/price';
/** ws-overview.md: a client message must not exceed 1 MB. */
const MAX_MESSAGE_BYTES = 1024 * 1024;
const CLOSE_POLICY = 1008;
const CLOSE_NORMAL = 1000;

export interface WsGatewayOptions {
  clock: Clock;
  instruments: ReadonlyMap<string, SimInstrument>;
  keys: KeyPolicy;
  nullArrays: boolean;
  errorStatusMode: 'http' | 'body-200';
  heartbeatTimeoutMs: number | undefined;
  maxConnectionsPerKey: number | undefined;
  maxSymbolsPerConnection: number | undefined;
  faults: FaultInjector;
  logger: Logger;
  onPriceFrame: ((connection: number, frame: string) => void) | undefined;
}

interface Connection {
  id: number;
  ws: WebSocket;
  keyId: string;
  symbols: Set<string>;
  cancelHeartbeatTimeout: CancelTimer | null;
}

export interface WsStats {
  connections: number;
  connectionsTotal: number;
  subscriptions: Record<string, number>;
  ticksSent: number;
  messagesReceived: number;
  heartbeatTimeouts: number;
  evictions: number;
}

export class WsGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  /** In opening order, so the oldest of a key is found first. */
  private readonly connections = new Set<Connection>();
  private nextId = 1;
  private feeds: TickPrinters | null = null;
  private readonly counters = { connectionsTotal: 0, ticksSent: 0, messagesReceived: 0, heartbeatTimeouts: 0, evictions: 0 };

  constructor(private readonly o: WsGatewayOptions) {
    o.faults.terminateAll = () => this.terminateAll();
  }

  attachFeeds(feeds: TickPrinters): void {
    this.feeds = feeds;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname !== WS_PATH) return this.refuseUpgrade(socket, unknownEndpoint(url.pathname));
    const key = wsApiKey(url, req);
    if (!this.o.keys.accepts(key)) {
      this.o.logger.info({ key: key === null ? null : keyId(key) }, 'simulator: websocket refused, bad API key');
      return this.refuseUpgrade(socket, invalidApiKey());
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(ws, keyId(key)));
  }

  /** Fan-out of one tick to its symbol's subscribers, shaped by the stream faults. */
  publish(symbol: string, tick: SimTick): void {
    const instrument = this.o.instruments.get(symbol);
    const subscribers = [...this.connections].filter((c) => c.symbols.has(symbol));
    if (!instrument || subscribers.length === 0) return;
    if (this.o.faults.isStalled()) {
      this.o.faults.counts.framesSuppressed += subscribers.length;
      return;
    }
    for (const frame of this.o.faults.shapePriceFrame(symbol, priceEvent(instrument, tick))) {
      for (const conn of subscribers) {
        if (!this.send(conn, frame.text) || !frame.isPrice) continue;
        this.counters.ticksSent++;
        this.o.onPriceFrame?.(conn.id, frame.text);
      }
    }
  }

  terminateAll(): number {
    const count = this.connections.size;
    for (const conn of [...this.connections]) conn.ws.terminate();
    return count;
  }

  stats(): WsStats {
    const subscriptions: Record<string, number> = {};
    for (const conn of this.connections) for (const s of conn.symbols) subscriptions[s] = (subscriptions[s] ?? 0) + 1;
    return { connections: this.connections.size, subscriptions, ...this.counters };
  }

  async close(): Promise<void> {
    this.terminateAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private refuseUpgrade(socket: Duplex, body: TdErrorBody): void {
    const status = this.o.errorStatusMode === 'http' ? body.code : 200;
    const json = JSON.stringify(body);
    const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(json)}`, 'Connection: close'];
    socket.once('finish', () => socket.destroy());
    socket.end(`${head.join('\r\n')}\r\n\r\n${json}`);
  }

  private onOpen(ws: WebSocket, key: string): void {
    const conn: Connection = { id: this.nextId++, ws, keyId: key, symbols: new Set(), cancelHeartbeatTimeout: null };
    this.evictOldest(key);
    this.connections.add(conn);
    this.counters.connectionsTotal++;
    this.armHeartbeatTimeout(conn);
    this.o.logger.info({ connection: conn.id, key }, 'simulator: websocket connected');
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('close', () => this.onClose(conn));
    ws.on('error', (err) => this.o.logger.debug({ connection: conn.id, err: err.message }, 'simulator: websocket error'));
  }

  /** ws-overview.md: a key has at most N connections; a new one closes the oldest. */
  private evictOldest(key: string): void {
    const max = this.o.maxConnectionsPerKey;
    if (max === undefined) return;
    const same = [...this.connections].filter((c) => c.keyId === key);
    for (const conn of same.slice(0, Math.max(0, same.length - max + 1))) {
      this.counters.evictions++;
      this.dropSubscriptions(conn);
      this.connections.delete(conn);
      conn.ws.close(CLOSE_POLICY, 'Connection limit reached for this API key');
    }
  }

  private onClose(conn: Connection): void {
    conn.cancelHeartbeatTimeout?.();
    this.dropSubscriptions(conn);
    this.connections.delete(conn);
    this.o.logger.info({ connection: conn.id, key: conn.keyId }, 'simulator: websocket closed');
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    this.counters.messagesReceived++;
    const text = isBinary ? '' : rawText(data);
    const message = parseClientMessage(text);
    switch (message.action) {
      case 'heartbeat':
        this.armHeartbeatTimeout(conn);
        this.send(conn, HEARTBEAT_REPLY);
        return;
      case 'subscribe':
        this.send(conn, this.subscribe(conn, message.symbols));
        return;
      case 'unsubscribe':
        this.send(conn, this.unsubscribe(conn, message.symbols));
        return;
      case 'reset':
        this.dropSubscriptions(conn);
        this.send(conn, RESET_REPLY);
        return;
      case 'invalid':
        this.send(conn, errorEvent(message.replyEvent, message.messages));
    }
  }

  private subscribe(conn: Connection, requested: string[]): string {
    const success: SuccessEntry[] = [];
    const fails: Array<{ symbol: string }> = [];
    for (const asked of requested) {
      const instrument = this.o.instruments.get(canonicalSymbol(asked));
      const full = this.o.maxSymbolsPerConnection !== undefined && conn.symbols.size >= this.o.maxSymbolsPerConnection;
      if (!instrument || (full && !conn.symbols.has(instrument.symbol))) {
        fails.push({ symbol: asked });
        continue;
      }
      if (!conn.symbols.has(instrument.symbol)) {
        conn.symbols.add(instrument.symbol);
        this.feeds?.acquire(instrument.symbol);
      }
      success.push(successEntry(instrument));
    }
    return statusEvent('subscribe-status', success, fails, this.o.nullArrays);
  }

  private unsubscribe(conn: Connection, requested: string[]): string {
    const success: SuccessEntry[] = [];
    const fails: Array<{ symbol: string }> = [];
    for (const asked of requested) {
      const instrument = this.o.instruments.get(canonicalSymbol(asked));
      if (!instrument || !conn.symbols.has(instrument.symbol)) {
        fails.push({ symbol: asked });
        continue;
      }
      conn.symbols.delete(instrument.symbol);
      this.feeds?.release(instrument.symbol);
      success.push(successEntry(instrument));
    }
    return statusEvent('unsubscribe-status', success, fails, this.o.nullArrays);
  }

  private dropSubscriptions(conn: Connection): void {
    for (const symbol of conn.symbols) this.feeds?.release(symbol);
    conn.symbols.clear();
  }

  /** A heartbeat received during a stall still counts: the server reads, it only stops writing. */
  private armHeartbeatTimeout(conn: Connection): void {
    const timeout = this.o.heartbeatTimeoutMs;
    if (timeout === undefined) return;
    conn.cancelHeartbeatTimeout?.();
    conn.cancelHeartbeatTimeout = this.o.clock.setTimer(timeout, () => {
      this.counters.heartbeatTimeouts++;
      conn.ws.close(CLOSE_NORMAL, 'No heartbeat received');
    });
  }

  /** Every write goes through here, so a stall silences everything. */
  private send(conn: Connection, text: string): boolean {
    if (this.o.faults.isStalled()) {
      this.o.faults.counts.framesSuppressed++;
      return false;
    }
    if (conn.ws.readyState !== WebSocket.OPEN) return false;
    conn.ws.send(text);
    return true;
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
