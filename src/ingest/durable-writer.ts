/**
 * Writes accepted ticks and final bars to the database in batches, durably within a second.
 *
 * - Final bars flush at once (bar close -> durable row is a latency we promise); ticks batch for
 *   up to `tickFlushMs`.
 * - When the database fails, the batch goes to the durable spool (spool.ts: fsync'd, bounded)
 *   and, while the database is known to be down, every later batch goes straight there with no
 *   database round trip; only the retry timer probes the database (with backoff). When it answers,
 *   the spool is written back in order, in chunks, before anything newer.
 * - Fencing: with a `fence`, every entry is stamped with the lease epoch this process held for its
 *   symbol when it was accepted, and every bar write checks, inside its transaction, that the lease
 *   row still carries that holder and epoch. A writer that lost its lease (to a standby, while it
 *   was cut off) gets its bars refused: counted, logged, reported to `onFencedOut`, never written.
 *   Ticks are not fenced: they are observations stored insert-or-ignore, so an old writer's ticks
 *   can never overwrite the new writer's rows, and refusing them would only lose the ticks it
 *   received while the standby was still connecting.
 * - Writes are idempotent (ticks: insert or ignore; bars: upsert of identical values is a no-op),
 *   so a chunk written twice (a crash mid-drain) changes nothing.
 * - Batching, retries and the write timeout pace real I/O, so they run on real time (systemClock)
 *   even when the process runs on a simulated clock; `clock` only stamps latencies and ages.
 */
import { systemClock, type Clock, type CancelTimer } from '../clock.ts';
import type { Bar } from '../domain/bar.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { Tick } from '../domain/tick.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { upsertBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { holdsFence, ingestLeaseName } from '../store/leases-repo.ts';
import { refreshSessionsOfBars } from '../store/refresh-sessions.ts';
import { ensureTickPartitions, insertTicks } from '../store/ticks-repo.ts';
import { pushBounded } from './samples.ts';
import { Spool } from './spool.ts';

export interface WriteFence {
  /** This process's name in the lease table. */
  holder: string;
  /** The epoch under which this process holds the symbol's lease now; null when it does not. */
  epochOf(symbol: string): number | null;
  /** The database refused bars of `symbol`: another holder has its lease. */
  onFencedOut(symbol: string): void;
}

export interface WriterOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Spool file for batches the database could not take. */
  spoolPath: string;
  /** Bound of the spool file (default 1 GiB). */
  spoolMaxBytes?: number;
  tickFlushMs?: number;
  maxBatch?: number;
  /** Longest pause between database probes while it is down (backoff from 250 ms; default 2 s). */
  retryMaxMs?: number;
  /** A write that takes longer counts as failed (a vanished server can hang a query). */
  writeTimeoutMs?: number;
  /** Lease fencing of bar writes (the ingest service); without it nothing is fenced. Ticks never are. */
  fence?: WriteFence;
  /** Prometheus metrics: ticks and bars stored, latencies, spool size and age, refusals. */
  metrics?: Metrics;
  /** With it, the session quality of the bars written is refreshed in the same transaction (the ingest service gives it). */
  calendar?: Calendars;
}

export interface WriterStats {
  ticksWritten: number;
  barsWritten: number;
  flushes: number;
  failures: number;
  /** Entries appended to the spool (all time). */
  spooled: number;
  pending: number;
  databaseDown: boolean;
  /** Bars the database refused because another holder has the lease. */
  fencedOut: number;
  spool: { bytes: number; diskBytes: number; entries: number; oldestAgeMs: number | null; rejected: number };
  /** Bar close (clock time when finalized) -> durable row, ms, most recent samples. */
  barLatenciesMs: number[];
}

interface ClosedBar {
  bar: Bar;
  closedAt: number;
}

/**
 * One accepted tick or bar with the lease epoch it was accepted under (null: unfenced, or no
 * lease held; absent: a spool line written before epochs existed, fenced with the current epoch).
 */
type Entry = { t: Tick; e?: number | null } | { b: ClosedBar; e?: number | null };

/** Lines a drain writes per transaction. */
const DRAIN_CHUNK = 5000;

