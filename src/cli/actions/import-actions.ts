/** What `tasa import` runs (loaded on demand by ../commands/import-command.ts). */
import { writeFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { importBarFile, type ImportSummary } from '../../pipeline/import-bars.ts';
import { parseSymbolArg } from '../args.ts';
import { createContext, withStore } from '../context.ts';

export interface ImportCliOptions {
  symbol: string;
  timezone?: string;
  rejects?: string;
  force?: boolean;
}

/** Rejected rows printed on stderr; the rest go to --rejects. */
const REJECTS_SHOWN = 20;

export async function runImport(file: string, o: ImportCliOptions): Promise<void> {
  const summary = await importFile(file, o);
  process.exitCode = summary.fatal ? 1 : 0;
}

async function importFile(file: string, o: ImportCliOptions): Promise<ImportSummary> {
  const ctx = createContext();
  const symbol = parseSymbolArg(o.symbol);
  const progress = process.stderr.isTTY ? new SingleBar({ format: 'importing [{bar}] {percentage}% | {value}/{total} bytes', stream: process.stderr }) : null;
  let started = false;
  const summary = await withStore(ctx, (db) =>
    importBarFile(db, ctx.calendar.of(symbol), file, {
      symbol,
      ...(o.timezone === undefined ? {} : { timezone: o.timezone }),
      force: o.force === true,
      onProgress: (read, total) => {
        if (!progress) return;
        if (!started) progress.start(total, 0);
        started = true;
        progress.update(read);
      },
    }),
  ).finally(() => progress?.stop());
  reportRejects(summary, o.rejects);
  console.log(summaryLine(summary));
  return summary;
}

function reportRejects(s: ImportSummary, rejectsFile: string | undefined): void {
  for (const r of s.rejected.slice(0, REJECTS_SHOWN)) console.error(`${s.file}:${r.lineNo}: rejected: ${r.reason}`);
  if (s.rejected.length > REJECTS_SHOWN && !rejectsFile) {
    console.error(`... and ${s.rejected.length - REJECTS_SHOWN} more rejected rows (use --rejects <file> to write them all)`);
  }
  if (rejectsFile) {
    const lines = s.rejected.map((r) => `${r.lineNo},${r.code},"${r.reason.replace(/"/g, '""')}"`);
    writeFileSync(rejectsFile, ['line,code,reason', ...lines].join('\n') + '\n');
  }
  if (s.fatal) {
    console.error(`${s.file}:${s.fatal.lineNo}: ${s.fatal.reason}; the ${s.rowsRead} rows read before it were kept.`);
  }
}

/**
 * The one-line summary of this file's rows, which add up: rows read = kept + dropped +
 * rejected, each by reason (repaired rows are among the kept); then what reached the store.
 */
export function summaryLine(s: ImportSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const r = s.rows;
  const parts = [
    `${s.file}: rows read ${n(r.read)} = kept ${n(r.kept)} (repaired ${n(r.repaired)}) + dropped ${byReason(r.dropped, n)} + rejected ${byReason(r.rejected, n)}`,
    s.unchangedSince === null
      ? `stored raw ${n(s.storedRaw)}${s.alreadyImported ? ' (file already imported)' : ''}`
      : `unchanged since import of ${s.unchangedSince}, nothing done (--force to redo)`,
    `bars new ${n(s.bars.inserted)}, changed ${n(s.bars.updated)}, unchanged ${n(s.bars.unchanged)}`,
  ];
  return parts.join(' | ');
}

/** `12 (off-session 10, duplicate 2)`, or `0`. */
function byReason(counts: Record<string, number>, n: (x: number) => string): string {
  const nonZero = Object.entries(counts).filter(([, count]) => count > 0);
  const total = nonZero.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return '0';
  return `${n(total)} (${nonZero.map(([reason, count]) => `${reason.replace(/_/g, '-')} ${n(count)}`).join(', ')})`;
}
