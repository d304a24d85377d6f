/**
 * One WebSocket connection to TwelveData's /v1/quotes/price, from the upgrade to its end: subscribe
 * to the tracked symbols on open (and to later changes on the open socket), heartbeat every `heartbeatIntervalMs`, parse frames, and declare the socket dead when
 * nothing at all (no price, no heartbeat reply) arrived for `silenceTimeoutMs`. Every timer runs on
 * the injected clock. `run()` resolves once with how the connection ended; reconnecting is the
 * stream's business (ws-client.ts).
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { CancelTimer, Clock } from '../../clock.ts';
import type { TickSource } from '../../domain/tick.ts';
import { errorMessage } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { FeedEvent } from '../feed-events.ts';
import { parseFrame, type ServerMessage } from './price-frame.ts';
import type { ProblemLog, StreamCounters } from './stream-stats.ts';

export interface SessionOptions {
  /** With the key in it: never logged. */
  url: string;
  keyId: string;
  /**
   * The tracked symbols, read when the socket opens: a subscribe or unsubscribe made while this
   * connection was still being set up is part of its first subscribe message.
   */
  symbols: () => readonly string[];
  clock: Clock;
  heartbeatIntervalMs: number;
  silenceTimeoutMs: number;
  source: TickSource;
  emit: (event: FeedEvent) => void;
  problems: ProblemLog;
  counters: StreamCounters;
  logger: Logger | undefined;
  /** Removes the key from any text that may carry it (error messages). */
  redact: (text: string) => string;
}

export type SessionEnd =
  /** The upgrade was refused with 401/403 (HTTP status or error body): the key is bad. */
  | { kind: 'auth_failed'; status: number; message: string }
  | { kind: 'lost'; detail: string }
  | { kind: 'stopped' };

const HEARTBEAT = JSON.stringify({ action: 'heartbeat' });
/** Heartbeats sent without any frame in between after which the socket counts as having stalled. */
const STALL_HEARTBEATS = 2;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const CLOSE_NORMAL = 1000;

export class StreamSession {
  /** The server confirmed a symbol or sent a price: the connection did its job. */
  healthy = false;
  private ws: WebSocket | null = null;
  private opened = false;
  private lastActivity: number;
  /** The own time of the latest price received on this connection, if any yet. */
  private lastPriceTime: number | null = null;
  /** Heartbeats sent since the last frame. */
  private unansweredHeartbeats = 0;
  private lastError: string | null = null;
  private cancelHeartbeat: CancelTimer | null = null;
  private cancelWatchdog: CancelTimer | null = null;
  private finish: ((end: SessionEnd) => void) | null = null;

  constructor(private readonly o: SessionOptions) {
    this.lastActivity = o.clock.now();
  }

  /**
   * Up to when this connection is known to have delivered every price: its last frame (or its
   * start), but no later than its last price's own time. A busy process reads its socket late:
   * frames read at 13:26 may carry prices of 13:24, and a cut then loses those printed after them.
   */
  get deliveredUntil(): number {
    return Math.min(this.lastActivity, this.lastPriceTime ?? this.lastActivity);
  }

  run(): Promise<SessionEnd> {
    return new Promise<SessionEnd>((resolve) => {
      this.finish = resolve;
      try {
        this.ws = this.connect();
      } catch (err) {
        this.end({ kind: 'lost', detail: `cannot open the socket: ${this.o.redact(errorMessage(err))}` });
        return;
      }
      // The upgrade itself must finish within the silence window too.
      this.armWatchdog();
    });
  }

  /** Closes the connection (normally when open); `run()` resolves with `stopped`. */
  stop(): void {
    this.end({ kind: 'stopped' });
  }

  /** Subscribes on the open socket; before it opens there is nothing to do (`onOpen` sends the tracked set). */
  subscribe(symbols: readonly string[]): void {
    if (this.opened && symbols.length > 0) this.send(subscriptionMessage('subscribe', symbols));
  }

