/**
 * Tick retention on PostgreSQL, on the 2020-2025 history plus a simulated month of ticks:
 * - growth per trading day: the ticks of a session at the simulator's default rate (3/s, its own
 *   tick path) and the bars of a session (bars, raw_bars, sessions of the imported history), in
 *   pg_total_relation_size bytes;
 * - retention: the month partition archived to Parquet, verified and dropped, in ticks/s, against
 *   two references measured in the same run on the same rows: the raw COPY that loaded them (the
 *   store's write floor) and hyparquet reading the archive back;
 * - the store shrinks (pg_database_size) by what the partition occupied, bars and audit kept, and
 *   the archive holds the generated rows (count and checksum).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/clock.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import type { Tick } from '../src/domain/tick.ts';
import { runRetention } from '../src/jobs/retention/retention.ts';
import { loadTickManifest, readTickArchive, tickRowsChecksum } from '../src/jobs/retention/tick-archive.ts';
import { openLocalArchive } from '../src/pipeline/archive/local-archive.ts';
import { importBarFile } from '../src/pipeline/import-bars.ts';
import type { Db } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import { isoTime } from '../src/store/rows.ts';
import { ensureTickPartitions } from '../src/store/ticks-repo.ts';
import { simulatedSessionTicks } from '../test/support/simulated-ticks.ts';
import { openScratchPostgres } from '../test/support/test-db.ts';
import { REAL_FILE } from './foundation-bench.ts';
import { against, formatMs, formatRate, record, timed } from './harness.ts';

const AREA = 'retention';
/** The simulated month, after the history; the clock runs 30 days past its end with a 30-day limit. */
const MONTH = { from: '2025-07-01', to: '2025-07-31' };
const NOW = Date.UTC(2025, 8, 1, 23, 0);
const RETENTION_DAYS = 30;
const DEFAULT_TICKS_PER_SECOND = 3;
const TICK_COLUMNS = ['symbol', 'time', 'price', 'bid', 'ask', 'received_at', 'source'];

export async function benchRetention(): Promise<void> {
  const url = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];
  if (!url) return record(AREA, 'all figures', 'skipped', 'set BENCH_DATABASE_URL or TEST_DATABASE_URL');
  if (!existsSync(REAL_FILE)) return record(AREA, 'all figures', 'skipped', `${REAL_FILE} is absent`);
  const scratch = await openScratchPostgres(url);
  const dir = mkdtempSync(join(tmpdir(), 'tasa-bench-retention-'));
  try {
    await benchOn(scratch.db, dir);
  } finally {
    await scratch.db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchOn(db: Db, dir: string): Promise<void> {
  const calendar = new MarketCalendar();
  await migrate(db);
  await importBarFile(db, calendar, REAL_FILE, { symbol: 'USD/COP' });
  const sessions = await count(db, 'sessions');
  const barBytes = await sizes(db, ['bars', 'bar_revisions', 'raw_bars', 'sessions']);

  const days = [...simulatedSessionTicks({ calendar, ...MONTH, ticksPerSecond: DEFAULT_TICKS_PER_SECOND })];
  const ticks = days.flat();
  await ensureTickPartitions(db, Date.parse(`${MONTH.from}T00:00:00Z`), Date.parse(`${MONTH.to}T00:00:00Z`));
  const copy = await timed(() => copyTicks(db, ticks));
  const tickBytes = await sizes(db, ['ticks_y2025m07']);
  const perDayTicks = tickBytes / days.length;
  const perDayBars = barBytes / sessions;
  record(AREA, 'store growth per trading day (PostgreSQL)', `${mb(perDayTicks + perDayBars)} MB`,
    `ticks ${mb(perDayTicks)} MB (${Math.round(ticks.length / days.length).toLocaleString('en-US')} ticks at ${DEFAULT_TICKS_PER_SECOND}/s) + bars ${kb(perDayBars)} kB (bars, raw_bars, revisions, sessions of ${sessions} imported sessions); ticks are ${Math.round(perDayTicks / perDayBars)}x the bars`);

  const barsBefore = await count(db, 'bars');
  const dbBefore = await databaseSize(db);
  const archive = openLocalArchive(join(dir, 'archive'));
  const run = await timed(() => runRetention({ db, archive, clock: new ManualClock(NOW), retentionDays: RETENTION_DAYS, actor: 'bench' }));
  const dbAfter = await databaseSize(db);
  const result = run.result.partitions.find((p) => p.partition === 'ticks_y2025m07');
  if (result?.outcome !== 'dropped') return record(AREA, 'retention run', 'FAILED', `${result?.outcome ?? 'not due'}: ${result?.problems.join(' ') ?? ''}`);

  const read = await timed(async () => readTickArchive(archive, await loadTickManifest(archive, result.manifestKey ?? '')));
  const copyRate = ticks.length / copy.ms;
  const retentionRate = ticks.length / run.ms;
  const readRate = ticks.length / read.ms;
  record(AREA, 'retention: archive + verify + drop a month of ticks', formatRate(ticks.length, run.ms, 'ticks'),
    `${ticks.length.toLocaleString('en-US')} ticks in ${formatMs(run.ms)}; raw COPY of the same rows ${formatRate(ticks.length, copy.ms, 'ticks')} (retention ${(retentionRate / copyRate).toFixed(2)}x it); hyparquet read-back ${formatRate(ticks.length, read.ms, 'ticks')} (${(retentionRate / readRate).toFixed(2)}x it)`,
    against('raw COPY of the same rows (ticks/s)', retentionRate * 1000, copyRate * 1000));

  const identical = read.result.length === ticks.length && tickRowsChecksum(read.result) === tickRowsChecksum(ticks);
  const shrink = dbBefore - dbAfter;
  const kept = (await count(db, 'bars')) === barsBefore;
  record(AREA, 'store shrink after retention (2020-2025 bars + the month)', `${mb(shrink)} MB`,
    `pg_database_size ${mb(dbBefore)} -> ${mb(dbAfter)} MB; the partition occupied ${mb(result.storeBytes ?? 0)} MB (shrink ${((shrink / (result.storeBytes ?? 1)) * 100).toFixed(0)}% of it); Parquet archive ${mb(result.archiveBytes ?? 0)} MB; archive reads back ${identical ? 'identical rows' : 'DIFFERENT rows'}; bars ${kept ? 'kept' : 'CHANGED'}`);
}

/** The raw floor of writing these rows: one COPY (the same path the spool bench's reference uses). */
async function copyTicks(db: Db, ticks: readonly Tick[]): Promise<void> {
  const copyRows = db.copyRows?.bind(db);
  if (copyRows === undefined) throw new Error('the PostgreSQL driver has no COPY');
  const chunk = 100_000;
  for (let i = 0; i < ticks.length; i += chunk) {
    await copyRows('ticks', TICK_COLUMNS, ticks.slice(i, i + chunk).map((t) => [t.symbol, isoTime(t.time), t.price, t.bid, t.ask, isoTime(t.receivedAt), t.source]));
  }
}

async function count(db: Db, table: string): Promise<number> {
  const [row] = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
  return Number(row?.n ?? 0);
}

async function sizes(db: Db, tables: readonly string[]): Promise<number> {
  const [row] = await db.query<{ bytes: string }>('SELECT sum(pg_total_relation_size(t::regclass))::text AS bytes FROM unnest($1::text[]) AS t', [tables]);
  return Number(row?.bytes ?? 0);
}

async function databaseSize(db: Db): Promise<number> {
  const [row] = await db.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes');
  return Number(row?.bytes ?? 0);
}

const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
