/**
 * The load side of bench/serving-bench.ts, run as a child process so that it does not share the
 * server's event loop. Commands arrive over the IPC channel:
 * - `http`: keep-alive GET load on raw sockets (one request in flight per connection; a minimal
 *   HTTP/1.1 reader, far cheaper than node:http, so the server is what is measured); each
 *   connection cycles through `paths`, starting at its own index so the mix is even at any moment;
 * - `ws-open` / `ws-expect` / `ws-report` / `ws-close`: WebSocket clients subscribed to ticks;
 *   each counts market_data messages, every `sampleEvery`-th one also measures publish ->
 *   receive latency from the message's timestamp (the publisher's wall clock, ms resolution).
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export type LoadCommand =
  | { cmd: 'http'; port: number; paths: readonly string[]; connections: number; durationMs: number; warmupMs: number }
  | { cmd: 'ws-open'; url: string; clients: number; sampleEvery: number }
  | { cmd: 'ws-expect'; events: number }
  | { cmd: 'ws-report' }
  | { cmd: 'ws-close' };

export interface HttpReport {
  cmd: 'http';
  /** Responses within the measured window. */
  requests: number;
  /** Responses including the warm-up. */
  total: number;
  errors: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
}

export interface WsReport {
  cmd: 'ws-report';
  clients: number;
  received: number;
  completeClients: number;
  firstAt: number;
  lastAt: number;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export type LoadReply = HttpReport | WsReport | { cmd: 'ws-open'; connected: number; failed: number } | { cmd: 'ws-expect' } | { cmd: 'ws-close' } | { cmd: 'error'; message: string };

const reply = (m: LoadReply): void => {
  process.send?.(m);
};

process.on('message', (m: LoadCommand) => {
  run(m).catch((err: unknown) => reply({ cmd: 'error', message: err instanceof Error ? err.message : String(err) }));
});

async function run(m: LoadCommand): Promise<void> {
  switch (m.cmd) {
    case 'http':
      return reply(await httpLoad(m));
    case 'ws-open':
      return reply(await wsOpen(m.url, m.clients, m.sampleEvery));
    case 'ws-expect':
      ws.expected = m.events;
      ws.reset();
      return reply({ cmd: 'ws-expect' });
    case 'ws-report':
      return reply(ws.report());
    case 'ws-close':
      for (const c of ws.sockets) c.terminate();
      ws.sockets = [];
      return reply({ cmd: 'ws-close' });
  }
}

// ---- HTTP ----

function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function httpLoad(o: Extract<LoadCommand, { cmd: 'http' }>): Promise<HttpReport> {
  if (o.paths.length === 0) throw new Error('http load needs at least one path');
  const requestBytes = o.paths.map((path) => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`));
  const latencies: number[] = [];
  let requests = 0;
  let total = 0;
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  await Promise.all(
    Array.from({ length: o.connections }, (_, connection) =>
      new Promise<void>((resolve) => {
        const socket = connect(o.port, '127.0.0.1');
        socket.setNoDelay(true);
        let buffered: Buffer = Buffer.alloc(0);
        let sentAt = 0;
        let next = connection;
        const send = () => {
          sentAt = performance.now();
          socket.write(requestBytes[next++ % requestBytes.length] as Buffer);
        };
        socket.on('connect', send);
        socket.on('data', (chunk: Buffer) => {
          buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
          for (;;) {
            const used = oneResponse(buffered);
            if (used === 0) break;
            buffered = buffered.subarray(used.length);
            const now = performance.now();
            total++;
            if (now >= measureFrom && now < end) {
              requests++;
              if (used.status !== 200) errors++;
              latencies.push(now - sentAt);
            }
            if (now < end) send();
            else {
              socket.end();
              resolve();
            }
          }
        });
        socket.on('error', () => {
          errors++;
          resolve();
        });
      }),
    ),
  );
  latencies.sort((a, b) => a - b);
  return { cmd: 'http', requests, total, errors, elapsedMs: Math.min(performance.now(), end) - measureFrom, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/** One complete response at the start of `buf`: its length and status; 0 when incomplete. */
function oneResponse(buf: Buffer): { length: number; status: number } | 0 {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return 0;
  const head = buf.toString('latin1', 0, headEnd);
  const match = /\r\ncontent-length: *(\d+)/i.exec(head);
  const length = headEnd + 4 + Number(match?.[1] ?? 0);
  if (buf.length < length) return 0;
  return { length, status: Number(head.slice(9, 12)) };
}

// ---- WebSocket ----

const TIMESTAMP = Buffer.from('"timestamp":"');

class WsClients {
  sockets: WebSocket[] = [];
  expected = 0;
  received = 0;
  complete = 0;
  firstAt = 0;
  lastAt = 0;
  latencies: number[] = [];
  /** Per-client message counts, restarted with each ws-expect. */
  readonly counters: Array<{ n: number }> = [];

  reset(): void {
    this.received = 0;
    this.complete = 0;
    this.firstAt = 0;
    this.lastAt = 0;
    this.latencies = [];
    for (const c of this.counters) c.n = 0;
  }

  report(): WsReport {
    const sorted = this.latencies.sort((a, b) => a - b);
    return {
      cmd: 'ws-report',
      clients: this.sockets.length,
      received: this.received,
      completeClients: this.complete,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
      samples: sorted.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? NaN,
    };
  }

  onMessage(raw: Buffer, sampled: boolean, counter: { n: number }): void {
    if (!isMarketData(raw)) return;
    const now = Date.now();
    this.received++;
    if (this.firstAt === 0) this.firstAt = now;
    this.lastAt = now;
    if (++counter.n === this.expected) this.complete++;
    if (!sampled) return;
    const at = raw.indexOf(TIMESTAMP);
    if (at >= 0) this.latencies.push(now - Date.parse(raw.toString('latin1', at + TIMESTAMP.length, at + TIMESTAMP.length + 24)));
  }
}

const ws = new WsClients();

/** market_data messages start with {"type":"market_data" ("d" at index 16; "s" for market_status). */
function isMarketData(raw: Buffer): boolean {
  return raw[16] === 0x64 && raw[9] === 0x6d;
}

async function wsOpen(url: string, clients: number, sampleEvery: number): Promise<{ cmd: 'ws-open'; connected: number; failed: number }> {
  let connected = 0;
  let failed = 0;
  const subscribe = JSON.stringify({ action: 'subscribe', symbols: ['USD/COP'], channels: ['ticks'] });
  const openOne = (i: number) =>
    new Promise<void>((resolve) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      const counter = { n: 0 };
      const sampled = i % sampleEvery === 0;
      const untilSubscribed = (raw: Buffer) => {
        if (raw[9] !== 0x73 /* {"type":"subscribed" */) return;
        connected++;
        ws.sockets.push(socket);
        ws.counters.push(counter);
        socket.off('message', untilSubscribed);
        socket.on('message', (data: Buffer) => ws.onMessage(data, sampled, counter));
        resolve();
      };
      socket.on('message', untilSubscribed);
      socket.on('open', () => socket.send(subscribe));
      socket.on('error', () => {
        failed++;
        resolve();
      });
    });
  // A few hundred handshakes at a time: the server's accept backlog is finite.
  const batch = 250;
  for (let i = 0; i < clients; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, clients - i) }, (_, k) => openOne(i + k)));
  }
  return { cmd: 'ws-open', connected, failed };
}
