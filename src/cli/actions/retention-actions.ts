/** What `tasa retention status|run` do (loaded on demand by ../commands/retention-commands.ts). */
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../clock.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { runRetention, retentionStatus, type RetentionReport } from '../../jobs/retention/retention.ts';
import { archiveOptionsFrom, openArchive } from '../../pipeline/archive/open-archive.ts';
import { readCodeVersion } from '../../pipeline/manifest.ts';
import { parseIntegerArg } from '../args.ts';
import { createContext, withStore, type CliContext } from '../context.ts';
import { createRowWriter, parseFormat, type Column } from '../output.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface RetentionCliOptions {
  days?: string;
}

export interface RetentionStatusCliOptions extends RetentionCliOptions {
  format?: string;
}

const COLUMNS: Column[] = [
  { key: 'partition' },
  { key: 'from' },
  { key: 'to' },
  { key: 'rows', numeric: true },
  { key: 'bytes', numeric: true },
  { key: 'state' },
  { key: 'archive' },
];

/** One row per partition in the store, then one per archived partition no longer in it. */
export async function runRetentionStatus(o: RetentionStatusCliOptions): Promise<void> {
  const ctx = createContext();
  const retentionDays = daysOf(o, ctx);
  const format = parseFormat(o.format, process.stdout.isTTY);
  const status = await withStore(ctx, (db) => retentionStatus({ db, clock: systemClock, retentionDays }));
  const day = (ms: number) => toIsoUtc(ms).slice(0, 10);
  const archivedBy = new Map(status.archives.map((a) => [a.partition, a]));
  const rows = [
    ...status.partitions.map((p) => ({ partition: p.name, from: day(p.from), to: day(p.to), rows: p.rows, bytes: p.bytes, state: p.due ? 'due' : 'kept', archive: archivedBy.get(p.name)?.manifestKey ?? null })),
    ...status.archives
      .filter((a) => a.droppedAt !== null)
      .map((a) => ({ partition: a.partition, from: day(a.from), to: day(a.to), rows: a.rows, bytes: a.storeBytes, state: `dropped ${toIsoUtc(a.droppedAt ?? 0)}`, archive: a.manifestKey })),
  ];
  if (format !== 'json') {
    const waiting = status.defaultRows > 0 ? `; ${status.defaultRows} rows in ticks_default get their month partition at the next run` : '';
    process.stderr.write(`retention: ${retentionDays} days, ticks before ${toIsoUtc(status.cutoff)} are due${waiting}\n`);
  }
  const writer = createRowWriter(format, COLUMNS, process.stdout);
  await writer.write(rows);
  await writer.end();
}

export async function runRetentionRun(o: RetentionCliOptions): Promise<void> {
  const ctx = createContext();
  const retentionDays = daysOf(o, ctx);
  const codeVersion = await readCodeVersion(ROOT, process.env['TASA_GIT_COMMIT']);
  const archive = await openArchive(archiveOptionsFrom(ctx.config));
  try {
    const report = await withStore(ctx, (db) => runRetention({ db, archive, clock: systemClock, retentionDays, actor: 'cli', codeVersion }));
    for (const line of reportLines(report)) console.log(line);
    if (report.partitions.some((p) => p.outcome !== 'dropped')) process.exitCode = 1;
  } finally {
    await archive.close();
  }
}

function daysOf(o: RetentionCliOptions, ctx: CliContext): number {
  return o.days === undefined ? ctx.config.TASA_TICK_RETENTION_DAYS : parseIntegerArg('--days', o.days);
}

export function reportLines(r: RetentionReport): string[] {
  if (r.skipped !== null) return [`retention: skipped, ${r.skipped}`];
  const head = `retention: ${r.retentionDays} days (ticks before ${toIsoUtc(r.cutoff)}): ${r.partitions.length} partition(s) due`;
  const lines = r.partitions.map((p) => {
    const base = `${p.partition}: ${p.outcome}, ${p.rows} rows`;
    return p.outcome === 'dropped' ? `${base} archived to ${p.fileKey ?? ''} (${p.archiveBytes ?? 0} bytes), ${p.storeBytes ?? 0} bytes freed` : `${base}, kept: ${p.problems.join(' ')}`;
  });
  const total = `archived ${r.rowsArchived} rows, freed ${r.storeBytesFreed} bytes`;
  return [head, ...lines, total];
}