export class DurableWriter {
  private batch: Entry[] = [];
  /** Entries of the write under way (taken from `batch`), for the buffered gauge. */
  private inFlight = 0;
  private flushTimer: CancelTimer | null = null;
  private retryTimer: CancelTimer | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private retryDelayMs = 0;
  private rejectLogged = 0;
  private readonly spool: Spool;
  private readonly partitionsReady = new Set<number>();
  private readonly stat = { ticksWritten: 0, barsWritten: 0, flushes: 0, failures: 0, spooled: 0, databaseDown: false, fencedOut: 0, barLatenciesMs: [] as number[] };
  private readonly tickFlushMs: number;
  private readonly maxBatch: number;
  private readonly retryMaxMs: number;
  private readonly writeTimeoutMs: number;

  constructor(private readonly opts: WriterOptions) {
    this.tickFlushMs = opts.tickFlushMs ?? 250;
    this.maxBatch = opts.maxBatch ?? 5000;
    // Short: a failed probe costs one refused connection, and this bounds database back -> drain start.
    this.retryMaxMs = opts.retryMaxMs ?? 2_000;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? 10_000;
    this.spool = new Spool(opts.spoolPath, opts.spoolMaxBytes);
  }

  addTick(tick: Tick): void {
    this.batch.push({ t: tick, e: this.epochOf(tick.symbol) });
    this.publishBuffered();
    if (this.batch.length >= this.maxBatch) this.flushSoon(0);
    else this.flushSoon(this.tickFlushMs);
  }

  /** A final bar (or a revision); `closedAt` is when it was finalized, for the latency figure. */
  addBar(bar: Bar, closedAt: number): void {
    this.batch.push({ b: { bar, closedAt }, e: this.epochOf(bar.symbol) });
    this.publishBuffered();
    this.flushSoon(0);
  }

  stats(): WriterStats {
    const s = this.spool.stats();
    const spool = { bytes: s.bytes, diskBytes: s.diskBytes, entries: s.entries, oldestAgeMs: s.oldestAt === null ? null : Math.max(0, this.opts.clock.now() - s.oldestAt), rejected: s.rejected };
    return { ...this.stat, pending: this.batch.length, spool, barLatenciesMs: [...this.stat.barLatenciesMs] };
  }

  /** Writes everything pending (spool first); resolves when done or when it went to the spool. */
  async flush(): Promise<void> {
    await this.serialized(() => this.flushOnce(true));
  }

  /** A last flush; whatever the database still refuses stays in the spool file for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.cancelTimers();
    await this.spool.close();
  }

  private async serialized(work: () => Promise<void>): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = work().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private epochOf(symbol: string): number | null {
    return this.opts.fence ? this.opts.fence.epochOf(symbol) : null;
  }

  private flushSoon(delayMs: number): void {
    if (this.closed || (this.flushTimer && delayMs > 0)) return;
    this.flushTimer?.();
    this.flushTimer = systemClock.setTimer(delayMs, () => {
      this.flushTimer = null;
      void this.serialized(() => this.flushOnce(false)).catch((err: unknown) => this.unexpected(err));
    });
  }

  private cancelTimers(): void {
    this.flushTimer?.();
    this.flushTimer = null;
    this.retryTimer?.();
    this.retryTimer = null;
  }

  /** `probe`: try the database even when it is known to be down (retry timer, explicit flush). */
  private async flushOnce(probe: boolean): Promise<void> {
    await this.spool.open(oldestOfLine);
    const batch = this.batch;
    this.batch = [];
    this.inFlight = batch.length;
    try {
      if (this.stat.databaseDown && !probe) return await this.toSpool(batch);
      try {
        await this.drainSpool();
        if (batch.length > 0) await this.write(batch);
        this.recovered();
      } catch (err) {
        this.wentDown(err);
        await this.toSpool(batch);
      }
      this.publishSpoolGauges();
    } finally {
      this.inFlight = 0;
      this.publishBuffered();
    }
  }

  /** Accepted entries not yet in the database or the spool: the batch being written and the one filling. */
  private publishBuffered(): void {
    this.opts.metrics?.ingestBuffered.set(this.batch.length + this.inFlight);
  }

