/**
 * A WebSocket client of the gateway that records every frame it receives for several symbols on
 * one connection, every channel, at full rate (`tick` frequency). Sequence numbers are per symbol,
 * so is its checker: which seqs of a symbol it never saw and whether each such hole was announced
 * by a `gap` frame (from, to) of that symbol, and the seqs it saw twice. Each symbol is subscribed
 * on its own (`since` takes one) with `since` = the last seq seen: 0 at first, so that the client
 * gets every event from the bus's first, and a dropped connection resumes, as a client should.
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
  /** `error` frames received (of this symbol, or of none), by code. */
  errors: Record<string, number>;
}

interface Frame {
  type?: string;
  seq?: number;
  symbol?: string;
  /** Of a `subscribed` frame. */
  symbols?: string[];
  timestamp?: string;
  code?: string;
  from?: number;
  to?: number;
  data?: { from?: number; to?: number; price?: number | null; bid?: number | null; ask?: number | null };
}

/** What the client received of one symbol. */
class SymbolRecord {
  readonly seqs: number[] = [];
  readonly gaps: Array<{ from: number; to: number }> = [];
  readonly errors: Record<string, number> = {};
  readonly tickKeys = new Set<string>();
  ticks = 0;
  lastSeq = 0;
  subscribed = false;

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

  onFrame(frame: Frame): void {
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
    if (frame.type !== 'market_data') return;
    this.ticks++;
    const key = tickOf(frame);
    if (key !== null) this.tickKeys.add(key);
  }

  private announced(seq: number): boolean {
    return this.gaps.some((g) => seq >= g.from && seq <= g.to);
  }
}

export class WsRecorder {
  private ws: WebSocket | null = null;
  private closed = false;
  private readonly records: ReadonlyMap<string, SymbolRecord>;

  constructor(
    private readonly wsUrl: string,
    symbols: readonly string[],
  ) {
    this.records = new Map(symbols.map((s) => [s, new SymbolRecord()]));
  }

  /** Connects and subscribes; resolves once the gateway confirmed the subscription of every symbol. */
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

  audit(symbol: string): SeqAudit {
    return this.record(symbol).audit();
  }

  /** Distinct ticks of `symbol` received, keyed as the ledger keys them (symbol, exchange time, price, bid, ask). */
  receivedTicks(symbol: string): ReadonlySet<string> {
    return this.record(symbol).tickKeys;
  }

  private record(symbol: string): SymbolRecord {
    const record = this.records.get(symbol);
    if (!record) throw new Error(`the recorder is not subscribed to ${symbol}`);
    return record;
  }

  private connect(timeoutMs: number): Promise<void> {
    const ws = new WebSocket(this.wsUrl);
    this.ws = ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`the gateway at ${this.wsUrl} did not confirm the subscriptions of ${this.unconfirmed().join(', ')} within ${timeoutMs} ms (errors: ${this.errorsSeen()})`));
      }, timeoutMs);
      const subscribe = (symbol: string, record: SymbolRecord): void => {
        // Since 0 at the first connection: USD/BRL and EUR/USD stream before `tasa serve` is up
        // (and USD/COP, on a loaded machine), so the client starts with a replay of every event.
        ws.send(JSON.stringify({ action: 'subscribe', symbols: [symbol], since: record.lastSeq }));
      };
      ws.on('open', () => {
        for (const [symbol, record] of this.records) {
          record.subscribed = false;
          subscribe(symbol, record);
        }
      });
      ws.on('message', (raw: WebSocket.RawData) => {
        const frame = JSON.parse(rawText(raw)) as Frame;
        if (frame.type === 'subscribed') {
          for (const symbol of frame.symbols ?? []) {
            const record = this.records.get(symbol);
            if (record) record.subscribed = true;
          }
          if ([...this.records.values()].every((r) => r.subscribed)) {
            clearTimeout(timer);
            resolve();
          }
          return;
        }
        // The gateway could not attach the symbol to the bus ("try again"): as a client would.
        const record = frame.symbol === undefined ? undefined : this.records.get(frame.symbol);
        if (frame.type === 'error' && frame.code === 'unavailable' && record && !record.subscribed && frame.symbol !== undefined) {
          const symbol = frame.symbol;
          setTimeout(() => ws.readyState === WebSocket.OPEN && subscribe(symbol, record), 200);
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

  private unconfirmed(): string[] {
    return [...this.records].filter(([, r]) => !r.subscribed).map(([symbol]) => symbol);
  }

  private errorsSeen(): string {
    return JSON.stringify(Object.fromEntries([...this.records].map(([symbol, r]) => [symbol, r.errors])));
  }

  /** A frame of one symbol goes to its record; one of none (an error about the connection) to every record. */
  private onFrame(frame: Frame): void {
    const record = frame.symbol === undefined ? undefined : this.records.get(frame.symbol);
    if (record) record.onFrame(frame);
    else if (frame.symbol === undefined) for (const r of this.records.values()) r.onFrame(frame);
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
