/**
 * Writes accepted ticks and final bars to the database in batches, durably within a second.
 *
 * - Final bars flush at once (bar close -> durable row is a latency we promise); ticks batch for
 *   up to `tickFlushMs`.
 * - When the database fails, the batch goes to an append-only spool file (JSON lines) and the
 *   writer retries with backoff; the spool is written back, in order, before anything newer.
 *   Nothing accepted is dropped, and a crash while the database is down loses nothing either.
 * - Batching, retries and the write timeout pace real I/O, so they run on real time (systemClock)
 *   even when the process runs on a simulated clock; `clock` only stamps latencies.
 */
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { systemClock, type Clock, type CancelTimer } from '../clock.ts';
import type { Bar } from '../domain/bar.ts';
import type { Tick } from '../domain/tick.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { upsertBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { ensureTickPartitions, insertTicks } from '../store/ticks-repo.ts';
import { pushBounded } from './samples.ts';

export interface WriterOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Spool file for batches the database refused. */
  spoolPath: string;
  tickFlushMs?: number;
  maxBatch?: number;
  retryMaxMs?: number;
  /** A write that takes longer counts as failed (a vanished server can hang a query). */
  writeTimeoutMs?: number;
  /** Prometheus metrics: ticks and bars stored, receive (bar close) -> durable row latency. */
  metrics?: Metrics;
}

export interface WriterStats {
  ticksWritten: number;
  barsWritten: number;
  flushes: number;
  failures: number;
  spooled: number;
  pending: number;
  databaseDown: boolean;
  /** Bar close (clock time when finalized) -> durable row, ms, most recent samples. */
  barLatenciesMs: number[];
}

interface Batch {
  ticks: Tick[];
  bars: Array<{ bar: Bar; closedAt: number }>;
}

export class DurableWriter {
  private batch: Batch = { ticks: [], bars: [] };
  private flushTimer: CancelTimer | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private retryDelayMs = 0;
  private readonly partitionsReady = new Set<number>();
  private readonly stat: WriterStats = { ticksWritten: 0, barsWritten: 0, flushes: 0, failures: 0, spooled: 0, pending: 0, databaseDown: false, barLatenciesMs: [] };
  private readonly tickFlushMs: number;
  private readonly maxBatch: number;
  private readonly retryMaxMs: number;
  private readonly writeTimeoutMs: number;

  constructor(private readonly opts: WriterOptions) {
    this.tickFlushMs = opts.tickFlushMs ?? 250;
    this.maxBatch = opts.maxBatch ?? 5000;
    this.retryMaxMs = opts.retryMaxMs ?? 10_000;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? 10_000;
  }

  addTick(tick: Tick): void {
    this.batch.ticks.push(tick);
    if (this.batch.ticks.length >= this.maxBatch) this.flushSoon(0);
    else this.flushSoon(this.tickFlushMs);
  }

  /** A final bar (or a revision); `closedAt` is when it was finalized, for the latency figure. */
  addBar(bar: Bar, closedAt: number): void {
    this.batch.bars.push({ bar, closedAt });
    this.flushSoon(0);
  }

  stats(): WriterStats {
    return { ...this.stat, pending: this.batch.ticks.length + this.batch.bars.length, barLatenciesMs: [...this.stat.barLatenciesMs] };
  }

  /** Writes everything pending (spool first); resolves when done or when the database refused it. */
  async flush(): Promise<void> {
    this.cancelTimer();
    while (this.flushing) await this.flushing;
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** A last flush; whatever the database still refuses stays in the spool file for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.cancelTimer();
  }

  private flushSoon(delayMs: number): void {
    if (this.closed || (this.flushTimer && delayMs > 0)) return;
    this.cancelTimer();
    this.flushTimer = systemClock.setTimer(Math.max(delayMs, this.retryDelayMs), () => {
      this.flushTimer = null;
      void this.flush();
    });
  }

  private cancelTimer(): void {
    this.flushTimer?.();
    this.flushTimer = null;
  }

