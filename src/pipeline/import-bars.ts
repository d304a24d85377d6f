/**
 * `tasa import`: a bar file into L0 (raw_bars, every row as received) and then L1 (bars,
 * standardized). Valid rows are kept whatever else is wrong with the file; every rejected row
 * is reported with its line; every repair is counted and written to the audit log.
 *
 * The file is streamed in chunks (a few thousand rows): each chunk goes to L0 and the UTC days it
 * completes go to L1, so memory does not grow with the file. A day is complete when the file has
 * moved on to another day; a day that comes back later in the file (an unsorted file) is
 * standardized again at the end from its stored raw rows, and its counts are replaced.
 *
 * Importing the same file twice changes nothing; when the same file, symbol and zone were imported
 * before and nothing the result depends on has changed since (bars, raw rows and sessions of its
 * days), the import is skipped after hashing the file (`force` redoes it).
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../clock.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import { parseRawBar, type ParsedRawBar } from '../domain/raw-bar.ts';
import { emptyCounts, standardizeBars, type DropReason, type RowOutcome, type StandardizeCounts, type StandardizeResult, type TimezoneRepair } from '../domain/standardize.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { DAY_MS, toIsoUtc } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { openBarFile, type BarFileChunk, type BarFileInfo, type BarFileProblem, type BarFileReader } from '../feeds/files/bar-file.ts';
import { fileSha256 } from '../feeds/files/text-source.ts';
import { getAppState, setAppState } from '../store/app-state-repo.ts';
import { appendAudit } from '../store/audit-repo.ts';
import { upsertBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { finishRun, startRun } from '../store/pipeline-runs-repo.ts';
import { insertRawBars, rawBarsBetween, type RawBarInput } from '../store/raw-bars-repo.ts';
import { refreshSessions } from '../store/refresh-sessions.ts';
import { isoTime } from '../store/rows.ts';

export interface ImportOptions {
  symbol: SymbolCode;
  /** Zone for times written without an offset (TwelveData's `timezone` parameter). */
  timezone?: string;
  actor?: string;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Do the work even when this file was imported before and nothing has changed since. */
  force?: boolean;
  /** Stamps the import record; the system clock by default. */
  clock?: Clock;
  /** Rows read per batch (bar-file's default when absent): what bounds the memory an import takes. */
  chunkSize?: number;
}

export interface RejectedRow {
  lineNo: number;
  /** Count key: a parse rejection (raw-bar.ts), a file problem (bar-file.ts) or `conflicting_duplicate`. */
  code: string;
  reason: string;
}

/**
 * What became of this file's rows (never other files' rows, which L1 reads alongside):
 * `read = kept + dropped + rejected`, each by reason. `repaired` is part of `kept`.
 */
export interface ImportRowCounts {
  read: number;
  kept: number;
  repaired: number;
  dropped: Record<DropReason, number>;
  rejected: Record<string, number>;
}

export interface ImportSummary {
  file: string;
  sha256: string;
  rowsRead: number;
  rows: ImportRowCounts;
  storedRaw: number;
  alreadyImported: boolean;
  /** Set (ISO UTC) when the work was skipped: the import of that time had the same file and store. */
  unchangedSince: string | null;
  rejected: RejectedRow[];
  /** Set when the file stopped early (corrupt gzip, truncated JSON); rows before it were kept. */
  fatal: BarFileProblem | null;
  standardize: StandardizeCounts | null;
  bars: { inserted: number; updated: number; unchanged: number };
  repairs: TimezoneRepair[];
  sessionsRefreshed: number;
}

export async function importBarFile(db: Db, calendar: MarketCalendar, path: string, opts: ImportOptions): Promise<ImportSummary> {
  const reader = await openBarFile(path, {
    ...(opts.timezone === undefined ? {} : { timezone: opts.timezone }),
    ...(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize }),
  });
  const id: ImportIdentity = { sha256: await fileSha256(path), symbol: opts.symbol, zone: reader.info.defaultZone };
  const earlier = opts.force ? null : await unchangedImport(db, calendar, id);
  const summary = earlier ? summaryOfUnchanged(reader.info.name, id.sha256, earlier) : await importRows(db, calendar, reader, id, opts);
  await appendAudit(db, [auditOfImport(opts.actor ?? 'cli', opts.symbol, summary)]);
  return summary;
}

