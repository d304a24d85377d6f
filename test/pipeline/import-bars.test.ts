import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { importBarFile } from '../../src/pipeline/import-bars.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { sessionsBetween } from '../../src/store/sessions-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const calendar = new MarketCalendar();
const dir = mkdtempSync(join(tmpdir(), 'tasa-import-'));
const REAL_FILE = fileURLToPath(new URL('../../../shared/data/usdcop_m5_2020-01_2025-06.csv.gz', import.meta.url));
const HEADER = 'time,symbol,open,high,low,close,volume,source,created_at,updated_at';

function csvLine(iso: string, close: number, source = 'twelvedata'): string {
  const t = iso.replace('T', ' ').replace('Z', '+00:00');
  return `${t},USD/COP,${close},${close + 1},${close - 1},${close},0,${source},2025-10-10 23:36:55+00:00,2025-10-10 23:36:55+00:00`;
}

/** A session of `count` bars from `startIso`, 5 minutes apart. */
function sessionLines(startIso: string, count: number, price: number): string[] {
  const start = Date.parse(startIso);
  return Array.from({ length: count }, (_, i) => csvLine(new Date(start + i * 300_000).toISOString(), price + i));
}

function writeFile(name: string, lines: string[], gzip = false): string {
  const path = join(dir, name);
  const text = [HEADER, ...lines].join('\n') + '\n';
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

interface TableCounts {
  raw: number;
  bars: number;
  sessions: number;
  revisions: number;
}

async function tableCounts(db: Db): Promise<TableCounts> {
  const [row] = await db.query<TableCounts>(
    `select (select count(*)::int from raw_bars) as raw, (select count(*)::int from bars) as bars,
            (select count(*)::int from sessions) as sessions, (select coalesce(sum(revision), 0)::int from bars) as revisions`,
  );
  assert.ok(row);
  return row;
}

for (const target of databaseTargets()) {
  describe(`importBarFile on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('stores every row raw, standardizes, repairs a mislabelled session, and reports rejects by line', async () => {
      const path = writeFile('mixed.csv', [
        ...sessionLines('2024-01-02T13:00:00Z', 60, 3900), // complete, correctly labelled
        ...sessionLines('2024-01-03T08:00:00Z', 60, 3950), // only the mislabelled form: lines 62-121
        csvLine('2024-01-06T14:00:00Z', 3900), // Saturday
        csvLine('2024-01-02T20:00:00Z', 3900), // after the close
        '2024-01-04 13:00:00+00:00,USD/COP,3900,abc,3899,3901,0,twelvedata,x,y', // line 124
        '2024-01-04 13:05:00+00:00,USD/COP,3900,3899,3898,3901,0,twelvedata,x,y', // line 125: high < close
        '2024-13-04 13:10:00+00:00,USD/COP,3900,3905,3898,3901,0,twelvedata,x,y', // line 126: month 13
        ...sessionLines('2024-01-04T13:15:00Z', 3, 3900),
      ]);
      const s = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assert.equal(s.rowsRead, 128);
      assert.equal(s.storedRaw, 128);
      assert.deepEqual(
        s.rejected.map((r) => r.lineNo),
        [124, 125, 126],
      );
      assert.match(s.rejected[0]?.reason ?? '', /high "abc" is not a number/);
      assert.equal(s.standardize?.standardized, 123);
      assert.equal(s.standardize?.repaired, 60);
      assert.equal(s.standardize?.dropped.non_trading_day, 1);
      assert.equal(s.standardize?.dropped.off_session, 1);
      assert.deepEqual(s.bars, { inserted: 123, updated: 0, unchanged: 0 });

      const bars = await barsBetween(db, 'USD/COP', Date.parse('2024-01-01T00:00:00Z'), Date.parse('2024-01-08T00:00:00Z'));
      assert.equal(bars.length, 123);
      const jan3 = bars.filter((b) => b.time >= Date.parse('2024-01-03T00:00:00Z') && b.time < Date.parse('2024-01-04T00:00:00Z'));
      assert.equal(jan3[0]?.time, Date.parse('2024-01-03T13:00:00Z'));
      assert.ok(jan3.every((b) => b.flags.includes('repaired')));

      const sessions = await sessionsBetween(db, 'USD/COP', '2024-01-02', '2024-01-05');
      assert.deepEqual(
        sessions.map((q) => [q.date, q.present, q.status]),
        [
          ['2024-01-02', 60, 'complete'],
          ['2024-01-03', 60, 'complete'],
          ['2024-01-04', 3, 'partial'],
          ['2024-01-05', 0, 'missing'],
        ],
      );
      const repairs = await listAudit(db, { action: 'repair.bogota_wall_clock_as_utc', limit: 10 });
      assert.equal(repairs.length, 1);
      assert.equal(repairs[0]?.entity, 'bars:USD/COP:2024-01-03');
    });

    it('changes nothing when the same file is imported again, even under another name', async () => {
      const lines = sessionLines('2024-02-01T13:00:00Z', 30, 3800);
      const first = writeFile('again.csv', lines);
      await importBarFile(db, calendar, first, { symbol: 'USD/COP' });
      const before = await tableCounts(db);
      const copy = join(dir, 'again-copy.csv');
      writeFileSync(copy, readFileSync(first));
      const s = await importBarFile(db, calendar, copy, { symbol: 'USD/COP' });
      assert.equal(s.storedRaw, 0);
      assert.equal(s.alreadyImported, true);
      assert.deepEqual(s.bars, { inserted: 0, updated: 0, unchanged: 30 });
      assert.deepEqual(await tableCounts(db), before);
    });

    it('keeps the rows before the fault of a truncated gzip and loses nothing already stored', async () => {
      const before = await tableCounts(db);
      const full = gzipSync([HEADER, ...sessionLines('2024-03-01T13:00:00Z', 60, 3700)].join('\n') + '\n');
      const path = join(dir, 'cut.csv.gz');
      writeFileSync(path, full.subarray(0, Math.floor(full.length * 0.6)));
      const s = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assert.ok(s.fatal, 'the fault is reported');
      assert.match(s.fatal.reason, /gzip/);
      assert.ok(s.storedRaw > 0 && s.storedRaw < 60, `some rows kept (${s.storedRaw})`);
      const after = await tableCounts(db);
      assert.equal(after.raw, before.raw + s.storedRaw);
      assert.ok(after.bars >= before.bars);
    });

    it('rejects an unknown header with a clear error and stores nothing', async () => {
      const before = await tableCounts(db);
      const path = join(dir, 'weird.csv');
      writeFileSync(path, 'when,price\n2024-01-02,3900\n');
      await assert.rejects(importBarFile(db, calendar, path, { symbol: 'USD/COP' }), /weird\.csv/);
      assert.deepEqual(await tableCounts(db), before);
    });

    it('imports the real 2020-2025 file: no duplicate, nothing off-session or on a holiday, mislabelled sessions repaired', { skip: existsSync(REAL_FILE) ? false : 'shared data file absent', timeout: 180_000 }, async () => {
      const s = await importBarFile(db, calendar, REAL_FILE, { symbol: 'USD/COP' });
      assert.equal(s.rowsRead, 82_842);
      assert.equal(s.rejected.length, 0);
      assert.equal(s.fatal, null);
      assert.ok((s.standardize?.repaired ?? 0) > 700, `repaired ${s.standardize?.repaired}`);
      const [dup] = await db.query<{ n: number }>(`select count(*)::int as n from (select symbol, time from bars group by 1, 2 having count(*) > 1) d`);
      assert.equal(dup?.n, 0);
      const [offHours] = await db.query<{ n: number }>(
        `select count(*)::int as n from bars where (time at time zone 'UTC')::time < '13:00' or (time at time zone 'UTC')::time > '17:55'`,
      );
      assert.equal(offHours?.n, 0);
      const days = await db.query<{ d: string }>(`select distinct (time at time zone 'America/Bogota')::date::text as d from bars`);
      const closed = days.map((r) => r.d).filter((d) => !calendar.isTradingDay(d));
      assert.deepEqual(closed, []);
      // 2023-07-24 exists in the file only as Bogota wall-clock times labelled UTC (plus one correct bar).
      const repairedDay = await sessionsBetween(db, 'USD/COP', '2023-07-24', '2023-07-24');
      assert.equal(repairedDay[0]?.present, 60);
      assert.equal(repairedDay[0]?.repaired, 59);
    });
  });
}
