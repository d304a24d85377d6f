/**
 * Foundation figures: reading and standardizing the real 2020-2025 file, importing it into the
 * embedded store (PGlite on disk) and into PostgreSQL, and reading 5.5 years back out.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRowWriter } from '../src/cli/output.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { parseRawBar, type ParsedRawBar } from '../src/domain/raw-bar.ts';
import { standardizeBars } from '../src/domain/standardize.ts';
import { openBarFile } from '../src/feeds/files/bar-file.ts';
import { importBarFile } from '../src/pipeline/import-bars.ts';
import { streamBars } from '../src/store/bars-repo.ts';
import type { Db } from '../src/store/db.ts';
import { openDb } from '../src/store/open-db.ts';
import { migrate } from '../src/store/migrate.ts';
import { openScratchPostgres } from '../test/support/test-db.ts';
import { bestOf, formatMs, formatRate, record, timed } from './harness.ts';

export const REAL_FILE = fileURLToPath(new URL('../../shared/data/usdcop_m5_2020-01_2025-06.csv.gz', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const FROM = Date.parse('2020-01-01T00:00:00Z');
const TO = Date.parse('2025-07-01T00:00:00Z');

export async function benchFoundation(): Promise<void> {
  if (!existsSync(REAL_FILE)) {
    record('import', 'all figures', 'skipped', `${REAL_FILE} is absent`);
    return;
  }
  const calendar = new MarketCalendar();
  const parsed = await benchReadAndParse();
  benchStandardize(parsed, calendar);
  benchCalendar(calendar);

  const dir = mkdtempSync(join(tmpdir(), 'tasa-bench-'));
  try {
    const embedded = await openDb({ dataDir: dir });
    await benchStore('embedded (PGlite, disk)', embedded, calendar);
    await embedded.close();
    await benchCliBars({ TASA_DATA_DIR: dir }, 'embedded');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const url = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];
  if (!url) {
    record('import', 'PostgreSQL', 'skipped', 'set BENCH_DATABASE_URL or TEST_DATABASE_URL');
    return;
  }
  const scratch = await openScratchPostgres(url);
  try {
    await benchStore('PostgreSQL 15', scratch.db, calendar);
    await benchCliBars({ DATABASE_URL: scratch.url }, 'PostgreSQL');
  } finally {
    await scratch.db.close();
  }
}

async function benchReadAndParse(): Promise<ParsedRawBar[]> {
  const { ms, result } = await timed(async () => {
    const reader = await openBarFile(REAL_FILE);
    const rows: ParsedRawBar[] = [];
    for await (const chunk of reader) {
      for (const rec of chunk.records) {
        const r = parseRawBar(rec, 'USD/COP');
        if (r.ok) rows.push(r.bar);
      }
    }
    return rows;
  });
  record('import', 'read + parse real file (gzip CSV)', formatRate(result.length, ms, 'rows'), `${result.length} rows in ${formatMs(ms)}`);
  return result;
}

function benchStandardize(rows: ParsedRawBar[], calendar: MarketCalendar): void {
  let out = 0;
  const ms = bestOfSync(5, () => {
    out = standardizeBars(rows, 'USD/COP', calendar).bars.length;
  });
  record('import', 'standardize L0 → L1 (pure)', formatRate(rows.length, ms, 'rows'), `${rows.length} → ${out} bars in ${formatMs(ms)}`);
}

function benchCalendar(calendar: MarketCalendar): void {
  const start = Date.parse('2020-01-01T00:00:00Z');
  const n = 1_000_000;
  const ms = bestOfSync(3, () => {
    for (let i = 0; i < n; i++) calendar.isMarketOpen(start + i * 60_000);
  });
  record('calendar', 'isMarketOpen', formatRate(n, ms, 'calls'), 'minute steps over 1.9 years');
}

async function benchStore(label: string, db: Db, calendar: MarketCalendar): Promise<void> {
  await migrate(db);
  const first = await timed(() => importBarFile(db, calendar, REAL_FILE, { symbol: 'USD/COP' }));
  const rows = first.result.rowsRead;
  record('import', `${label}: whole file, first import`, formatMs(first.ms), `${formatRate(rows, first.ms, 'rows')}; L0 + L1 + sessions + audit`);
  const again = await timed(() => importBarFile(db, calendar, REAL_FILE, { symbol: 'USD/COP' }));
  record('import', `${label}: same file again (no change)`, formatMs(again.ms), formatRate(rows, again.ms, 'rows'));
  let count = 0;
  const ms = await bestOf(3, async () => {
    const writer = createRowWriter('csv', [{ key: 'time' }, { key: 'close' }], nullSink());
    count = 0;
    for await (const page of streamBars(db, 'USD/COP', FROM, TO, 10_000)) {
      count += page.length;
      await writer.write(page.map((b) => ({ time: new Date(b.time).toISOString(), close: b.close })));
    }
    await writer.end();
  });
  record('query', `${label}: stream 5.5 years of bars`, formatMs(ms), `${count} bars, ${formatRate(count, ms, 'bars')}`);
}

async function benchCliBars(env: Record<string, string>, label: string): Promise<void> {
  const run = promisify(execFile);
  const args = ['--import', 'tsx', MAIN, 'bars', '--from', '2020-01-01', '--to', '2025-06-30', '--format', 'csv'];
  const cleanEnv: Record<string, string | undefined> = { ...process.env, TASA_LOG_LEVEL: 'silent', ...env };
  if (!('DATABASE_URL' in env)) delete cleanEnv['DATABASE_URL'];
  const { ms, result } = await timed(() => run(process.execPath, args, { env: cleanEnv, maxBuffer: 64 * 1024 * 1024 }));
  const lines = result.stdout.split('\n').length - 2;
  record('query', `\`tasa bars\` 2020-01-01..2025-06-30, ${label}`, formatMs(ms), `${lines} rows as CSV, whole process incl. start-up`);
}

function bestOfSync(runs: number, fn: () => void): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

function nullSink(): Writable {
  return new Writable({ write: (_chunk, _enc, done) => done() });
}