/** What makes two imports the same: the file's content, the symbol, and the zone of times without an offset. */
interface ImportIdentity {
  sha256: string;
  symbol: SymbolCode;
  zone: string;
}

async function importRows(db: Db, calendar: MarketCalendar, reader: BarFileReader, id: ImportIdentity, opts: ImportOptions): Promise<ImportSummary> {
  const summary = emptySummary(reader.info.name, id.sha256);
  const l1 = new StandardizeBatches(db, calendar, id, summary);
  const l0RunId = await startRun(db, { layer: 'L0', symbol: id.symbol, params: { file: reader.info.name, format: reader.info.format, sha256: id.sha256 } });
  let fileRejected = 0;
  let records = 0;
  // One chunk is written while the next is read and parsed: at most two chunks in memory.
  let writing: Promise<void> = Promise.resolve();
  try {
    for await (const chunk of reader) {
      const rows = parseChunk(chunk, id, summary);
      fileRejected += chunk.problems.length + chunk.records.length - rows.parsed.length;
      records += chunk.records.length;
      const days = l1.take(rows.parsed, lastLineOf(chunk));
      await writing;
      writing = writeChunk(db, reader.info, id, rows.records, () => l1.standardize(days), summary);
      writing.catch(() => undefined); // awaited above on the next chunk or below
      opts.onProgress?.(chunk.bytesRead, reader.info.sizeBytes);
    }
    await writing;
    assertSameFile(reader, id.sha256);
    summary.fatal = reader.fatal();
    await l1.finish();
  } catch (err) {
    await writing.catch(() => undefined);
    await finishRun(db, l0RunId, { status: 'failed', rowsIn: summary.rowsRead, rowsOut: summary.storedRaw, summary: {}, error: String(err) });
    await l1.fail(err);
    throw err;
  }
  summary.alreadyImported = summary.storedRaw === 0 && records > 0;
  await finishRun(db, l0RunId, {
    status: summary.alreadyImported ? 'skipped' : 'completed',
    rowsIn: summary.rowsRead,
    rowsOut: summary.storedRaw,
    summary: { rejected: fileRejected, fatal: summary.fatal },
  });
  summary.rejected.sort((a, b) => a.lineNo - b.lineNo);
  summary.rows.rejected = countBy(summary.rejected, (r) => r.code);
  await recordImport(db, calendar, id, summary, l1.range(), (opts.clock ?? systemClock).now());
  return summary;
}

function emptySummary(file: string, sha256: string): ImportSummary {
  return {
    file,
    sha256,
    rowsRead: 0,
    rows: { read: 0, kept: 0, repaired: 0, dropped: emptyCounts().dropped, rejected: {} },
    storedRaw: 0,
    alreadyImported: false,
    unchangedSince: null,
    rejected: [],
    fatal: null,
    standardize: null,
    bars: { inserted: 0, updated: 0, unchanged: 0 },
    repairs: [],
    sessionsRefreshed: 0,
  };
}

/** Every record of the chunk for L0 (rejected ones unparsed), and the valid rows for L1. */
function parseChunk(chunk: BarFileChunk, id: ImportIdentity, summary: ImportSummary): { records: RawBarInput[]; parsed: ParsedRawBar[] } {
  const parsed: ParsedRawBar[] = [];
  const records: RawBarInput[] = [];
  summary.rowsRead += chunk.records.length + chunk.problems.length;
  summary.rows.read = summary.rowsRead;
  for (const p of chunk.problems) summary.rejected.push({ lineNo: p.lineNo, code: p.code ?? 'malformed_row', reason: p.reason });
  for (const record of chunk.records) {
    const result = parseRawBar(record, id.symbol, id.zone);
    if (result.ok) parsed.push(result.bar);
    else summary.rejected.push({ lineNo: record.lineNo, code: result.code, reason: result.reason });
    records.push({ lineNo: record.lineNo, raw: record.raw, parsed: result.ok ? result.bar : null, sourceLabel: record.sourceLabel });
  }
  return { records, parsed };
}

