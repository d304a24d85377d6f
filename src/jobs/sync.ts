/**
 * The sync job (every 5 minutes in session): reconciles the bus stream against the database, so
 * that nothing the stream carried is missing from `ticks` or `bars` (e.g. a batch lost when the
 * ingest process died between publishing and writing). It reads every event the bus still keeps
 * for the symbol (its replay window) and writes what is missing:
 * - ticks: inserted unless the same quote (symbol, time, price, bid, ask) is stored;
 * - final bars: the latest revision per slot, written (with history, see upsertBars) only when the
 *   stored bar is older, i.e. has a lower revision, or is a REST backfill, which always gives way
 *   to the live bar. A stored bar at the same or a higher revision is never overwritten.
 */
import type { Bus } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import type { Bar } from '../domain/bar.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Tick } from '../domain/tick.ts';
import { upsertBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { isoTime } from '../store/rows.ts';
import { ensureTickPartitions, insertTicks } from '../store/ticks-repo.ts';
import { recordedRun } from '../store/recorded-run.ts';
import { refreshSessionsOfBars } from '../store/refresh-sessions.ts';
import { finalBarOfEvent, tickOfEvent } from './stream-events.ts';

const DEFAULT_PAGE_SIZE = 5_000;

export interface SyncOptions {
  db: Db;
  bus: Pick<Bus, 'replay'>;
  symbol: SymbolCode;
  clock: Clock;
  /** The session quality of the bars written is refreshed. */
  calendar: Calendars;
  /** Read events after this seq; default 0 (everything the bus keeps). */
  since?: number;
  pageSize?: number;
}

export interface SyncSummary {
  events: number;
  lastSeq: number;
  /** False when the bus no longer keeps every event after `since` (normal for since = 0 on a long stream). */
  complete: boolean;
  /** Tick or bar events that could not be read. */
  unreadable: number;
  ticks: { seen: number; inserted: number };
  /** Final bars, one per slot (its latest revision). */
  bars: { seen: number; inserted: number; updated: number; skipped: number };
}

export async function runSync(o: SyncOptions): Promise<SyncSummary & { runId: number }> {
  return recordedRun(
    o.db,
    o.clock,
    { layer: 'sync', symbol: o.symbol, params: { since: o.since ?? 0 } },
    async (runId) => ({ ...(await syncPass(o)), runId }),
    ({ runId: _, ...s }) => ({ status: 'completed', rowsIn: s.events, rowsOut: s.ticks.inserted + s.bars.inserted + s.bars.updated, summary: { ...s } }),
  );
}

async function syncPass(o: SyncOptions): Promise<SyncSummary> {
  const stream = await readStream(o);
  const ticks = await storeMissingTicks(o.db, stream.ticks);
  const latest = latestRevisions(stream.bars);
  const toWrite = barsToWrite(latest, await storedRevisions(o.db, o.symbol, latest));
  const written = await upsertBars(o.db, toWrite);
  await refreshSessionsOfBars(o.db, o.calendar, toWrite);
  return {
    events: stream.events,
    lastSeq: stream.lastSeq,
    complete: stream.complete,
    unreadable: stream.unreadable,
    ticks: { seen: stream.ticks.length, inserted: ticks },
    bars: { seen: latest.length, inserted: written.inserted, updated: written.updated, skipped: latest.length - toWrite.length + written.unchanged },
  };
}

interface StreamContent {
  events: number;
  lastSeq: number;
  complete: boolean;
  unreadable: number;
  ticks: Tick[];
  bars: Bar[];
}

async function readStream(o: SyncOptions): Promise<StreamContent> {
  const content: StreamContent = { events: 0, lastSeq: o.since ?? 0, complete: true, unreadable: 0, ticks: [], bars: [] };
  for (let page = 0; ; page++) {
    const { events, complete } = await o.bus.replay(o.symbol, content.lastSeq, o.pageSize ?? DEFAULT_PAGE_SIZE);
    if (page === 0) content.complete = complete;
    for (const e of events) {
      content.events++;
      content.lastSeq = e.seq;
      if (e.channel === 'ticks') collect(content.ticks, tickOfEvent(o.symbol, e.data), content);
      // Forming updates and empty slots are not stored by the ingest writer either.
      else if (e.channel === 'bars' && isFinalBarEvent(e.data)) collect(content.bars, finalBarOfEvent(o.symbol, e.data), content);
    }
    if (events.length === 0) return content;
  }
}

function isFinalBarEvent(data: unknown): boolean {
  const f = data as { final?: unknown; empty?: unknown } | null;
  return typeof f === 'object' && f !== null && f.final === true && f.empty !== true;
}

function collect<T>(into: T[], value: T | null, content: StreamContent): void {
  if (value === null) content.unreadable++;
  else into.push(value);
}

async function storeMissingTicks(db: Db, ticks: readonly Tick[]): Promise<number> {
  if (ticks.length === 0) return 0;
  const times = ticks.map((t) => t.time);
  await ensureTickPartitions(db, Math.min(...times), Math.max(...times) + 1);
  return insertTicks(db, ticks);
}

/** One bar per slot: the highest revision, the later event on a tie. */
export function latestRevisions(bars: readonly Bar[]): Bar[] {
  const bySlot = new Map<number, Bar>();
  for (const bar of bars) {
    const seen = bySlot.get(bar.time);
    if (seen === undefined || bar.revision >= seen.revision) bySlot.set(bar.time, bar);
  }
  return [...bySlot.values()].sort((a, b) => a.time - b.time);
}

interface StoredRevision {
  revision: number;
  backfilled: boolean;
}

/** The stream's revision rule (see the file comment). */
export function barsToWrite(latest: readonly Bar[], stored: ReadonlyMap<number, StoredRevision>): Bar[] {
  return latest.filter((bar) => {
    const current = stored.get(bar.time);
    return current === undefined || current.backfilled || current.revision < bar.revision;
  });
}

async function storedRevisions(db: Db, symbol: SymbolCode, bars: readonly Bar[]): Promise<Map<number, StoredRevision>> {
  if (bars.length === 0) return new Map();
  const rows = await db.query<{ time: Date; revision: number; backfilled: boolean }>(
    `SELECT time, revision, 'backfilled' = ANY(flags) AS backfilled FROM bars WHERE symbol = $1 AND time = ANY($2::timestamptz[])`,
    [symbol, bars.map((b) => isoTime(b.time))],
  );
  return new Map(rows.map((r) => [r.time.getTime(), { revision: r.revision, backfilled: r.backfilled }]));
}