  /** Ticks and bars in one transaction, the bars fenced per symbol. Re-writing is harmless: both writes are idempotent. */
  private async write(entries: readonly Entry[]): Promise<void> {
    const { db, clock } = this.opts;
    const ticks = entries.flatMap((x) => ('t' in x ? [x.t] : []));
    let refused: Map<string, number> = new Map();
    let written: Entry[] = [];
    await this.withTimeout(async () => {
      await this.ensurePartitions(ticks);
      await db.transaction(async (tx) => {
        ({ written, refused } = await this.fenced(tx, entries));
        const keptTicks = written.flatMap((x) => ('t' in x ? [x.t] : []));
        const keptBars = written.flatMap((x) => ('b' in x ? [x.b.bar] : []));
        if (keptTicks.length > 0) await insertTicks(tx, keptTicks);
        if (keptBars.length > 0) await this.writeBars(tx, keptBars);
      });
    });
    this.recordWrite(written, clock.now());
    for (const [symbol, count] of refused) this.fencedOut(symbol, count);
  }

  private async writeBars(tx: Db, bars: readonly Bar[]): Promise<void> {
    await upsertBars(tx, bars);
    const calendar = this.opts.calendar;
    if (!calendar) return;
    // Same transaction, so a day's session row agrees with its bars; in a savepoint, so a failing
    // refresh never holds the bars back (the sync job recomputes sessions).
    await tx.transaction((sp) => refreshSessionsOfBars(sp, calendar, bars)).catch((err: unknown) => {
      this.opts.logger.error({ err: errorMessage(err), bars: bars.length }, 'session refresh failed; the bars are written, the sync job recounts their sessions');
    });
  }

  /** Splits the entries into those to write (ticks, and bars whose lease epoch is still current) and the bars refused, by symbol. */
  private async fenced(tx: Db, entries: readonly Entry[]): Promise<{ written: Entry[]; refused: Map<string, number> }> {
    const fence = this.opts.fence;
    if (!fence) return { written: [...entries], refused: new Map() };
    const verdicts = new Map<string, boolean>();
    const written: Entry[] = [];
    const refused = new Map<string, number>();
    for (const entry of entries) {
      if ('t' in entry) {
        written.push(entry);
        continue;
      }
      const symbol = entry.b.bar.symbol;
      const epoch = entry.e === undefined ? fence.epochOf(symbol) : entry.e;
      const key = `${symbol}\u0000${epoch}`;
      let ok = verdicts.get(key);
      if (ok === undefined) {
        ok = epoch !== null && (await holdsFence(tx, ingestLeaseName(symbol), fence.holder, epoch));
        verdicts.set(key, ok);
      }
      if (ok) written.push(entry);
      else refused.set(symbol, (refused.get(symbol) ?? 0) + 1);
    }
    return { written, refused };
  }

  private fencedOut(symbol: string, count: number): void {
    this.stat.fencedOut += count;
    this.opts.metrics?.writesFenced.inc({ symbol }, count);
    this.opts.logger.error(
      { symbol, refused: count, holder: this.opts.fence?.holder },
      'write refused by the lease fence: another process holds this symbol now; these bars are not written by this process',
    );
    this.opts.fence?.onFencedOut(symbol);
  }

