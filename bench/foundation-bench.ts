/**
 * Foundation figures: reading and standardizing the real 2020-2025 file, importing it into the
 * embedded store (PGlite on disk) and into PostgreSQL, and reading 5.5 years back out.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
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
import { openScratchPostgres, type ScratchPostgres } from '../test/support/test-db.ts';
import { against, bestOf, formatMs, formatRate, record, timed } from './harness.ts';

export const REAL_FILE = fileURLToPath(new URL('../../shared/data/usdcop_m5_2020-01_2025-06.csv.gz', import.meta.url));
/** The built CLI runs when current (the cli bench builds it first); otherwise bin/tasa.js falls back to tsx. */
const BIN = fileURLToPath(new URL('../bin/tasa.js', import.meta.url));
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
  const files = importFiles(dir);
  try {
    const embedded = await openDb({ dataDir: join(dir, 'store') });
    await benchStore('embedded (PGlite, disk)', embedded, calendar);
    await benchMigrateCurrent('embedded (PGlite, disk)', embedded);
    await embedded.close();
    await benchCliBars({ TASA_DATA_DIR: join(dir, 'store') }, 'embedded');
    await benchImportRss('embedded', files, (name) => ({ TASA_DATA_DIR: join(dir, `rss-${name}`) }));
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
    await benchMigrateCurrent('PostgreSQL 15', scratch.db);
    await benchCliBars({ DATABASE_URL: scratch.url }, 'PostgreSQL');
  } finally {
    await scratch.db.close();
  }
  const rssFiles = importFiles(mkdtempSync(join(tmpdir(), 'tasa-bench-')));
  try {
    const stores: ScratchPostgres[] = [];
    await benchImportRss('PostgreSQL', rssFiles, async () => {
      const store = await openScratchPostgres(url);
      stores.push(store);
      return { DATABASE_URL: store.url };
    });
    for (const store of stores) await store.db.close();
  } finally {
    rmSync(rssFiles.dir, { recursive: true, force: true });
  }
}

interface ImportFiles {
  dir: string;
  /** Another valid row, imported first (not measured) so that each measured import opens an existing store. */
  seed: string;
  /** One valid row: the process's RSS with the store open and the import code loaded. */
  tiny: string;
  real: string;
  /** The real file's rows four times, each copy 8 years later (leap days stay valid), gzipped. */
  fourfold: string;
}

function importFiles(dir: string): ImportFiles {
  const text = gunzipSync(readFileSync(REAL_FILE)).toString('utf8');
  const [header, ...rows] = text.split('\n').filter((l) => l !== '');
  const shifted = (years: number) => rows.map((r) => `${Number(r.slice(0, 4)) + years}${r.slice(4)}`);
  const tiny = join(dir, 'tiny.csv');
  writeFileSync(tiny, `${header}\n${rows[0]}\n`);
  const seed = join(dir, 'seed.csv');
  writeFileSync(seed, `${header}\n${rows[1]}\n`);
  const fourfold = join(dir, 'fourfold.csv.gz');
  writeFileSync(fourfold, gzipSync([header, ...shifted(0), ...shifted(8), ...shifted(16), ...shifted(24)].join('\n') + '\n'));
  return { dir, seed, tiny, real: REAL_FILE, fourfold };
}

/** Prints the process's peak RSS (kB) on stderr as it exits. */
const PRINT_MAX_RSS = 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nMAXRSS "+process.resourceUsage().maxRSS+"\\n"))';

/**
 * Peak RSS of `tasa import` (the built CLI, as a user runs it) as a whole process, for the real
 * file and the 4x file, each into its own existing store (made by a one-row import first: creating
 * an embedded store costs more memory than any import, and only once), against the same command
 * importing one row (the store and code alone).
 */
async function benchImportRss(label: string, files: ImportFiles, store: (name: string) => Record<string, string> | Promise<Record<string, string>>): Promise<void> {
  const peak = async (name: string, file: string) => {
    const env = await store(name);
    await cliImportPeak(files.seed, env);
    return cliImportPeak(file, env);
  };
  const base = await peak('tiny', files.tiny);
  const one = await peak('real', files.real);
  const four = await peak('fourfold', files.fourfold);
  const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
  record('import', `${label}: \`tasa import\` peak RSS, real file`, mb(one.kb), `${formatMs(one.ms)} whole process; one-row import ${mb(base.kb)}`, against('one-row import', one.kb, base.kb));
  record('import', `${label}: \`tasa import\` peak RSS, 4x the file`, mb(four.kb), `${formatMs(four.ms)} whole process; real file ${mb(one.kb)}`, against('real file', four.kb, one.kb));
}

async function cliImportPeak(file: string, env: Record<string, string>): Promise<{ kb: number; ms: number }> {
  const run = promisify(execFile);
  const args = ['--import', PRINT_MAX_RSS, BIN, 'import', file];
  const cleanEnv: Record<string, string | undefined> = { ...process.env, TASA_LOG_LEVEL: 'silent', ...env };
  if (!('DATABASE_URL' in env)) delete cleanEnv['DATABASE_URL'];
  const { ms, result } = await timed(() => run(process.execPath, args, { env: cleanEnv, maxBuffer: 64 * 1024 * 1024 }));
  const kb = Number(/MAXRSS (\d+)/.exec(result.stderr)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`tasa import printed no peak RSS: ${result.stderr.slice(-500)}`);
  return { kb, ms };
}

/** `migrate` on a store that is current: what every command pays to open it. */
async function benchMigrateCurrent(label: string, db: Db): Promise<void> {
  const query = await bestOf(5, () => db.query('SELECT 1'));
  const ms = await bestOf(5, () => migrate(db));
  record('store', `${label}: migrate, schema current`, formatMs(ms), 'applied versions read in one query, files checked by checksum', against('SELECT 1', ms, query));
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
  const skipped = again.result.unchangedSince === null ? 'not skipped' : 'skipped as unchanged';
  record('import', `${label}: same file again (no change)`, formatMs(again.ms), `${skipped}; first import ${formatMs(first.ms)}`, against('first import', again.ms, first.ms));
  const forced = await timed(() => importBarFile(db, calendar, REAL_FILE, { symbol: 'USD/COP', force: true }));
  record('import', `${label}: same file again, --force`, formatMs(forced.ms), formatRate(rows, forced.ms, 'rows'), against('first import', forced.ms, first.ms));
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
  const args = [BIN, 'bars', '--from', '2020-01-01', '--to', '2025-06-30', '--format', 'csv'];
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
