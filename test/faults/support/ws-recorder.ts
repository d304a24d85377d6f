/**
 * A WebSocket client of the gateway that records every frame it receives for one symbol, every
 * channel, at full rate (`tick` frequency). Its checker says which sequence numbers it never saw
 * and whether each such hole was announced by a `gap` frame (from, to), and counts the seqs it
 * saw twice. A dropped connection is resumed with `since` = the last seq seen, as a client should.
 */
import WebSocket from 'ws';
import { tickKey } from './tick-ledger.ts';

export interface SeqAudit {
  /** Data frames with a seq. */
  frames: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Seqs received more than once. */
  duplicateSeqs: number;
  /** Sequence numbers skipped between two received frames. */
  missingSeqs: number;
  /** Of those, how many no gap frame announced. */
  unannouncedSeqs: number;
  /** The announced ranges, as received. */
  gaps: Array<{ from: number; to: number }>;
  /** The unannounced holes (first and last missing seq). */
  holes: Array<{ from: number; to: number }>;
  /** Price ticks (market_data) received. */
  ticks: number;
  /** `error` frames received, by code. */
  errors: Record<string, number>;
}

interface Frame {
  type?: string;
  seq?: number;
  symbol?: string;
  timestamp?: string;
  code?: string;
  from?: number;
  to?: number;
  data?: { from?: number; to?: number; price?: number | null; bid?: number | null; ask?: number | null };
}

export class WsRecorder {
  private ws: WebSocket | null = null;
  private closed = false;
  private readonly seqs: number[] = [];
  private readonly gaps: Array<{ from: number; to: number }> = [];
  private readonly errors: Record<string, number> = {};
  private ticks = 0;
  private readonly tickKeys = new Set<string>();
  private lastSeq = 0;

  constructor(
    private readonly wsUrl: string,
    private readonly symbol: string,
  ) {}

  /** Connects and subscribes; resolves once the gateway confirmed the subscription. */
  async start(timeoutMs = 15_000): Promise<void> {
    await this.connect(timeoutMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.terminate();
    });
  }

  audit(): SeqAudit {
    const seen = new Set<number>();
    let duplicateSeqs = 0;
    for (const s of this.seqs) {
      if (seen.has(s)) duplicateSeqs++;
      seen.add(s);
    }
    const sorted = [...seen].sort((a, b) => a - b);
    const holes: Array<{ from: number; to: number }> = [];
    let missingSeqs = 0;
    let unannouncedSeqs = 0;
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as number;
      const next = sorted[i] as number;
      for (let s = prev + 1; s < next; s++) {
        missingSeqs++;
        if (this.announced(s)) continue;
        unannouncedSeqs++;
        const last = holes.at(-1);
        if (last && last.to === s - 1) last.to = s;
        else holes.push({ from: s, to: s });
      }
    }
    return {
      frames: this.seqs.length,
      firstSeq: sorted[0] ?? null,
      lastSeq: sorted.at(-1) ?? null,
      duplicateSeqs,
      missingSeqs,
      unannouncedSeqs,
      gaps: [...this.gaps],
      holes,
      ticks: this.ticks,
      errors: { ...this.errors },
    };
  }

  /** Distinct ticks received, keyed as the ledger keys them (symbol, exchange time, price, bid, ask). */
  receivedTicks(): ReadonlySet<string> {
    return this.tickKeys;
  }

  private announced(seq: number): boolean {
    return this.gaps.some((g) => seq >= g.from && seq <= g.to);
  }

  private connect(timeoutMs: number): Promise<void> {
    const ws = new WebSocket(this.wsUrl);
    this.ws = ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`the gateway at ${this.wsUrl} did not confirm a subscription within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.on('open', () => {
        const since = this.lastSeq > 0 ? { since: this.lastSeq } : {};
        ws.send(JSON.stringify({ action: 'subscribe', symbols: [this.symbol], ...since }));
      });
      ws.on('message', (raw: WebSocket.RawData) => {
        const frame = JSON.parse(rawText(raw)) as Frame;
        if (frame.type === 'subscribed') {
          clearTimeout(timer);
          resolve();
        }
        this.onFrame(frame);
      });
      ws.on('error', () => undefined);
      ws.on('close', () => {
        clearTimeout(timer);
        if (!this.closed) setTimeout(() => void this.connect(timeoutMs).catch(() => undefined), 200);
      });
    });
  }

  private recordTick(frame: Frame): void {
    this.ticks++;
    const key = tickOf(frame);
    if (key !== null) this.tickKeys.add(key);
  }

  private onFrame(frame: Frame): void {
    if (frame.type === 'gap') {
      const from = frame.from ?? frame.data?.from;
      const to = frame.to ?? frame.data?.to;
      if (typeof from === 'number' && typeof to === 'number') this.gaps.push({ from, to });
      return;
    }
    if (frame.type === 'error') {
      const code = frame.code ?? 'unknown';
      this.errors[code] = (this.errors[code] ?? 0) + 1;
      return;
    }
    if (typeof frame.seq !== 'number') return;
    this.seqs.push(frame.seq);
    this.lastSeq = Math.max(this.lastSeq, frame.seq);
    if (frame.type === 'market_data') this.recordTick(frame);
  }
}

function tickOf(frame: Frame): string | null {
  const d = frame.data;
  const time = Date.parse(frame.timestamp ?? '');
  if (!d || typeof d.price !== 'number' || !Number.isFinite(time)) return null;
  return tickKey(frame.symbol ?? '', time, d.price, d.bid ?? null, d.ask ?? null);
}

function rawText(raw: WebSocket.RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.from(raw).toString('utf8');
}
