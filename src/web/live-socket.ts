/**
 * The dashboard's WebSocket client on the gateway protocol (`/ws`, src/contracts/ws-protocol.ts):
 * subscribes, remembers the last seq per symbol and resumes with `since` after a reconnect
 * (capped backoff with jitter), so a short outage loses nothing. When the server says the gap is
 * too old for its replay window, or sends a `gap` frame (seqs it cannot deliver: lost with Redis,
 * or dropped because this client was slow), the view refetches over REST. The server sends a heartbeat every
 * 15 s of its clock; a socket silent for much longer is treated as dead and replaced.
 */
import type { Channel } from '../contracts/bus-messages.ts';
import type { ServerMessage, SubscribeMessage } from '../contracts/ws-protocol.ts';
import { storedToken } from './api.ts';

export type SocketState = 'connecting' | 'open' | 'closed';

export interface LiveSocketOptions {
  symbols: string[];
  channels: Channel[];
  onMessage: (m: ServerMessage) => void;
  onState: (s: SocketState) => void;
  /** Events were missed beyond the replay window, or announced as a gap: reload history over REST. */
  onRefetch: () => void;
}

/** Real time without any frame (heartbeats included) after which the socket is presumed dead. */
const SILENCE_LIMIT_MS = 45_000;
const MAX_BACKOFF_MS = 15_000;

export class LiveSocket {
  private ws: WebSocket | null = null;
  private lastSeq = new Map<string, number>();
  private attempts = 0;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: LiveSocketOptions) {
    this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.watchdog !== null) clearTimeout(this.watchdog);
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
      this.feedWatchdog(ws);
      for (const symbol of this.opts.symbols) {
        const since = this.lastSeq.get(symbol);
        ws.send(subscribeFrame({ action: 'subscribe', symbols: [symbol], channels: this.opts.channels, ...(since === undefined ? {} : { since }) }));
      }
    };
    ws.onmessage = (event: MessageEvent<string>) => {
      this.feedWatchdog(ws);
      this.receive(event.data);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      if (this.watchdog !== null) clearTimeout(this.watchdog);
      this.opts.onState('closed');
      if (!this.closed) this.scheduleReconnect();
    };
  }

  private feedWatchdog(ws: WebSocket): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => ws.close(4000, 'silent'), SILENCE_LIMIT_MS);
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
    if (message.type === 'gap') {
      // Those seqs will never come: resume after them, and take their period from REST.
      this.lastSeq.set(message.symbol, Math.max(this.lastSeq.get(message.symbol) ?? 0, message.to));
      this.opts.onRefetch();
    }
    if (message.type === 'error' && message.code === 'replay_unavailable') {
      // Start again from the live edge; the REST history covers what the window lost.
      if (message.symbol !== undefined) this.lastSeq.delete(message.symbol);
      this.opts.onRefetch();
    }
    if (message.type === 'error' && message.code === 'slow_consumer' && message.resume_since !== undefined && message.symbol !== undefined) {
      this.ws?.send(subscribeFrame({ action: 'subscribe', symbols: [message.symbol], channels: this.opts.channels, since: message.resume_since }));
    }
    this.opts.onMessage(message);
  }

  private scheduleReconnect(): void {
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts++) * (0.75 + Math.random() * 0.5);
    this.retry = setTimeout(() => this.connect(), delay);
  }
}

function subscribeFrame(message: SubscribeMessage): string {
  return JSON.stringify(message);
}