function lastLineOf(chunk: BarFileChunk): number {
  let last = 0;
  for (const r of chunk.records) last = Math.max(last, r.lineNo);
  for (const p of chunk.problems) last = Math.max(last, p.lineNo);
  return last;
}

/**
 * L0 (every record into raw_bars, as received, with the file and line it came from) and L1 of the
 * days the chunk completed. They do not depend on each other (L1 reads other files' raw rows
 * only), so on a server they run on two connections at once; PGlite has one connection.
 */
async function writeChunk(db: Db, info: BarFileInfo, id: ImportIdentity, records: RawBarInput[], standardize: () => Promise<void>, summary: ImportSummary): Promise<void> {
  const storeRaw = async () => {
    summary.storedRaw += await insertRawBars(db, id.symbol, { name: info.name, sha256: id.sha256 }, records);
  };
  if (db.driver === 'postgres') {
    // Both settle before a failure is reported, so nothing is still writing once the run is marked failed.
    const failed = (await Promise.allSettled([storeRaw(), standardize()])).find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  } else {
    await storeRaw();
    await standardize();
  }
}

/** The rows were stored under the hash taken before reading: the file must not have changed in between. */
function assertSameFile(reader: BarFileReader, sha256: string): void {
  if (reader.sha256() === sha256) return;
  throw new TasaError('conflict', `${reader.info.name} changed while it was being imported.`, { input: reader.info.name, hint: 'Import it again once it is no longer being written.' });
}

/**
 * Holds a chunk's valid rows by UTC day until the day is complete, and standardizes complete days
 * with the raw rows other files hold for them (a session may be split across files); then
 * refreshes session quality over the whole range.
 */
class StandardizeBatches {
  private readonly pending = new Map<number, ParsedRawBar[]>();
  /** Day -> the last line read when it was standardized: rows of it after that line came late. */
  private readonly doneAt = new Map<number, number>();
  private readonly late = new Set<number>();
  private openDay: number | null = null;
  private runId: number | null = null;
  private first = Infinity;
  private last = -Infinity;

  constructor(
    private readonly db: Db,
    private readonly calendar: MarketCalendar,
    private readonly id: ImportIdentity,
    private readonly summary: ImportSummary,
  ) {}

  /** Adds a chunk's valid rows; returns the rows of every held day but the one the file is in now. */
  take(rows: readonly ParsedRawBar[], lastLine: number): ParsedRawBar[] {
    for (const row of rows) {
      const day = Math.floor(row.time / DAY_MS);
      this.first = Math.min(this.first, row.time);
      this.last = Math.max(this.last, row.time);
      this.openDay = day;
      if (this.doneAt.has(day)) this.late.add(day);
      else this.hold(day, row);
    }
    return this.release((day) => day !== this.openDay, lastLine);
  }

  /** Whole UTC days covering every valid row of the file: [first day 00:00Z, day after the last); null when there was none. */
  range(): { from: number; to: number } | null {
    if (this.first > this.last) return null;
    return { from: Math.floor(this.first / DAY_MS) * DAY_MS, to: (Math.floor(this.last / DAY_MS) + 1) * DAY_MS };
  }

  async standardize(rows: ParsedRawBar[]): Promise<void> {
    if (rows.length === 0) return;
    await this.run();
    const others = await this.othersOn(rows);
    const tally = tallyDays(rows, others, this.id.symbol, this.calendar);
    addTally(this.summary, tally, 1);
    addBars(this.summary, await upsertBars(this.db, tally.result.bars));
  }

  /** The last day, the days that came back, sessions, the repairs' audit, and the L1 run. */
  async finish(): Promise<void> {
    await this.standardize(this.release(() => true, Infinity));
    for (const day of this.late) await this.restandardize(day);
    const range = this.range();
    if (range === null || this.runId === null) return;
    const s = this.summary;
    // Sessions lie inside their own UTC date, so the UTC days of the rows name their session dates.
    s.sessionsRefreshed = await refreshSessions(this.db, this.calendar, this.id.symbol, toIsoUtc(range.from).slice(0, 10), toIsoUtc(range.to - 1).slice(0, 10));
    if (s.bars.inserted + s.bars.updated > 0) await appendAudit(this.db, s.repairs.map((r) => auditOfRepair(this.id.symbol, r)));
    const counts = s.standardize ?? emptyCounts();
    await finishRun(this.db, this.runId, { status: 'completed', rowsIn: counts.input, rowsOut: counts.standardized, summary: { ...counts, bars: s.bars } });
  }

