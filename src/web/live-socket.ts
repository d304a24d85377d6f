/**
 * The dashboard's WebSocket client on the gateway protocol (`/ws`): subscribes, remembers the
 * last seq per symbol and resumes with `since` after a reconnect (capped backoff), so a short
 * outage loses nothing. When the server says the gap is too old it asks the view to refetch.
 */
import { storedToken } from './api.ts';

export type ServerMessage =
  | { type: 'market_data'; symbol: string; seq: number; timestamp: string; data: { price: number; bid: number | null; ask: number | null; spread: number | null } }
  | { type: 'bar'; symbol: string; seq: number; timestamp: string; data: { time: string; open: number; high: number; low: number; close: number; revision: number; final: boolean } }
  | { type: 'market_status'; data: Record<string, unknown> }
  | { type: 'alert'; symbol?: string; seq?: number; data: { kind: string; severity: string; message: string } }
  | { type: 'prediction'; symbol: string; seq: number; data: Record<string, unknown> }
  | { type: 'heartbeat' | 'subscribed' | 'unsubscribed' }
  | { type: 'error'; code?: string; message: string };

export type SocketState = 'connecting' | 'open' | 'closed';

export interface LiveSocketOptions {
  symbols: string[];
  channels: string[];
  onMessage: (m: ServerMessage) => void;
  onState: (s: SocketState) => void;
  /** Events were missed beyond the replay window: reload history over REST. */
  onRefetch: () => void;
}

export class LiveSocket {
  private ws: WebSocket | null = null;
  private lastSeq = new Map<string, number>();
  private attempts = 0;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: LiveSocketOptions) {
    this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.ws?.close();
  }

  private connect(): void {
    this.opts.onState('connecting');
    const token = storedToken();
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.opts.onState('open');
      for (const symbol of this.opts.symbols) {
        const since = this.lastSeq.get(symbol);
        ws.send(JSON.stringify({ action: 'subscribe', symbols: [symbol], channels: this.opts.channels, ...(since === undefined ? {} : { since }) }));
      }
    };
    ws.onmessage = (event: MessageEvent<string>) => this.receive(event.data);
    ws.onclose = () => {
      this.opts.onState('closed');
      if (!this.closed) this.scheduleReconnect();
    };
  }

  private receive(text: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    if ('seq' in message && typeof message.seq === 'number' && 'symbol' in message && typeof message.symbol === 'string') {
      this.lastSeq.set(message.symbol, message.seq);
    }
    if (message.type === 'error' && (message.code === 'replay_unavailable' || message.code === 'slow_consumer')) this.opts.onRefetch();
    this.opts.onMessage(message);
  }

  private scheduleReconnect(): void {
    const delay = Math.min(15_000, 500 * 2 ** this.attempts++) * (0.75 + Math.random() * 0.5);
    this.retry = setTimeout(() => this.connect(), delay);
  }
}
