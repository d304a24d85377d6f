/**
 * A WebSocket client for gateway tests: a real socket (the `ws` package) that records every
 * message, checks each one against the protocol's ServerMessage schema, and lets a test wait for
 * the messages it expects.
 */
import type { Socket } from 'node:net';
import { Compile } from 'typebox/compile';
import WebSocket from 'ws';
import { ServerMessage } from '../../src/contracts/ws-protocol.ts';
import { waitFor } from '../bus/helpers.ts';

const checkServerMessage = Compile(ServerMessage);

export interface Msg {
  type: string;
  symbol?: string;
  seq?: number;
  code?: string;
  resume_since?: number;
  refetch?: string;
  data?: Record<string, unknown>;
  [k: string]: unknown;
}

export class WsTestClient {
  readonly messages: Msg[] = [];
  /** Each message's text as received, byte for byte (same order as `messages`). */
  readonly texts: string[] = [];
  /** Messages that did not match the protocol schema (a test asserts this stays empty). */
  readonly invalid: unknown[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer) => {
      const text = raw.toString('utf8');
      this.texts.push(text);
      const msg = JSON.parse(text) as Msg;
      if (!checkServerMessage.Check(msg)) this.invalid.push(msg);
      this.messages.push(msg);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a client; rejects with the HTTP status when the handshake is refused. */
  static open(url: string, headers: Record<string, string> = {}): Promise<WsTestClient> {
    const ws = new WebSocket(url, { headers });
    const client = new WsTestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message after the previous match that satisfies `pred` (waits for it). */
  async next(pred: (m: Msg) => boolean, what: string, timeoutMs = 5_000): Promise<Msg> {
    let found: Msg | undefined;
    await waitFor(
      () => {
        for (let i = this.cursor; i < this.messages.length; i++) {
          const m = this.messages[i] as Msg;
          if (pred(m)) {
            found = m;
            this.cursor = i + 1;
            return true;
          }
        }
        return false;
      },
      what,
      timeoutMs,
    );
    return found as Msg;
  }

  /** Sends a subscribe message and waits for its acknowledgement. */
  async subscribe(body: { symbols: string[]; channels?: string[]; since?: number }): Promise<Msg> {
    this.send({ action: 'subscribe', ...body });
    return this.next((m) => m.type === 'subscribed', 'the subscribed ack');
  }

  data(): Msg[] {
    return this.messages.filter((m) => m.seq !== undefined);
  }

  seqs(type?: string): number[] {
    return this.data()
      .filter((m) => type === undefined || m.type === type)
      .map((m) => m.seq as number);
  }

  async waitForSeq(seq: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.messages.some((m) => m.seq === seq), `seq ${seq} (have ${this.seqs().at(-1) ?? 'none'})`, timeoutMs);
  }

  /** Stops reading from the socket: the server's writes pile up in the kernel, then in its buffer. */
  pauseReading(): void {
    this.rawSocket().pause();
  }

  resumeReading(): void {
    this.rawSocket().resume();
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.terminate();
    await this.closed;
  }

  private rawSocket(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }
}

export function wsUrl(httpUrl: string | null, path: string): string {
  if (httpUrl === null) throw new Error('the test server is not listening');
  return `${httpUrl.replace(/^http/, 'ws')}${path}`;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
