/**
 * `tasa import`: a bar file into L0 (raw_bars, every row as received) and then L1 (bars,
 * standardized). Valid rows are kept whatever else is wrong with the file; every rejected row
 * is reported with its line; every repair is counted and written to the audit log.
 * Importing the same file twice changes nothing.
 */
import type { MarketCalendar } from '../domain/calendar.ts';
import { parseRawBar, type ParsedRawBar } from '../domain/raw-bar.ts';
import { emptyCounts, standardizeBars, type DropReason, type RowOutcome, type StandardizeCounts, type TimezoneRepair } from '../domain/standardize.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { DAY_MS, toIsoUtc } from '../domain/time.ts';
import { openBarFile, type BarFileProblem } from '../feeds/files/bar-file.ts';
import { appendAudit } from '../store/audit-repo.ts';
import { upsertBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { finishRun, startRun } from '../store/pipeline-runs-repo.ts';
import { insertRawBars, rawBarsBetween, type RawBarInput } from '../store/raw-bars-repo.ts';
import { refreshSessions } from '../store/refresh-sessions.ts';

export interface ImportOptions {
  symbol: SymbolCode;
  /** Zone for times written without an offset (TwelveData's `timezone` parameter). */
  timezone?: string;
  actor?: string;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
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
  rejected: RejectedRow[];
  /** Set when the file stopped early (corrupt gzip, truncated JSON); rows before it were kept. */
  fatal: BarFileProblem | null;
  standardize: StandardizeCounts | null;
  bars: { inserted: number; updated: number; unchanged: number };
  repairs: TimezoneRepair[];
  sessionsRefreshed: number;
}

export async function importBarFile(db: Db, calendar: MarketCalendar, path: string, opts: ImportOptions): Promise<ImportSummary> {
  const file = await readBarFile(path, opts);
  const summary: ImportSummary = {
    file: file.name,
    sha256: file.sha256,
    rowsRead: file.rowsRead,
    rows: { read: file.rowsRead, kept: 0, repaired: 0, dropped: emptyCounts().dropped, rejected: {} },
    storedRaw: 0,
    alreadyImported: false,
    rejected: file.rejected,
    fatal: file.fatal,
    standardize: null,
    bars: { inserted: 0, updated: 0, unchanged: 0 },
    repairs: [],
    sessionsRefreshed: 0,
  };
  // L0 and L1 do not depend on each other once the file is read (L1 reads other files' raw rows
  // only), so on a server they run on two connections at once; PGlite has one connection.
  // L1 always runs, even when L0 had every row already: an earlier run may have stopped between
  // the two, and standardizing unchanged rows writes nothing.
  const storeRaw = () => storeRawRows(db, opts.symbol, file, summary);
  const standardize = () => standardizeImported(db, calendar, opts.symbol, file.parsed, file.sha256, summary);
  if (db.driver === 'postgres') await Promise.all([storeRaw(), standardize()]);
  else {
    await storeRaw();
    await standardize();
  }
  summary.rejected.sort((a, b) => a.lineNo - b.lineNo);
  summary.rows.rejected = countBy(summary.rejected, (r) => r.code);
  await appendAudit(db, [auditOfImport(opts.actor ?? 'cli', opts.symbol, summary)]);
  return summary;
}

interface ReadFile {
  name: string;
  format: string;
  sha256: string;
  rowsRead: number;
  rejected: RejectedRow[];
  fatal: BarFileProblem | null;
  /** Every record for L0 (rejected ones unparsed). */
  records: RawBarInput[];
  /** The valid rows for L1. */
  parsed: ParsedRawBar[];
}

/** Reads and parses the whole file; a fault part-way keeps the rows before it. */
async function readBarFile(path: string, opts: ImportOptions): Promise<ReadFile> {
  const reader = await openBarFile(path, opts.timezone === undefined ? {} : { timezone: opts.timezone });
  const out = { parsed: [] as ParsedRawBar[], rejected: [] as RejectedRow[], records: [] as RawBarInput[], rowsRead: 0 };
  for await (const chunk of reader) {
    out.rowsRead += chunk.records.length + chunk.problems.length;
    for (const p of chunk.problems) out.rejected.push({ lineNo: p.lineNo, code: p.code ?? 'malformed_row', reason: p.reason });
    for (const record of chunk.records) {
      const result = parseRawBar(record, opts.symbol, reader.info.defaultZone);
      if (result.ok) out.parsed.push(result.bar);
      else out.rejected.push({ lineNo: record.lineNo, code: result.code, reason: result.reason });
      out.records.push({ lineNo: record.lineNo, raw: record.raw, parsed: result.ok ? result.bar : null, sourceLabel: record.sourceLabel });
    }
    opts.onProgress?.(chunk.bytesRead, reader.info.sizeBytes);
  }
  out.rejected.sort((a, b) => a.lineNo - b.lineNo);
  // The file's identity (sha256) is known only once it has been read whole.
  return { ...out, name: reader.info.name, format: reader.info.format, sha256: reader.sha256(), fatal: reader.fatal() };
}

/** L0: every record into raw_bars, as received, with the file and line it came from. */
async function storeRawRows(db: Db, symbol: SymbolCode, file: ReadFile, summary: ImportSummary): Promise<void> {
  const runId = await startRun(db, { layer: 'L0', symbol, params: { file: file.name, format: file.format, sha256: file.sha256 } });
  try {
    summary.storedRaw = await insertRawBars(db, symbol, { name: file.name, sha256: file.sha256 }, file.records);
    summary.alreadyImported = summary.storedRaw === 0 && file.records.length > 0;
    await finishRun(db, runId, {
      status: summary.alreadyImported ? 'skipped' : 'completed',
      rowsIn: file.rowsRead,
      rowsOut: summary.storedRaw,
      summary: { rejected: file.rejected.length, fatal: file.fatal },
    });
  } catch (err) {
    await finishRun(db, runId, { status: 'failed', rowsIn: file.rowsRead, rowsOut: 0, summary: {}, error: String(err) });
    throw err;
  }
}

/**
 * L1: standardize the imported rows together with any raw rows other files already hold for
 * the same days (a session may be split across files), upsert, and refresh session quality.
 */
async function standardizeImported(
  db: Db,
  calendar: MarketCalendar,
  symbol: SymbolCode,
  parsed: ParsedRawBar[],
  sha256: string,
  summary: ImportSummary,
): Promise<void> {
  if (parsed.length === 0) return;
  const { from, to } = utcDayRange(parsed);
  const runId = await startRun(db, { layer: 'L1', symbol, params: { file: summary.file, from: new Date(from), to: new Date(to) } });
  try {
    const others = await rawBarsBetween(db, symbol, from, to, { excludeOriginSha256: sha256 });
    // This file's rows first: a slot they share with another file's row keeps this file's.
    const result = standardizeBars([...parsed, ...others], symbol, calendar);
    countOwnRows(parsed, result.outcomes, summary);
    summary.bars = await upsertBars(db, result.bars);
    summary.standardize = result.counts;
    summary.repairs = result.repairs;
    // Sessions lie inside their own UTC date, so the UTC days of the rows name their session dates.
    summary.sessionsRefreshed = await refreshSessions(db, calendar, symbol, toIsoUtc(from).slice(0, 10), toIsoUtc(to - 1).slice(0, 10));
    if (summary.bars.inserted + summary.bars.updated > 0) await appendAudit(db, result.repairs.map((r) => auditOfRepair(symbol, r)));
    await finishRun(db, runId, { status: 'completed', rowsIn: result.counts.input, rowsOut: result.counts.standardized, summary: { ...result.counts, bars: summary.bars } });
  } catch (err) {
    await finishRun(db, runId, { status: 'failed', rowsIn: parsed.length, rowsOut: 0, summary: {}, error: String(err) });
    throw err;
  }
}

/**
 * Tallies this file's rows by outcome. A duplicate that differs from the row holding its slot
 * is a conflict, not a harmless repeat: it is rejected with both lines, so it reaches --rejects.
 */
function countOwnRows(parsed: readonly ParsedRawBar[], outcomes: ReadonlyMap<ParsedRawBar, RowOutcome>, summary: ImportSummary): void {
  const rows = summary.rows;
  const own = new Set(parsed);
  for (const row of parsed) {
    const outcome = outcomes.get(row);
    if (outcome === undefined) throw new Error(`standardization gave no outcome for line ${row.lineNo}`);
    if (outcome.kind === 'kept') {
      rows.kept++;
      if (outcome.repaired) rows.repaired++;
    } else if (outcome.reason === 'duplicate' && outcome.keptRow !== undefined && !sameBar(row, outcome.keptRow)) {
      summary.rejected.push({ lineNo: row.lineNo, code: 'conflicting_duplicate', reason: conflictReason(row, outcome.keptRow, own) });
    } else {
      rows.dropped[outcome.reason]++;
    }
  }
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

/** Whole UTC days covering every row: [first day 00:00Z, day after the last). */
function utcDayRange(rows: readonly ParsedRawBar[]): { from: number; to: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const row of rows) {
    if (row.time < min) min = row.time;
    if (row.time > max) max = row.time;
  }
  return { from: Math.floor(min / DAY_MS) * DAY_MS, to: (Math.floor(max / DAY_MS) + 1) * DAY_MS };
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
    action: s.alreadyImported ? 'import.skipped' : 'import',
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
    },
  };
}