  private async flushOnce(): Promise<void> {
    const batch = this.batch;
    this.batch = { ticks: [], bars: [] };
    try {
      await this.drainSpool();
      if (batch.ticks.length > 0 || batch.bars.length > 0) await this.write(batch);
      this.recovered();
    } catch (err) {
      await this.spool(batch, err);
    }
  }

  /** Ticks and bars in one transaction. Re-writing a batch is harmless: both writes are idempotent. */
  private async write(batch: Batch): Promise<void> {
    const { db, clock } = this.opts;
    await this.withTimeout(async () => {
      await this.ensurePartitions(batch.ticks);
      await db.transaction(async (tx) => {
        if (batch.ticks.length > 0) await insertTicks(tx, batch.ticks);
        if (batch.bars.length > 0) await upsertBars(tx, batch.bars.map((b) => b.bar));
      });
    });
    const now = clock.now();
    for (const { closedAt } of batch.bars) pushBounded(this.stat.barLatenciesMs, now - closedAt);
    this.stat.ticksWritten += batch.ticks.length;
    this.stat.barsWritten += batch.bars.length;
    this.stat.flushes++;
    this.recordWrite(batch, now);
  }

  private recordWrite(batch: Batch, now: number): void {
    const m = this.opts.metrics;
    if (!m) return;
    m.ticksStored.inc(batch.ticks.length);
    m.barsStored.inc(batch.bars.length);
    for (const tick of batch.ticks) m.receiveToStored.observe({ kind: 'tick' }, Math.max(0, now - tick.receivedAt) / 1000);
    for (const { closedAt } of batch.bars) m.receiveToStored.observe({ kind: 'bar' }, Math.max(0, now - closedAt) / 1000);
  }

  private withTimeout(work: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const cancel = systemClock.setTimer(this.writeTimeoutMs, () => reject(new Error(`database write took over ${this.writeTimeoutMs} ms`)));
      work().then(
        () => {
          cancel();
          resolve();
        },
        (err: unknown) => {
          cancel();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private async ensurePartitions(ticks: readonly Tick[]): Promise<void> {
    for (const tick of ticks) {
      const month = monthKey(tick.time);
      if (this.partitionsReady.has(month)) continue;
      await ensureTickPartitions(this.opts.db, tick.time, tick.time + 1);
      this.partitionsReady.add(month);
    }
  }

  private async spool(batch: Batch, err: unknown): Promise<void> {
    this.stat.failures++;
    if (!this.stat.databaseDown) this.opts.logger.error({ err: errorMessage(err) }, 'database write failed; spooling ticks and bars until it returns');
    this.stat.databaseDown = true;
    const lines = [...batch.ticks.map((t) => JSON.stringify({ t })), ...batch.bars.map((b) => JSON.stringify({ b }))];
    if (lines.length > 0) {
      await mkdir(dirname(this.opts.spoolPath), { recursive: true });
      await appendFile(this.opts.spoolPath, lines.join('\n') + '\n');
      this.stat.spooled += lines.length;
    }
    this.retryDelayMs = Math.min(this.retryMaxMs, Math.max(250, this.retryDelayMs * 2));
    this.flushSoon(this.retryDelayMs);
  }

  private async drainSpool(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.opts.spoolPath, 'utf8');
    } catch {
      return; // no spool file: nothing waiting
    }
    const batch = parseSpool(text);
    if (batch.ticks.length > 0 || batch.bars.length > 0) await this.write(batch);
    await rm(this.opts.spoolPath, { force: true });
    this.opts.logger.info({ ticks: batch.ticks.length, bars: batch.bars.length }, 'spooled ticks and bars written to the database');
  }

  private recovered(): void {
    if (this.stat.databaseDown) this.opts.logger.info('database writes recovered');
    this.stat.databaseDown = false;
    this.retryDelayMs = 0;
  }
}

function parseSpool(text: string): Batch {
  const batch: Batch = { ticks: [], bars: [] };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as { t?: Tick; b?: { bar: Bar; closedAt: number } };
    if (entry.t) batch.ticks.push(entry.t);
    if (entry.b) batch.bars.push(entry.b);
  }
  return batch;
}

function monthKey(t: number): number {
  const d = new Date(t);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}
