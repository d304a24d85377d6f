/**
 * The one stream reader of a Redis bus: a loop of XREAD BLOCK on a dedicated connection, over
 * the streams its subscriptions need, each read from the last seq the loop delivered. One
 * connection serves every subscriber of the process, however many there are.
 *
 * - When the set of streams changes (a subscription to a new symbol), the blocked XREAD is cut
 *   short with CLIENT UNBLOCK from the main connection, so the new stream is read at once.
 * - While Redis is away, the pending XREAD waits in ioredis and is re-sent on reconnection with
 *   the same cursors: delivery resumes after the last delivered seq, without gap or duplicate.
 * - A jump in a stream (events trimmed before the loop read them, seqs lost with a Redis that
 *   restarted empty, or refused by a publisher's full buffer) is logged and handed to every
 *   subscriber of the symbol as a gap, in order with the events: never a silent skip.
 * - '*' subscriptions also read the `symbols` directory stream, which the publish script appends
 *   to when a symbol first appears; new symbols are then read from their first event.
 *
 * Pauses between network attempts use real timers: they pace I/O, not market time.
 */
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Subscription } from '../subscription.ts';
import { ALL_SYMBOLS, type SeqGap } from '../types.ts';
import { decodeEntry, parseEntries, parseXreadReply, type StreamEntry, type XreadStreams } from './codec.ts';
import { READ_BLOCK_MS } from './connection.ts';
import type { RedisKeys } from './keys.ts';
import type { SeqFloor } from './seq-floor.ts';

const READ_COUNT = 1_000;
const UNBLOCK_ATTEMPTS = 50;
const UNBLOCK_RETRY_MS = 2;
const ERROR_PAUSE_MS = 1_000;

export interface StreamReaderDeps {
  /** Dedicated to the blocking XREAD. */
  reader: Redis;
  /** The bus's main connection, for CLIENT UNBLOCK and the directory. */
  control: Redis;
  keys: RedisKeys;
  floor: SeqFloor;
  lastSeq: (symbol: string) => Promise<number>;
  logger: Logger;
  /** See RedisBusOptions.checkMessages. */
  checkMessages: boolean;
}

interface ReadPlan {
  keys: string[];
  ids: string[];
  generation: number;
}

export class StreamReader {
  /** Symbol -> last seq read and delivered; the streams the loop reads. */
  private readonly cursors = new Map<string, number>();
  /** Symbol -> publish time of the event at its cursor, the start of a gap's period. */
  private readonly cursorTimes = new Map<string, number>();
  /** Symbol (or '*') -> its subscriptions. */
  private readonly subscriptions = new Map<string, Set<Subscription>>();
  /** Last directory entry read; non-null while '*' subscriptions exist. */
  private directoryCursor: string | null = null;
  private wildcardReady: Promise<void> | null = null;
  /** Bumped whenever the set of streams changes; a read planned before is stale. */
  private generation = 0;
  private inFlight: number | null = null;
  private readerId: number | null = null;
  private wakeIdle: (() => void) | null = null;
  private lastError = '';
  private closed = false;
  private stop: () => void = () => undefined;
  /**
   * Resolves on close(). ioredis never settles a command queued while it reconnects if the
   * connection is then disconnected, so the loop waits for its XREAD or for this, whichever first:
   * closing a bus while Redis is unreachable must not hang.
   */
  private readonly stopped = new Promise<null>((resolve) => (this.stop = () => resolve(null)));
  private readonly loop: Promise<void>;

  constructor(private readonly deps: StreamReaderDeps) {
    deps.reader.on('close', () => {
      this.readerId = null; // a new connection has a new client ID
    });
    this.loop = this.run();
  }

  /** A single-symbol subscription; `head` is the symbol's last seq, read before the subscription's replay. */
  add(sub: Subscription, head: number): void {
    this.subscriptionsOf(sub.symbol).add(sub);
    if (this.cursors.has(sub.symbol)) return;
    this.cursors.set(sub.symbol, head);
    this.streamsChanged();
  }

