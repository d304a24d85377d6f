/**
 * `tasa import`: a bar file into L0 (raw_bars, every row as received) and then L1 (bars,
 * standardized). Valid rows are kept whatever else is wrong with the file; every rejected row
 * is reported with its line; every repair is counted and written to the audit log.
 * Importing the same file twice changes nothing.
 */
import type { MarketCalendar } from '../domain/calendar.ts';
import { parseRawBar, type ParsedRawBar } from '../domain/raw-bar.ts';
import { standardizeBars, type StandardizeCounts, type TimezoneRepair } from '../domain/standardize.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { bogotaDate, DAY_MS } from '../domain/time.ts';
import { openBarFile, type BarFileProblem } from '../feeds/replay/bar-file.ts';
import { appendAudit } from '../store/audit-repo.ts';
import { upsertBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { finishRun, startRun } from '../store/pipeline-runs-repo.ts';
import { insertRawBars, rawBarsBetween } from '../store/raw-bars-repo.ts';
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
  reason: string;
}

export interface ImportSummary {
  file: string;
  sha256: string;
  rowsRead: number;
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
  const actor = opts.actor ?? 'cli';
  const l0 = await readIntoRaw(db, path, opts);
  const summary: ImportSummary = {
    ...l0.summary,
    standardize: null,
    bars: { inserted: 0, updated: 0, unchanged: 0 },
    repairs: [],
    sessionsRefreshed: 0,
  };
  // Always standardized, even when L0 had every row already: an earlier run may have stopped
  // between L0 and L1, and standardizing unchanged rows writes nothing.
  await standardizeImported(db, calendar, opts.symbol, l0.parsed, l0.summary.sha256, summary);
  await appendAudit(db, [auditOfImport(actor, opts.symbol, summary)]);
  return summary;
}

interface RawStage {
  summary: Pick<ImportSummary, 'file' | 'sha256' | 'rowsRead' | 'storedRaw' | 'alreadyImported' | 'rejected' | 'fatal'>;
  parsed: ParsedRawBar[];
}

/** L0: every record into raw_bars (rejected ones too, unparsed); the valid ones returned parsed. */
async function readIntoRaw(db: Db, path: string, opts: ImportOptions): Promise<RawStage> {
  const reader = await openBarFile(path, opts.timezone === undefined ? {} : { timezone: opts.timezone });
  const runId = await startRun(db, { layer: 'L0', symbol: opts.symbol, params: { file: reader.info.name, format: reader.info.format } });
  const parsed: ParsedRawBar[] = [];
  const rejected: RejectedRow[] = [];
  const pending: Parameters<typeof insertRawBars>[3] = [];
  let rowsRead = 0;
  try {
    for await (const chunk of reader) {
      rowsRead += chunk.records.length + chunk.problems.length;
      for (const problem of chunk.problems) rejected.push(problem);
      for (const record of chunk.records) {
        const result = parseRawBar(record, opts.symbol, reader.info.defaultZone);
        if (result.ok) parsed.push(result.bar);
        else rejected.push({ lineNo: record.lineNo, reason: result.reason });
        pending.push({ lineNo: record.lineNo, raw: record.raw, parsed: result.ok ? result.bar : null, sourceLabel: record.sourceLabel });
      }
      opts.onProgress?.(chunk.bytesRead, reader.info.sizeBytes);
    }
    // The file's identity (sha256) is known only once it has been read whole, so rows are written after.
    const sha256 = reader.sha256();
    const storedRaw = await insertRawBars(db, opts.symbol, { name: reader.info.name, sha256 }, pending);
    const summary = {
      file: reader.info.name,
      sha256,
      rowsRead,
      storedRaw,
      alreadyImported: storedRaw === 0 && pending.length > 0,
      rejected,
      fatal: reader.fatal(),
    };
    await finishRun(db, runId, {
      status: summary.alreadyImported ? 'skipped' : 'completed',
      rowsIn: rowsRead,
      rowsOut: storedRaw,
      summary: { sha256, rejected: rejected.length, fatal: summary.fatal },
    });
    return { summary, parsed };
  } catch (err) {
    await finishRun(db, runId, { status: 'failed', rowsIn: rowsRead, rowsOut: 0, summary: {}, error: String(err) });
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
    const result = standardizeBars([...parsed, ...others], symbol, calendar);
    summary.bars = await upsertBars(db, result.bars);
    summary.standardize = result.counts;
    summary.repairs = result.repairs;
    summary.sessionsRefreshed = await refreshSessions(db, calendar, symbol, bogotaDate(from), bogotaDate(to - 1));
    if (summary.bars.inserted + summary.bars.updated > 0) await appendAudit(db, result.repairs.map((r) => auditOfRepair(symbol, r)));
    await finishRun(db, runId, { status: 'completed', rowsIn: result.counts.input, rowsOut: result.counts.standardized, summary: { ...result.counts, bars: summary.bars } });
  } catch (err) {
    await finishRun(db, runId, { status: 'failed', rowsIn: parsed.length, rowsOut: 0, summary: {}, error: String(err) });
    throw err;
  }
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
      storedRaw: s.storedRaw,
      rejected: s.rejected.length,
      fatal: s.fatal,
      standardize: s.standardize,
      bars: s.bars,
    },
  };
}