  private recordWrite(written: readonly Entry[], now: number): void {
    const m = this.opts.metrics;
    let ticks = 0;
    let bars = 0;
    for (const x of written) {
      if ('t' in x) {
        ticks++;
        m?.receiveToStored.observe({ kind: 'tick' }, Math.max(0, now - x.t.receivedAt) / 1000);
      } else {
        bars++;
        pushBounded(this.stat.barLatenciesMs, now - x.b.closedAt);
        m?.receiveToStored.observe({ kind: 'bar' }, Math.max(0, now - x.b.closedAt) / 1000);
      }
    }
    this.stat.ticksWritten += ticks;
    this.stat.barsWritten += bars;
    this.stat.flushes++;
    m?.ticksStored.inc(ticks);
    m?.barsStored.inc(bars);
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

  /** A flush that failed outside the database write (the spool file could not be opened). */
  private unexpected(err: unknown): void {
    this.opts.logger.error({ spool: this.spool.path, err: errorMessage(err) }, 'ingest writer flush failed');
  }

  private wentDown(err: unknown): void {
    this.stat.failures++;
    if (!this.stat.databaseDown) this.opts.logger.error({ err: errorMessage(err) }, 'database write failed; spooling ticks and bars until it returns');
    this.stat.databaseDown = true;
    this.retryDelayMs = Math.min(this.retryMaxMs, Math.max(250, this.retryDelayMs * 2));
    this.retryTimer?.();
    this.retryTimer = this.closed
      ? null
      : systemClock.setTimer(this.retryDelayMs, () => {
          this.retryTimer = null;
          void this.serialized(() => this.flushOnce(true)).catch((err: unknown) => this.unexpected(err));
        });
  }

  private async toSpool(batch: readonly Entry[]): Promise<void> {
    if (batch.length === 0) return;
    const lines = batch.map((x) => JSON.stringify(x));
    const oldest = Math.min(...batch.map(entryTime));
    try {
      if (await this.spool.append(lines, oldest)) this.stat.spooled += lines.length;
      else this.spoolFull(lines.length);
    } catch (err) {
      // The disk refused (full, read-only, I/O error): as loud as a full spool.
      this.spool.countRejected(lines.length);
      this.spoolFull(lines.length, err);
    }
    this.publishSpoolGauges();
  }

  /** Never silent: every refusal is counted, and logged as an error (the first and every 100th batch). */
  private spoolFull(entries: number, err?: unknown): void {
    this.opts.metrics?.spoolRejected.inc(entries);
    if (this.rejectLogged++ % 100 !== 0) return;
    const s = this.spool.stats();
    this.opts.logger.error(
      { spool: this.spool.path, bytes: s.bytes, maxBytes: this.spool.maxBytes, rejectedEntries: s.rejected, ...(err === undefined ? {} : { err: errorMessage(err) }) },
      'SPOOL FULL: the database is down and the spool reached its bound; ticks and bars are being DROPPED (raise TASA_SPOOL_MAX_BYTES or restore the database)',
    );
  }

  /** Writes the spool back in order, a chunk per transaction, then removes it. Throws when the database fails. */
  private async drainSpool(): Promise<void> {
    if (this.spool.empty) return;
    let ticks = 0;
    let bars = 0;
    for await (const chunk of this.spool.chunks(DRAIN_CHUNK)) {
      const entries = parseChunk(chunk.lines, chunk.firstLine, this.spool.path, this.opts.logger);
      this.spool.setOldest(entries[0] ? entryTime(entries[0]) : null);
      await this.write(entries);
      await this.spool.commit(chunk);
      const chunkTicks = entries.filter((x) => 't' in x).length;
      ticks += chunkTicks;
      bars += entries.length - chunkTicks;
      this.publishSpoolGauges();
    }
    await this.spool.clear();
    this.publishSpoolGauges();
    this.opts.logger.info({ ticks, bars }, 'spooled ticks and bars written to the database');
  }

  private publishSpoolGauges(): void {
    const m = this.opts.metrics;
    if (!m) return;
    const s = this.stats().spool;
    m.spoolBytes.set(s.bytes);
    m.spoolDiskBytes.set(s.diskBytes);
    m.spoolEntries.set(s.entries);
    m.spoolOldestAge.set((s.oldestAgeMs ?? 0) / 1000);
  }

  private recovered(): void {
    if (this.stat.databaseDown) this.opts.logger.info('database writes recovered');
    this.retryTimer?.();
    this.retryTimer = null;
    this.stat.databaseDown = false;
    this.retryDelayMs = 0;
  }
}

function entryTime(x: Entry): number {
  return 't' in x ? x.t.receivedAt : x.b.closedAt;
}

/** The receive or close time of a spool line (for the age of the oldest entry). */
function oldestOfLine(line: string): number | null {
  try {
    return entryTime(parseEntry(line));
  } catch {
    return null;
  }
}

function parseEntry(line: string): Entry {
  const raw = JSON.parse(line) as { t?: Tick; b?: ClosedBar; e?: number | null };
  const epoch = raw.e === undefined ? {} : { e: raw.e };
  if (raw.t) return { t: raw.t, ...epoch };
  if (raw.b) return { b: raw.b, ...epoch };
  throw new Error('neither a tick (t) nor a bar (b)');
}

/**
 * A line that does not parse is logged with its line number and skipped: it can only be the
 * torn last line of an append cut by a crash (never fsync'd, so never accepted).
 */
function parseChunk(lines: readonly string[], firstLine: number, path: string, logger: Logger): Entry[] {
  const out: Entry[] = [];
  lines.forEach((line, i) => {
    try {
      out.push(parseEntry(line));
    } catch (err) {
      logger.error({ spool: path, line: firstLine + i, err: errorMessage(err) }, 'unreadable spool line skipped');
    }
  });
  return out;
}

function monthKey(t: number): number {
  const d = new Date(t);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}