  unsubscribe(symbols: readonly string[]): void {
    if (this.opened && symbols.length > 0) this.send(subscriptionMessage('unsubscribe', symbols));
  }

  private connect(): WebSocket {
    const ws = new WebSocket(this.o.url);
    ws.on('open', () => this.onOpen());
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('unexpected-response', (_req, res) => void this.onRefused(res));
    // 'close' always follows 'error'; keep the reason for it.
    ws.on('error', (err) => (this.lastError = this.o.redact(errorMessage(err))));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
    return ws;
  }

  private onOpen(): void {
    this.opened = true;
    this.touch();
    this.o.counters.connections++;
    this.o.emit({ type: 'status', state: 'connected', detail: `key ${this.o.keyId}` });
    // One subscribe with every tracked symbol, also after a reconnect (none: the feed tracks nothing right now).
    const symbols = this.o.symbols();
    if (symbols.length > 0) this.send(subscriptionMessage('subscribe', symbols));
    this.armHeartbeat();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const previous = this.deliveredUntil;
    const receivedAt = this.touch();
    // A live server answers every heartbeat: unanswered ones mean it stalled, even if it resumed in
    // time. Counted in heartbeats sent, not in elapsed time, so a busy event loop (which delays the
    // heartbeat timer too) is not taken for a stall.
    if (this.unansweredHeartbeats >= STALL_HEARTBEATS) this.o.emit({ type: 'silence', from: previous, to: receivedAt });
    this.unansweredHeartbeats = 0;
    this.o.counters.framesReceived++;
    if (isBinary) return this.o.problems.report('malformed_frame', 'binary frame', { keyId: this.o.keyId });
    const frame = parseFrame(rawText(data), receivedAt, this.o.source);
    if (frame.type === 'tick') {
      this.healthy = true;
      this.lastPriceTime = Math.max(this.lastPriceTime ?? frame.tick.time, frame.tick.time);
      this.o.counters.ticks++;
      this.o.emit(frame);
    } else if (frame.type === 'problem') {
      this.o.problems.report(frame.kind, frame.detail, { keyId: this.o.keyId });
    } else {
      this.onServerMessage(frame);
    }
  }

  private onServerMessage(message: ServerMessage): void {
    const { event, body } = message;
    if (event === 'subscribe-status') return this.onSubscribeStatus(body);
    if (event === 'heartbeat' && body['status'] !== 'error') {
      this.o.counters.heartbeatReplies++;
      return;
    }
    if (event === 'unsubscribe-status' || event === 'reset-status') return;
    if (body['status'] === 'error') return this.o.problems.report('server_error', `${event ?? 'event'}: ${messagesOf(body)}`, { keyId: this.o.keyId });
    this.o.problems.report('unknown_event', `unknown event ${JSON.stringify(event)}: ${JSON.stringify(body).slice(0, 120)}`, { keyId: this.o.keyId });
  }

  /** The real server writes `null` for an empty `success` or `fails` list. */
  private onSubscribeStatus(body: Record<string, unknown>): void {
    const success = symbolsOf(body['success']);
    const failed = symbolsOf(body['fails']);
    this.o.emit({ type: 'subscription', success, failed });
    if (failed.length > 0) this.o.logger?.warn({ failed, keyId: this.o.keyId }, 'twelvedata stream: symbols failed to subscribe');
    if (body['status'] === 'error' && success.length === 0 && failed.length === 0) {
      this.o.problems.report('subscribe_error', messagesOf(body), { keyId: this.o.keyId });
    }
    if (success.length > 0) {
      this.healthy = true;
      this.o.emit({ type: 'status', state: 'subscribed', detail: success.join(',') });
    }
  }

