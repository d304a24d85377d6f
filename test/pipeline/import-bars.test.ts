import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { systemClock, type Clock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { summaryLine } from '../../src/cli/actions/import-actions.ts';
import { MAX_LINE_CHARS } from '../../src/feeds/files/bar-file.ts';
import { importBarFile, type ImportSummary } from '../../src/pipeline/import-bars.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { parseRawBar, type ParsedRawBar } from '../../src/domain/raw-bar.ts';
import { standardizeBars } from '../../src/domain/standardize.ts';
import { barsBetween, upsertBars } from '../../src/store/bars-repo.ts';
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

/** The whole file's valid rows, parsed as the import parses them (line 1 is the header). */
function parsedRows(path: string, lines: readonly string[]): ParsedRawBar[] {
  const rows: ParsedRawBar[] = [];
  lines.forEach((raw, i) => {
    const f = raw.split(',');
    if (f.length !== 10) return;
    const record = { lineNo: i + 2, raw, time: f[0]!, open: f[2]!, high: f[3]!, low: f[4]!, close: f[5]!, volume: f[6]!, symbol: f[1]!, sourceLabel: f[7]! };
    const parsed = parseRawBar(record, 'USD/COP');
    if (parsed.ok) rows.push(parsed.bar);
  });
  assert.ok(readFileSync(path, 'utf8').startsWith(HEADER));
  return rows;
}

function barKey(b: { time: number; open: number; high: number; low: number; close: number; flags: readonly string[] }): string {
  return `${new Date(b.time).toISOString()} ${b.open}/${b.high}/${b.low}/${b.close} ${[...b.flags].sort().join('|')}`;
}

function fixedClock(iso: string): Clock {
  return { ...systemClock, now: () => Date.parse(iso) };
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

    it('imports a file in many small batches to the bars of standardizing it whole, sessions unsplit and bad lines kept out by line', async () => {
      const lines = [
        ...sessionLines('2023-05-02T13:00:00Z', 60, 3900), // complete session
        ...sessionLines('2023-05-03T08:00:00Z', 60, 3950), // mislabelled session: needs its whole day to be recognised
        ...sessionLines('2023-05-03T13:00:00Z', 60, 3950), // and its correct twin, same UTC day
        csvLine('2023-05-06T14:00:00Z', 3900), // Saturday
        ...sessionLines('2023-05-04T13:00:00Z', 30, 3800),
        csvLine('2023-05-04T13:00:00Z', 3810), // line 215: conflicting duplicate of line 185
      ];
      const bad = '2023-05-05 13:00:00+00:00,USD/COP,3900,abc,3899,3901,0,twelvedata,x,y';
      lines.splice(6, 0, bad); // line 8: the last row of the first 7-row batch
      lines.splice(14, 0, bad); // line 16: the first row of the third batch
      const path = writeFile('batched.csv', lines);
      const s = await importBarFile(db, calendar, path, { symbol: 'USD/COP', chunkSize: 7 });
      assertCountsAddUp(s);
      assert.deepEqual(s.rejected.map((r) => [r.lineNo, r.code]), [[8, 'bad_price'], [16, 'bad_price'], [215, 'conflicting_duplicate']]);
      const whole = standardizeBars(parsedRows(path, lines), 'USD/COP', calendar);
      assert.deepEqual(s.standardize, whole.counts);
      assert.deepEqual(s.repairs, whole.repairs);
      assert.equal(s.standardize?.repaired, 0, 'the twin exists for every mislabelled bar');
      assert.equal(s.standardize?.dropped.mislabelled_duplicate, 60);
      const stored = await barsBetween(db, 'USD/COP', Date.parse('2023-05-01T00:00:00Z'), Date.parse('2023-05-08T00:00:00Z'));
      assert.deepEqual(stored.map(barKey), whole.bars.map(barKey));
    });

    it('gives the same result for a file whose days come back after later days, across batches', async () => {
      const monday = sessionLines('2023-06-05T13:00:00Z', 60, 3900);
      const tuesday = sessionLines('2023-06-06T08:00:00Z', 60, 3950); // mislabelled only
      // Monday's second half and Tuesday's first rows come after other days' rows, several batches later.
      const lines = [...monday.slice(0, 30), ...tuesday.slice(0, 3), ...sessionLines('2023-06-07T13:00:00Z', 20, 3700), ...monday.slice(20, 60), ...tuesday.slice(3)];
      const path = writeFile('unsorted.csv', lines);
      const s = await importBarFile(db, calendar, path, { symbol: 'USD/COP', chunkSize: 8 });
      assertCountsAddUp(s);
      const whole = standardizeBars(parsedRows(path, lines), 'USD/COP', calendar);
      assert.deepEqual(s.standardize, whole.counts);
      assert.deepEqual(s.repairs, whole.repairs);
      assert.deepEqual({ kept: s.rows.kept, repaired: s.rows.repaired, duplicate: s.rows.dropped.duplicate }, { kept: 140, repaired: 60, duplicate: 10 });
      const stored = await barsBetween(db, 'USD/COP', Date.parse('2023-06-05T00:00:00Z'), Date.parse('2023-06-08T00:00:00Z'));
      assert.deepEqual(stored.map(barKey), whole.bars.map(barKey));
      assert.equal(s.bars.inserted, whole.bars.length);
    });

    it('skips an unchanged re-import and says since when; --force does the work again', async () => {
      const path = writeFile('skip.csv', [...sessionLines('2023-07-04T13:00:00Z', 40, 3900), 'not,a,row']);
      const first = await importBarFile(db, calendar, path, { symbol: 'USD/COP', clock: fixedClock('2026-01-05T10:00:00Z') });
      assert.equal(first.unchangedSince, null);
      const before = await tableCounts(db);
      const again = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assert.equal(again.unchangedSince, '2026-01-05T10:00:00.000Z');
      assert.deepEqual({ ...again, unchangedSince: null, alreadyImported: false }, { ...first, alreadyImported: false, storedRaw: 0, bars: { inserted: 0, updated: 0, unchanged: 40 }, sessionsRefreshed: 0 });
      assert.match(summaryLine(again), /unchanged since import of 2026-01-05T10:00:00\.000Z, nothing done \(--force to redo\)/);
      assert.deepEqual(await tableCounts(db), before);
      const [audit] = await listAudit(db, { action: 'import.unchanged', entity: 'file:skip.csv', limit: 1 });
      assert.equal(audit?.details['unchangedSince'], '2026-01-05T10:00:00.000Z');
      const forced = await importBarFile(db, calendar, path, { symbol: 'USD/COP', force: true });
      assert.equal(forced.unchangedSince, null);
      assert.equal(forced.alreadyImported, true);
      assert.deepEqual(forced.bars, { inserted: 0, updated: 0, unchanged: 40 });
      const otherZone = await importBarFile(db, calendar, path, { symbol: 'USD/COP', timezone: 'America/Bogota' });
      assert.equal(otherZone.unchangedSince, null, 'another zone is another import');
    });

    it('does the work again when the stored bars of the file\'s days changed since its import', async () => {
      const path = writeFile('changed.csv', sessionLines('2023-08-01T13:00:00Z', 20, 3900));
      await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      const [bar] = await barsBetween(db, 'USD/COP', Date.parse('2023-08-01T13:00:00Z'), Date.parse('2023-08-01T13:05:00Z'));
      assert.ok(bar);
      assert.equal((await upsertBars(db, [{ ...bar, close: bar.close + 0.5, high: bar.high + 0.5, revision: bar.revision + 1 }])).updated, 1);
      const again = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assert.equal(again.unchangedSince, null);
      assert.equal(again.bars.inserted + again.bars.updated + again.bars.unchanged, 20);
      const other = writeFile('other-rows.csv', [csvLine('2023-08-01T15:00:00Z', 3999)]);
      await importBarFile(db, calendar, other, { symbol: 'USD/COP' });
      const third = await importBarFile(db, calendar, path, { symbol: 'USD/COP' });
      assert.equal(third.unchangedSince, null, 'another file added raw rows on its days');
      assert.equal((await importBarFile(db, calendar, path, { symbol: 'USD/COP' })).unchangedSince !== null, true);
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