  async fail(err: unknown): Promise<void> {
    if (this.runId !== null) await finishRun(this.db, this.runId, { status: 'failed', rowsIn: this.summary.standardize?.input ?? 0, rowsOut: 0, summary: {}, error: String(err) });
  }

  private hold(day: number, row: ParsedRawBar): void {
    const list = this.pending.get(day);
    if (list) list.push(row);
    else this.pending.set(day, [row]);
  }

  private release(done: (day: number) => boolean, lastLine: number): ParsedRawBar[] {
    const out: ParsedRawBar[] = [];
    for (const [day, rows] of this.pending) {
      if (!done(day)) continue;
      for (const row of rows) out.push(row);
      this.pending.delete(day);
      this.doneAt.set(day, lastLine);
    }
    return out;
  }

  private async run(): Promise<void> {
    this.runId ??= await startRun(this.db, { layer: 'L1', symbol: this.id.symbol, params: { file: this.summary.file } });
  }

  /** Other files' raw rows on the days of `rows`, by time then line. */
  private async othersOn(rows: readonly ParsedRawBar[]): Promise<ParsedRawBar[]> {
    const days = new Set(rows.map((r) => Math.floor(r.time / DAY_MS)));
    const from = Math.min(...days) * DAY_MS;
    const to = (Math.max(...days) + 1) * DAY_MS;
    const others = await rawBarsBetween(this.db, this.id.symbol, from, to, { excludeOriginSha256: this.id.sha256 });
    return others.filter((r) => days.has(Math.floor(r.time / DAY_MS)));
  }

  /**
   * A day whose rows came back after it was standardized: standardized again from all of this
   * file's stored rows of it (in line order), its earlier counts replaced by the new ones.
   */
  private async restandardize(day: number): Promise<void> {
    const from = day * DAY_MS;
    const own = await rawBarsBetween(this.db, this.id.symbol, from, from + DAY_MS, { originSha256: this.id.sha256 });
    own.sort((a, b) => a.lineNo - b.lineNo);
    const others = await rawBarsBetween(this.db, this.id.symbol, from, from + DAY_MS, { excludeOriginSha256: this.id.sha256 });
    const doneAt = this.doneAt.get(day) ?? 0;
    const before = tallyDays(own.filter((r) => r.lineNo <= doneAt), others, this.id.symbol, this.calendar);
    const after = tallyDays(own, others, this.id.symbol, this.calendar);
    addTally(this.summary, before, -1);
    addTally(this.summary, after, 1);
    const written = await upsertBars(this.db, after.result.bars);
    // Its bars were counted when the day was first written; count only what this write changed.
    addBars(this.summary, { inserted: written.inserted, updated: written.updated, unchanged: 0 });
  }
}

/** What standardizing some whole days did to this file's rows. */
interface DaysTally {
  result: StandardizeResult;
  kept: number;
  repaired: number;
  dropped: Record<DropReason, number>;
  conflicts: RejectedRow[];
}

/** Standardizes whole days: this file's rows first (a slot they share with another file's row keeps this file's). */
function tallyDays(own: readonly ParsedRawBar[], others: readonly ParsedRawBar[], symbol: SymbolCode, calendar: MarketCalendar): DaysTally {
  const result = standardizeBars([...own, ...others], symbol, calendar);
  return { result, ...countOwnRows(own, result.outcomes) };
}

