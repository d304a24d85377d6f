/**
 * The seq floor of each symbol: what the publish script continues after when Redis lost its keys.
 *
 * - `of(symbol)`: the highest seq this process has seen (published or read), exact, in memory.
 * - `cold(symbol)`: where a symbol continues when nothing of it is left in Redis (a Redis that
 *   restarted empty): above every seq that may have been allocated, by any process, even one that
 *   restarted meanwhile. That needs a copy outside Redis: the SeqFloorStore (PostgreSQL).
 *
 * Why a reservation and not the last seq: saving every event would put a database write on every
 * publish, and saving the last seq now and then leaves a window (the save lag) in which a Redis
 * that restarts empty plus a process that restarts would hand out seqs that clients already hold.
 * So the store keeps a ceiling RESERVE_BLOCK ahead of the highest seq seen, raised again (one write)
 * whenever the seq comes within half a block of it; a symbol that Redis forgot continues after the
 * ceiling. The price is a jump of at most one block after such a restart, which the readers
 * announce to their clients as a gap (those seqs may have existed and cannot be delivered): never
 * a reused seq, never a silent skip. The guarantee holds while the database accepts the saves; a
 * failed save is logged and retried, and the in-memory floor still covers a process that lives on.
 * The ceiling is read again after every Redis reconnection, since another process may have raised it.
 */
import { errorMessage } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { SeqFloorStore } from '../types.ts';

/** How far ahead of the highest seen seq the persisted ceiling is kept (about minutes of ticks). */
export const RESERVE_BLOCK = 1_000;
/** After a failed save or load, wait this long (real time) before trying the database again. */
const RETRY_MS = 1_000;

interface Persisted {
  /** The ceiling as last read or written by this process; null until read. */
  ceiling: number | null;
  /** Read again before the next cold publish (set after a Redis reconnection). */
  stale: boolean;
  saving: Promise<void> | null;
  loading: Promise<void> | null;
  retryAt: number;
}

export class SeqFloor {
  private readonly highest = new Map<string, number>();
  private readonly persisted = new Map<string, Persisted>();
  private lastError = '';

  constructor(
    private readonly store: SeqFloorStore | null = null,
    private readonly logger: Logger | null = null,
  ) {}

  of(symbol: string): number {
    return this.highest.get(symbol) ?? 0;
  }

  observe(symbol: string, seq: number): void {
    if (seq <= this.of(symbol)) return;
    this.highest.set(symbol, seq);
    this.reserveAhead(symbol);
  }

  /** Reads the persisted ceiling when it is unknown or stale (once at a time per symbol); never rejects. */
  prepare(symbol: string): Promise<void> {
    const p = this.persistedOf(symbol);
    if (!this.store || (p.ceiling !== null && !p.stale) || performance.now() < p.retryAt) return Promise.resolve();
    p.loading ??= this.load(this.store, symbol, p).finally(() => {
      p.loading = null;
    });
    return p.loading;
  }

  /** The floor for a symbol that Redis no longer knows: the persisted ceiling (see prepare), or what this process has seen. */
  cold(symbol: string): number {
    return Math.max(this.of(symbol), this.persisted.get(symbol)?.ceiling ?? 0);
  }

  /** Redis reconnected: it may have restarted empty, and another process may have raised a ceiling meanwhile. */
  invalidate(): void {
    for (const p of this.persisted.values()) p.stale = true;
  }

  private async load(store: SeqFloorStore, symbol: string, p: Persisted): Promise<void> {
    p.stale = false;
    try {
      p.ceiling = Math.max(p.ceiling ?? 0, await store.load(symbol));
    } catch (err) {
      p.stale = true;
      p.retryAt = performance.now() + RETRY_MS;
      this.report(err, `bus: cannot read the seq floor of ${symbol}; a Redis that restarted empty may reuse seqs meanwhile`);
    }
  }

  /** Waits for the saves in flight. */
  async close(): Promise<void> {
    await Promise.all([...this.persisted.values()].map((p) => p.saving ?? Promise.resolve()));
  }

  private reserveAhead(symbol: string): void {
    const p = this.persistedOf(symbol);
    const seen = this.of(symbol);
    if (!this.store || p.saving || performance.now() < p.retryAt) return;
    if (p.ceiling !== null && seen + RESERVE_BLOCK / 2 <= p.ceiling) return;
    const target = seen + RESERVE_BLOCK;
    const saving = this.store.save(symbol, target).then(
      () => {
        p.ceiling = Math.max(p.ceiling ?? 0, target);
        this.lastError = '';
      },
      (err: unknown) => {
        p.retryAt = performance.now() + RETRY_MS;
        this.report(err, `bus: cannot save the seq floor of ${symbol}; seqs may repeat if Redis restarts empty before a save succeeds`);
      },
    );
    p.saving = saving;
    void saving.finally(() => {
      p.saving = null;
      if (this.of(symbol) > seen) this.reserveAhead(symbol);
    });
  }

  private persistedOf(symbol: string): Persisted {
    let p = this.persisted.get(symbol);
    if (!p) this.persisted.set(symbol, (p = { ceiling: null, stale: false, saving: null, loading: null, retryAt: 0 }));
    return p;
  }

  /** Logs a database failure once until the next success. */
  private report(err: unknown, message: string): void {
    const text = errorMessage(err);
    if (text === this.lastError) return;
    this.lastError = text;
    this.logger?.error({ err: text }, message);
  }
}