  /** A non-101 answer to the upgrade: 401/403 (in the status or, with HTTP 200, in the body) is a bad key. */
  private async onRefused(res: IncomingMessage): Promise<void> {
    const text = await readBody(res);
    const body = parseJson(text);
    const code = typeof body?.['code'] === 'number' ? body['code'] : (res.statusCode ?? 0);
    const message = typeof body?.['message'] === 'string' ? body['message'] : text.slice(0, 200);
    if (code === 401 || code === 403) this.end({ kind: 'auth_failed', status: code, message });
    else this.end({ kind: 'lost', detail: `upgrade refused with HTTP ${res.statusCode ?? '?'}: ${message}` });
  }

  private onClose(code: number, reason: string): void {
    const why = this.lastError ?? `connection closed (code ${code}${reason ? `, ${reason}` : ''})`;
    this.end({ kind: 'lost', detail: this.opened ? why : `could not connect: ${why}` });
  }

  private armHeartbeat(): void {
    this.cancelHeartbeat = this.o.clock.setTimer(this.o.heartbeatIntervalMs, () => {
      this.o.counters.heartbeatsSent++;
      this.unansweredHeartbeats++;
      this.send(HEARTBEAT);
      this.armHeartbeat();
    });
  }

  /** One timer at (last activity + window), moved forward lazily: frames only update a number. */
  private armWatchdog(): void {
    const due = this.lastActivity + this.o.silenceTimeoutMs;
    this.cancelWatchdog = this.o.clock.setTimer(due - this.o.clock.now(), () => {
      if (this.o.clock.now() - this.lastActivity < this.o.silenceTimeoutMs) return this.armWatchdog();
      // Timers run before the event loop reads the sockets: frames that arrived while the process
      // was busy (a GC pause, a fast simulated clock) are read just after this. Look again after
      // them (setImmediate), or a busy process would drop ticks already in its socket buffer.
      const recheck = setImmediate(() => this.checkSilence());
      this.cancelWatchdog = () => clearImmediate(recheck);
    });
  }

  private checkSilence(): void {
    const silentFor = this.o.clock.now() - this.lastActivity;
    if (silentFor < this.o.silenceTimeoutMs) return this.armWatchdog();
    this.end({ kind: 'lost', detail: `silent for ${silentFor} ms (${this.opened ? 'no price, no heartbeat reply' : 'no upgrade answer'})` });
  }

  private touch(): number {
    this.lastActivity = this.o.clock.now();
    return this.lastActivity;
  }

  /** Sending on a dying socket must never throw into a timer (twelvedata-python #45/#46). */
  private send(text: string): void {
    const ws = this.ws;
    if (ws?.readyState !== WebSocket.OPEN) return;
    ws.send(text, (err) => {
      if (err) this.o.logger?.debug({ err: this.o.redact(err.message), keyId: this.o.keyId }, 'twelvedata stream: send failed');
    });
  }

  private end(end: SessionEnd): void {
    const finish = this.finish;
    if (finish === null) return;
    this.finish = null;
    this.cancelHeartbeat?.();
    this.cancelWatchdog?.();
    const ws = this.ws;
    if (ws !== null && ws.readyState !== WebSocket.CLOSED) {
      if (end.kind === 'stopped' && ws.readyState === WebSocket.OPEN) ws.close(CLOSE_NORMAL, 'client closing');
      else ws.terminate();
    }
    finish(end);
  }
}

function subscriptionMessage(action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): string {
  return JSON.stringify({ action, params: { symbols: symbols.join(',') } });
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** `success` / `fails` entries are objects with `symbol`; tolerate null lists and bare strings. */
function symbolsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return (list as unknown[]).flatMap((entry) => {
    if (typeof entry === 'string') return [entry];
    const symbol = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)['symbol'] : undefined;
    return typeof symbol === 'string' ? [symbol] : [];
  });
}

function messagesOf(body: Record<string, unknown>): string {
  const messages = body['messages'] ?? body['message'];
  if (Array.isArray(messages)) return messages.map(String).join('; ');
  return typeof messages === 'string' ? messages : JSON.stringify(body).slice(0, 200);
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (size < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