/** Adds (sign 1) or takes back (sign -1) a tally: row counts, conflicts, standardize counts, repairs. */
function addTally(summary: ImportSummary, tally: DaysTally, sign: 1 | -1): void {
  const rows = summary.rows;
  rows.kept += sign * tally.kept;
  rows.repaired += sign * tally.repaired;
  for (const reason of Object.keys(rows.dropped) as DropReason[]) rows.dropped[reason] += sign * tally.dropped[reason];
  const counts = (summary.standardize ??= emptyCounts());
  const c = tally.result.counts;
  counts.input += sign * c.input;
  counts.standardized += sign * c.standardized;
  counts.repaired += sign * c.repaired;
  for (const reason of Object.keys(counts.dropped) as DropReason[]) counts.dropped[reason] += sign * c.dropped[reason];
  if (sign === 1) {
    summary.rejected.push(...tally.conflicts);
    summary.repairs.push(...tally.result.repairs);
    return;
  }
  const conflictLines = new Set(tally.conflicts.map((r) => r.lineNo));
  summary.rejected = summary.rejected.filter((r) => !(r.code === 'conflicting_duplicate' && conflictLines.has(r.lineNo)));
  const repairedDates = new Set(tally.result.repairs.map((r) => r.date));
  summary.repairs = summary.repairs.filter((r) => !repairedDates.has(r.date));
}

function addBars(summary: ImportSummary, bars: ImportSummary['bars']): void {
  summary.bars.inserted += bars.inserted;
  summary.bars.updated += bars.updated;
  summary.bars.unchanged += bars.unchanged;
}

/**
 * Tallies this file's rows by outcome. A duplicate that differs from the row holding its slot
 * is a conflict, not a harmless repeat: it is rejected with both lines, so it reaches --rejects.
 */
function countOwnRows(parsed: readonly ParsedRawBar[], outcomes: ReadonlyMap<ParsedRawBar, RowOutcome>): Omit<DaysTally, 'result'> {
  const tally: Omit<DaysTally, 'result'> = { kept: 0, repaired: 0, dropped: emptyCounts().dropped, conflicts: [] };
  const own = new Set(parsed);
  for (const row of parsed) {
    const outcome = outcomes.get(row);
    if (outcome === undefined) throw new Error(`standardization gave no outcome for line ${row.lineNo}`);
    if (outcome.kind === 'kept') {
      tally.kept++;
      if (outcome.repaired) tally.repaired++;
    } else if (outcome.reason === 'duplicate' && outcome.keptRow !== undefined && !sameBar(row, outcome.keptRow)) {
      tally.conflicts.push({ lineNo: row.lineNo, code: 'conflicting_duplicate', reason: conflictReason(row, outcome.keptRow, own) });
    } else {
      tally.dropped[outcome.reason]++;
    }
  }
  return tally;
}

function sameBar(a: ParsedRawBar, b: ParsedRawBar): boolean {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume;
}