  async addWildcard(sub: Subscription): Promise<void> {
    this.wildcardReady ??= this.trackAllSymbols();
    try {
      await this.wildcardReady;
    } catch (err) {
      this.wildcardReady = null;
      throw err;
    }
    this.subscriptionsOf(ALL_SYMBOLS).add(sub);
  }

  remove(sub: Subscription): void {
    sub.cancel();
    const subs = this.subscriptions.get(sub.symbol);
    if (!subs?.delete(sub) || subs.size > 0) return;
    this.subscriptions.delete(sub.symbol);
    if (sub.symbol === ALL_SYMBOLS) {
      this.directoryCursor = null;
      this.wildcardReady = null;
    }
    this.untrackUnwatched();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop();
    for (const subs of this.subscriptions.values()) for (const sub of subs) sub.cancel();
    this.subscriptions.clear();
    this.wakeIdle?.();
    this.deps.reader.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const plan = this.plan();
      if (plan.keys.length === 0) await this.idle();
      else this.dispatch(await this.read(plan));
    }
  }

  private plan(): ReadPlan {
    const keys: string[] = [];
    const ids: string[] = [];
    for (const [symbol, cursor] of this.cursors) {
      keys.push(this.deps.keys.stream(symbol));
      ids.push(`${cursor}-0`);
    }
    if (this.directoryCursor !== null) {
      keys.push(this.deps.keys.directory);
      ids.push(this.directoryCursor);
    }
    return { keys, ids, generation: this.generation };
  }

  /** One XREAD; null when it timed out, was interrupted or failed (failures pause the loop a moment). */
  private async read(plan: ReadPlan): Promise<XreadStreams | null> {
    try {
      this.readerId ??= Number(await Promise.race([this.deps.reader.call('CLIENT', 'ID'), this.stopped]));
      this.inFlight = plan.generation;
      // The streams changed while we fetched the ID: plan again rather than block on the old set.
      if (plan.generation !== this.generation) return null;
      const reply = await Promise.race([this.deps.reader.call('XREAD', 'COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', ...plan.keys, ...plan.ids), this.stopped]);
      const streams = parseXreadReply(reply);
      this.lastError = '';
      return streams;
    } catch (err) {
      if (!this.closed) {
        this.reportError(err);
        await this.idle(ERROR_PAUSE_MS);
      }
      return null;
    } finally {
      this.inFlight = null;
    }
  }

  private dispatch(streams: XreadStreams | null): void {
    for (const [key, entries] of streams ?? []) {
      if (key === this.deps.keys.directory) this.learnSymbols(entries);
      const symbol = this.deps.keys.symbolOfStream(key);
      if (symbol !== null) this.deliver(symbol, entries);
    }
  }

  private deliver(symbol: string, entries: StreamEntry[]): void {
    const start = this.cursors.get(symbol);
    if (start === undefined) return; // nobody wants this symbol any more
    const subs = [...(this.subscriptions.get(symbol) ?? []), ...(this.subscriptions.get(ALL_SYMBOLS) ?? [])];
    let cursor = start;
    for (const entry of entries) {
      const event = decodeEntry(symbol, entry, this.deps.checkMessages);
      if (event instanceof Error) {
        this.deps.logger.error({ symbol, err: event }, 'bus: skipping an unreadable stream entry');
        cursor = this.skipUnreadable(symbol, entry[0], cursor, subs);
        continue;
      }
      if (event.seq <= cursor) continue;
      if (event.seq > cursor + 1) this.announceGap(symbol, cursor + 1, event.seq - 1, event.time, subs.filter((sub) => sub.wants(event)));
      cursor = event.seq;
      this.cursorTimes.set(symbol, event.time);
      this.deps.floor.observe(symbol, cursor);
      for (const sub of subs) if (sub.wants(event)) sub.offerLive(event);
    }
    const current = this.cursors.get(symbol);
    if (current !== undefined) this.cursors.set(symbol, Math.max(current, cursor));
  }

  /**
   * Reads on past an entry that cannot be delivered, announcing its seq (and any before it) as a
   * gap at once: were the cursor left before it, XREAD would return it again and again. An ID that
   * is not `<seq>-0` names no seq of ours; the cursor stays (such a writer also blocks our XADDs).
   * Every subscriber hears of it: its channel is unknown.
   */
  private skipUnreadable(symbol: string, id: string, cursor: number, subs: readonly Subscription[]): number {
    const seq = /^(\d+)-0$/.exec(id)?.[1];
    if (seq === undefined || Number(seq) <= cursor) return cursor;
    this.announceGap(symbol, cursor + 1, Number(seq), null, subs);
    return Number(seq);
  }

  private announceGap(symbol: string, from: number, to: number, beforeTime: number | null, receivers: readonly Subscription[]): void {
    const gap = { symbol, from, to, afterTime: this.cursorTimes.get(symbol) ?? null, beforeTime };
    this.reportGap(gap);
    for (const sub of receivers) sub.offerGap(gap);
  }

  /** New symbols (directory entries) are read from their first event: they appeared after the '*' subscription began. */
  private learnSymbols(entries: StreamEntry[]): void {
    if (this.directoryCursor === null) return;
    for (const [id, fields] of entries) {
      const symbol = fields[1];
      if (symbol !== undefined && !this.cursors.has(symbol)) this.cursors.set(symbol, 0);
      this.directoryCursor = id;
    }
    this.generation++;
  }

  private async trackAllSymbols(): Promise<void> {
    const entries = parseEntries(await this.deps.control.xrange(this.deps.keys.directory, '-', '+'));
    const symbols = [...new Set(entries.map(([, fields]) => fields[1]).filter((s) => s !== undefined))];
    const heads = await Promise.all(symbols.map((symbol) => this.deps.lastSeq(symbol)));
    symbols.forEach((symbol, i) => {
      if (!this.cursors.has(symbol)) this.cursors.set(symbol, heads[i] ?? 0);
    });
    this.directoryCursor = entries.at(-1)?.[0] ?? '0-0';
    this.streamsChanged();
  }

  private untrackUnwatched(): void {
    if (this.directoryCursor !== null) return; // '*' watches every symbol
    let changed = false;
    for (const symbol of [...this.cursors.keys()]) {
      if (this.subscriptions.has(symbol)) continue;
      this.cursors.delete(symbol);
      this.cursorTimes.delete(symbol);
      changed = true;
    }
    if (changed) this.streamsChanged();
  }

  private streamsChanged(): void {
    this.generation++;
    this.wakeIdle?.();
    if (this.inFlight !== null) void this.interruptRead(this.generation);
  }

  /**
   * Cuts short the XREAD planned before `generation`. CLIENT UNBLOCK answers 0 when the XREAD has
   * been sent but is not blocking yet; try again for a moment (the BLOCK timeout bounds the rest).
   */
  private async interruptRead(generation: number): Promise<void> {
    for (let attempt = 0; attempt < UNBLOCK_ATTEMPTS; attempt++) {
      const stale = this.inFlight !== null && this.inFlight < generation;
      if (!stale || this.readerId === null || this.closed) return;
      const unblocked = await this.deps.control.call('CLIENT', 'UNBLOCK', this.readerId).catch(() => 0);
      if (unblocked === 1) return;
      await sleep(UNBLOCK_RETRY_MS);
    }
  }

  private idle(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => wake(), ms);
      const wake = () => {
        clearTimeout(timer);
        this.wakeIdle = null;
        resolve();
      };
      this.wakeIdle = wake;
    });
  }

  private subscriptionsOf(symbol: string): Set<Subscription> {
    let subs = this.subscriptions.get(symbol);
    if (!subs) this.subscriptions.set(symbol, (subs = new Set()));
    return subs;
  }

  private reportGap({ symbol, from, to }: SeqGap): void {
    this.deps.logger.warn({ symbol, missing: [from, to] }, `bus: events ${from}..${to} of ${symbol} were trimmed or lost before this process read them; subscribers are told of the gap`);
  }

  /** Logs an error once until the reader succeeds again (a persistent fault would otherwise log every second). */
  private reportError(err: unknown): void {
    const message = errorMessage(err);
    if (message === this.lastError) return;
    this.lastError = message;
    this.deps.logger.error({ err }, `bus stream reader: ${message}`);
  }
}
