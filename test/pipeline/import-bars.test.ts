import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { summaryLine } from '../../src/cli/actions/import-actions.ts';
import { MAX_LINE_CHARS } from '../../src/feeds/files/bar-file.ts';
import { importBarFile, type ImportSummary } from '../../src/pipeline/import-bars.ts';
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

/** rows read = kept + dropped + rejected, each by reason; and the rejects listed are the ones counted. */
function assertCountsAddUp(s: ImportSummary): void {
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  const r = s.rows;
  assert.equal(r.read, s.rowsRead);
  assert.equal(r.kept + sum(r.dropped) + sum(r.rejected), r.read, JSON.stringify(r));
  assert.equal(sum(r.rejected), s.rejected.length);
  assert.ok(r.repaired <= r.kept);
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
      assertCountsAddUp(s);
      assert.deepEqual(s.rows.rejected, { bad_price: 1, ohlc_integrity: 1, bad_time: 1 });

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

    it('counts only its own rows when another file holds rows of the same days', async () => {
      const first = writeFile('weekend-and-session.csv', [
        ...sessionLines('2024-04-02T13:00:00Z', 60, 3900),
        ...sessionLines('2024-04-06T13:00:00Z', 5, 3900), // Saturday
      ]);
      assertCountsAddUp(await importBarFile(db, calendar, first, { symbol: 'USD/COP' }));
      const second = writeFile('three-rows.csv', [csvLine('2024-04-02T18:00:00Z', 3950), csvLine('2024-04-06T14:00:00Z', 3950), csvLine('2024-04-03T13:00:00Z', 3950)]);
      const s = await importBarFile(db, calendar, second, { symbol: 'USD/COP' });
      assertCountsAddUp(s);
      assert.deepEqual(
        { read: s.rows.read, kept: s.rows.kept, offSession: s.rows.dropped.off_session, weekend: s.rows.dropped.non_trading_day },
        { read: 3, kept: 1, offSession: 1, weekend: 1 },
      );
      assert.match(summaryLine(s), /^three-rows\.csv: rows read 3 = kept 1 \(repaired 0\) \+ dropped 2 \(non-trading-day 1, off-session 1\) \+ rejected 0 \|/);
    });

    it('rejects a price outside the symbol\'s band with its line, and stores no bar for it', async () => {
      const path = writeFile('band.csv', [
        ...sessionLines('2024-04-09T13:00:00Z', 3, 3900),
        '2024-04-09 13:15:00+00:00,USD/COP,1e+23,1e+23,1e+23,1e+23,0,twelvedata,x,y', // line 5
        '2024-04-09 13:20:00+00:00,USD/COP,0.00025,0.00025,0.00025,0.00025,0,twelvedata,x,y', // line 6: COP per USD inverted
        ...sessionLines('2024-04-09T13:25:00Z', 2, 3900),
      ]);
      const s = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assertCountsAddUp(s);
      assert.deepEqual(s.rejected.map((r) => [r.lineNo, r.code]), [[5, 'price_out_of_band'], [6, 'price_out_of_band']]);
      assert.equal(s.rejected[0]?.reason, 'price_out_of_band: open 1e+23 is outside the plausible band of USD/COP, 1,000-10,000');
      assert.equal(s.rows.kept, 5);
      const bars = await barsBetween(db, 'USD/COP', Date.parse('2024-04-09T00:00:00Z'), Date.parse('2024-04-10T00:00:00Z'));
      assert.ok(bars.every((b) => b.high < 10_000), 'no out-of-band price reached L1');
      assert.equal(bars.length, 5);
    });

    it('rejects a conflicting duplicate naming the kept row\'s line, and drops an identical one as a duplicate', async () => {
      const path = writeFile('dupes.csv', [
        csvLine('2024-04-10T13:00:00Z', 3900), // line 2: kept
        csvLine('2024-04-10T13:05:00Z', 3901), // line 3: kept
        csvLine('2024-04-10T13:00:00Z', 3900), // line 4: identical repeat of line 2
        csvLine('2024-04-10T13:05:00Z', 3911), // line 5: same slot as line 3, other prices
      ]);
      const s = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assertCountsAddUp(s);
      assert.equal(s.rows.dropped.duplicate, 1);
      assert.deepEqual(s.rejected.map((r) => [r.lineNo, r.code]), [[5, 'conflicting_duplicate']]);
      assert.equal(
        s.rejected[0]?.reason,
        'conflicting_duplicate: slot 2024-04-10T13:05:00.000Z is held by line 3 (OHLC 3901/3902/3900/3901 vol 0); this row has 3911/3912/3910/3911 vol 0',
      );
      const bars = await barsBetween(db, 'USD/COP', Date.parse('2024-04-10T13:05:00Z'), Date.parse('2024-04-10T13:10:00Z'));
      assert.equal(bars[0]?.close, 3901);
    });

    it('skips a line longer than the limit with its line number and keeps the rows around it', async () => {
      const long = `2024-04-11 13:05:00+00:00,USD/COP,${'9'.repeat(MAX_LINE_CHARS)},1,1,1,0,twelvedata,x,y`;
      const path = writeFile('long-line.csv', [csvLine('2024-04-11T13:00:00Z', 3900), long, csvLine('2024-04-11T13:10:00Z', 3900)]);
      const s = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assertCountsAddUp(s);
      assert.deepEqual(s.rejected.map((r) => [r.lineNo, r.code]), [[3, 'line_too_long']]);
      assert.match(s.rejected[0]?.reason ?? '', /^line is longer than 64 KiB \(65,\d{3} characters\)/);
      assert.equal(s.rows.kept, 2);
    });

    it('repairs a mislabelled session that shares its date with overnight rows, and audits it', async () => {
      const path = writeFile('wall-clock-with-overnight.csv', [
        ...sessionLines('2024-04-16T00:00:00Z', 36, 3880), // 00:00-02:55Z overnight quotes
        ...sessionLines('2024-04-16T08:00:00Z', 60, 3900), // the session in Bogota wall-clock time labelled UTC
        ...sessionLines('2024-04-16T19:00:00Z', 60, 3920), // 19:00-23:55Z
      ]);
      const s = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assertCountsAddUp(s);
      assert.deepEqual({ kept: s.rows.kept, repaired: s.rows.repaired, offSession: s.rows.dropped.off_session }, { kept: 60, repaired: 60, offSession: 96 });
      const sessions = await sessionsBetween(db, 'USD/COP', '2024-04-16', '2024-04-16');
      assert.deepEqual(sessions.map((q) => [q.present, q.repaired, q.status]), [[60, 60, 'complete']]);
      const repairs = await listAudit(db, { action: 'repair.bogota_wall_clock_as_utc', entity: 'bars:USD/COP:2024-04-16', limit: 10 });
      assert.equal(repairs.length, 1);
      assert.deepEqual(repairs[0]?.details, { date: '2024-04-16', shiftedBars: 60, droppedCopies: 0, evidence: 'session_shape' });
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
      assertCountsAddUp(s);
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