function conflictReason(row: ParsedRawBar, kept: ParsedRawBar, own: ReadonlySet<ParsedRawBar>): string {
  const ohlc = (b: ParsedRawBar) => `${b.open}/${b.high}/${b.low}/${b.close}${b.volume === null ? '' : ` vol ${b.volume}`}`;
  const holder = own.has(kept) ? `line ${kept.lineNo}` : `line ${kept.lineNo} of an earlier import`;
  return `conflicting_duplicate: slot ${toIsoUtc(row.time)} is held by ${holder} (OHLC ${ohlc(kept)}); this row has ${ohlc(row)}`;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function auditOfRepair(symbol: SymbolCode, repair: TimezoneRepair) {
  return {
    actor: 'standardizer',
    action: 'repair.bogota_wall_clock_as_utc',
    entity: `bars:${symbol}:${repair.date}`,
    details: { ...repair },
  };
}

function auditOfImport(actor: string, symbol: SymbolCode, s: ImportSummary) {
  return {
    actor,
    action: s.unchangedSince !== null ? 'import.unchanged' : s.alreadyImported ? 'import.skipped' : 'import',
    entity: `file:${s.file}`,
    details: {
      symbol,
      sha256: s.sha256,
      rowsRead: s.rowsRead,
      rows: s.rows,
      storedRaw: s.storedRaw,
      rejected: s.rejected.length,
      fatal: s.fatal,
      standardize: s.standardize,
      bars: s.bars,
      ...(s.unchangedSince === null ? {} : { unchangedSince: s.unchangedSince }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Unchanged re-import

/** Rejected rows a record keeps at most; a file with more is imported again each time. */
const MAX_RECORDED_REJECTS = 10_000;

/** What an import's result depended on, read back cheaply: it changes whenever any of it does. */
interface StoreState {
  /** The file's UTC days, epoch ms; null when it had no valid row. */
  range: { from: number; to: number } | null;
  /** Bars of those days and the sum of their revisions (bars are never deleted; a change raises the revision). */
  bars: number;
  revisions: number;
  /** Raw rows of those days (any file) and the highest id among them (raw_bars is append-only). */
  raw: number;
  rawMaxId: number;
  /** Every stored row of this file, unparsed ones included. */
  ownRaw: number;
  /** Of the calendar's sessions on those days (holiday changes alter the result). */
  sessions: string;
}

interface ImportRecord {
  importedAt: string;
  state: StoreState;
  summary: Pick<ImportSummary, 'rowsRead' | 'rows' | 'rejected' | 'fatal' | 'standardize' | 'repairs'>;
}

function recordKey(id: ImportIdentity): string {
  return `import:${id.symbol}:${id.zone}:${id.sha256}`;
}

/** The record of an earlier import of this file when the store still holds exactly what it left. */
async function unchangedImport(db: Db, calendar: MarketCalendar, id: ImportIdentity): Promise<ImportRecord | null> {
  const record = await getAppState<ImportRecord>(db, recordKey(id));
  if (record === null) return null;
  const now = await storeState(db, calendar, id, record.state.range);
  return sameState(now, record.state) ? record : null;
}

/** Field by field: the record comes back from jsonb, which does not keep key order. */
function sameState(a: StoreState, b: StoreState): boolean {
  const sameRange = a.range === null || b.range === null ? a.range === b.range : a.range.from === b.range.from && a.range.to === b.range.to;
  return sameRange && a.bars === b.bars && a.revisions === b.revisions && a.raw === b.raw && a.rawMaxId === b.rawMaxId && a.ownRaw === b.ownRaw && a.sessions === b.sessions;
}

async function recordImport(db: Db, calendar: MarketCalendar, id: ImportIdentity, s: ImportSummary, range: StoreState['range'], now: number): Promise<void> {
  if (s.rejected.length > MAX_RECORDED_REJECTS) return;
  const record: ImportRecord = {
    importedAt: toIsoUtc(now),
    state: await storeState(db, calendar, id, range),
    summary: { rowsRead: s.rowsRead, rows: s.rows, rejected: s.rejected, fatal: s.fatal, standardize: s.standardize, repairs: s.repairs },
  };
  await setAppState(db, recordKey(id), record);
}

async function storeState(db: Db, calendar: MarketCalendar, id: ImportIdentity, range: StoreState['range']): Promise<StoreState> {
  const [row] = await db.query<{ bars: number; revisions: string | number; raw: number; raw_max_id: string | number; own_raw: number }>(
    `SELECT b.bars, b.revisions, r.raw, r.raw_max_id, o.own_raw
     FROM (SELECT count(*)::int AS bars, coalesce(sum(revision), 0)::bigint AS revisions FROM bars WHERE symbol = $1 AND time >= $2 AND time < $3) b,
          (SELECT count(*)::int AS raw, coalesce(max(id), 0)::bigint AS raw_max_id FROM raw_bars WHERE symbol = $1 AND time >= $2 AND time < $3) r,
          (SELECT count(*)::int AS own_raw FROM raw_bars WHERE origin_sha256 = $4) o`,
    [id.symbol, isoTime(range?.from ?? 0), isoTime(range?.to ?? 0), id.sha256],
  );
  const sessions = range === null ? [] : calendar.sessionsBetween(toIsoUtc(range.from).slice(0, 10), toIsoUtc(range.to - 1).slice(0, 10));
  return {
    range,
    bars: row?.bars ?? 0,
    revisions: Number(row?.revisions ?? 0),
    raw: row?.raw ?? 0,
    rawMaxId: Number(row?.raw_max_id ?? 0),
    ownRaw: row?.own_raw ?? 0,
    sessions: createHash('sha256').update(JSON.stringify(sessions)).digest('hex'),
  };
}

function summaryOfUnchanged(file: string, sha256: string, record: ImportRecord): ImportSummary {
  return {
    ...record.summary,
    file,
    sha256,
    storedRaw: 0,
    alreadyImported: true,
    unchangedSince: record.importedAt,
    bars: { inserted: 0, updated: 0, unchanged: record.summary.standardize?.standardized ?? 0 },
    sessionsRefreshed: 0,
  };
}
