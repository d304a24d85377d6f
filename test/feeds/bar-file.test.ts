import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import type { RawBarRecord } from '../../src/domain/raw-bar.ts';
import { TasaError } from '../../src/errors.ts';
import { MAX_LINE_CHARS, openBarFile, type BarFileChunk, type BarFileProblem, type BarFileReader } from '../../src/feeds/files/bar-file.ts';
import { fileSha256 } from '../../src/feeds/files/text-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'tasa-bar-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SHARED_HEADER = 'time,symbol,open,high,low,close,volume,source,created_at,updated_at';
const REAL_FILE = fileURLToPath(new URL('../../../shared/data/usdcop_m5_2020-01_2025-06.csv.gz', import.meta.url));
const REAL_FILE_SHA256 = '9dcbcd33ecce95df5bf6a06889267fdac41fd293d93b01138f042c570906d56c';

function fixture(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Rows in the shared layout, 5 minutes apart from 2020-01-02 13:00 UTC, with prices that vary (so gzip has work to do). */
function sharedRows(count: number): string[] {
  const rows: string[] = [];
  let price = 3288;
  let seed = 7;
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    price += ((seed % 2001) - 1000) / 100;
    const time = new Date(Date.UTC(2020, 0, 2, 13) + i * 300_000).toISOString().replace('T', ' ').replace('.000Z', '+00:00');
    const [o, h, l, c] = [price, price + 2.5, price - 3.25, price + 1].map((p) => p.toFixed(5));
    rows.push(`${time},USD/COP,${o},${h},${l},${c},0,twelvedata_backfill,2026-01-09 02:20:30.662327+00:00,2026-01-09 02:20:30.662327+00:00`);
  }
  return rows;
}

function sharedCsv(count: number): string {
  return [SHARED_HEADER, ...sharedRows(count)].join('\n') + '\n';
}

interface ReadResult {
  reader: BarFileReader;
  chunks: BarFileChunk[];
  records: RawBarRecord[];
  problems: BarFileProblem[];
}

async function readAll(path: string, opts: Parameters<typeof openBarFile>[1] = {}): Promise<ReadResult> {
  const reader = await openBarFile(path, opts);
  const chunks: BarFileChunk[] = [];
  for await (const chunk of reader) chunks.push(chunk);
  return { reader, chunks, records: chunks.flatMap((c) => c.records), problems: chunks.flatMap((c) => c.problems) };
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Asserts that opening `path` fails with unreadable_file and a message naming the file and matching `pattern`. */
async function assertUnreadable(path: string, pattern: RegExp): Promise<TasaError> {
  let caught: unknown;
  try {
    await openBarFile(path);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof TasaError, `expected a TasaError, got ${String(caught)}`);
  assert.equal(caught.code, 'unreadable_file');
  assert.ok(caught.message.includes(path), `message should name the file: ${caught.message}`);
  assert.match(caught.message, pattern);
  return caught;
}

describe('openBarFile: shared CSV layout', () => {
  it('reads every row into records with line numbers, raw text and the right fields', async () => {
    const text = sharedCsv(7);
    const path = fixture('plain.csv', text);
    const { reader, records, problems, chunks } = await readAll(path, { chunkSize: 3 });
    assert.deepEqual(reader.info, { name: 'plain.csv', sizeBytes: Buffer.byteLength(text), format: 'csv', compressed: false, defaultZone: 'UTC' });
    assert.equal(records.length, 7);
    assert.deepEqual(problems, []);
    assert.deepEqual(chunks.map((c) => c.records.length), [3, 3, 1]);
    assert.equal(chunks.at(-1)?.bytesRead, Buffer.byteLength(text));
    const lines = text.split('\n');
    assert.deepEqual(records[0], {
      lineNo: 2,
      raw: lines[1],
      time: '2020-01-02 13:00:00+00:00',
      open: lines[1]!.split(',')[2],
      high: lines[1]!.split(',')[3],
      low: lines[1]!.split(',')[4],
      close: lines[1]!.split(',')[5],
      volume: '0',
      symbol: 'USD/COP',
      sourceLabel: 'twelvedata_backfill',
    });
    assert.deepEqual(records.map((r) => r.lineNo), [2, 3, 4, 5, 6, 7, 8]);
    assert.equal(reader.sha256(), sha256Of(path));
    assert.equal(reader.fatal(), null);
  });

  it('detects gzip by its magic bytes, even under a .csv name, and reads the same records', async () => {
    const text = sharedCsv(50);
    const plain = await readAll(fixture('same.csv', text));
    const path = fixture('gzipped-but-named.csv', gzipSync(text));
    const gz = await readAll(path);
    assert.equal(gz.reader.info.compressed, true);
    assert.equal(gz.reader.info.format, 'csv');
    assert.deepEqual(gz.records, plain.records);
    assert.equal(gz.reader.sha256(), sha256Of(path));
    assert.equal(gz.chunks.at(-1)?.bytesRead, readFileSync(path).length);
  });

  it('handles CRLF line ends, a UTF-8 BOM and a last line without a newline', async () => {
    const rows = sharedRows(3);
    const path = fixture('crlf.csv', '\uFEFF' + [SHARED_HEADER, ...rows].join('\r\n'));
    const { records, problems } = await readAll(path);
    assert.deepEqual(problems, []);
    assert.deepEqual(records.map((r) => r.raw), rows);
    assert.ok(records.every((r) => !r.raw.includes('\r') && !r.time.startsWith('\uFEFF')));
  });

  it('unquotes RFC 4180 quoted fields and reports a quote left open without losing the rows after it', async () => {
    const lines = [
      SHARED_HEADER,
      '"2020-01-02 13:00:00+00:00","USD/COP","3288.0",3289,3287,3288.5,0,"twelvedata ""gap"", fill",x,y',
      '2020-01-02 13:05:00+00:00,USD/COP,"3288.5,1",3289,3287,3288.5,0,"twelvedata,x,y',
      '2020-01-02 13:10:00+00:00,USD/COP,3288.5,3289,3287,3288.5,0,twelvedata,x,y',
    ];
    const { records, problems } = await readAll(fixture('quoted.csv', lines.join('\n')));
    assert.equal(records.length, 2);
    assert.deepEqual(
      { time: records[0]?.time, open: records[0]?.open, source: records[0]?.sourceLabel, raw: records[0]?.raw },
      { time: '2020-01-02 13:00:00+00:00', open: '3288.0', source: 'twelvedata "gap", fill', raw: lines[1] },
    );
    assert.equal(records[1]?.lineNo, 4);
    assert.deepEqual(problems, [{ lineNo: 3, code: 'malformed_row', reason: 'a quoted field is not closed on its line' }]);
  });

  it('reports a truncated last line as a problem', async () => {
    const rows = sharedRows(3);
    const cut = rows[2]!.split(',').slice(0, 7).join(',');
    const { records, problems, reader } = await readAll(fixture('truncated.csv', [SHARED_HEADER, rows[0], rows[1], cut].join('\n')));
    assert.equal(records.length, 2);
    assert.deepEqual(problems, [{ lineNo: 4, code: 'malformed_row', reason: 'expected 10 fields, found 7' }]);
    assert.equal(reader.fatal(), null);
  });

  it('keeps line numbers across blank lines and keeps the valid rows after a bad one', async () => {
    const rows = sharedRows(4);
    const blankTime = ',' + rows[3]!.split(',').slice(1).join(',');
    const text = [SHARED_HEADER, rows[0], '', rows[1]!.split(',').slice(0, 5).join(','), '   ', rows[2], blankTime, rows[3], '', ''].join('\n');
    const { records, problems } = await readAll(fixture('middle.csv', text));
    assert.deepEqual(records.map((r) => [r.lineNo, r.raw]), [[2, rows[0]], [6, rows[2]], [8, rows[3]]]);
    assert.deepEqual(problems, [
      { lineNo: 4, code: 'malformed_row', reason: 'expected 10 fields, found 5' },
      { lineNo: 7, code: 'malformed_row', reason: 'time is blank' },
    ]);
  });

  it('matches header names case-insensitively and trimmed, and ignores other columns', async () => {
    const path = fixture('loose-header.csv', ' Date ;OPEN;High;  low;Close;Extra\n2024-04-15 09:00:00;4000;4001;3999;4000.5;zzz\n');
    const { records, reader } = await readAll(path);
    assert.equal(reader.info.format, 'twelvedata-csv');
    assert.deepEqual(records[0], {
      lineNo: 2,
      raw: '2024-04-15 09:00:00;4000;4001;3999;4000.5;zzz',
      time: '2024-04-15 09:00:00',
      open: '4000',
      high: '4001',
      low: '3999',
      close: '4000.5',
      volume: null,
      symbol: null,
      sourceLabel: null,
    });
  });

  it('can be read again, and knows its sha256 only once read', async () => {
    const path = fixture('twice.csv', sharedCsv(5));
    const reader = await openBarFile(path);
    assert.throws(() => reader.sha256(), (err: unknown) => err instanceof TasaError && err.code === 'internal');
    const first: RawBarRecord[] = [];
    for await (const chunk of reader) first.push(...chunk.records);
    const second: RawBarRecord[] = [];
    for await (const chunk of reader) second.push(...chunk.records);
    assert.equal(first.length, 5);
    assert.deepEqual(second, first);
    assert.equal(reader.sha256(), sha256Of(path));
  });

  it('gives the same sha256 without reading the rows (fileSha256), for plain and gzipped files', async () => {
    const plain = fixture('hash-plain.csv', sharedCsv(3));
    const gzipped = fixture('hash.csv.gz', gzipSync(sharedCsv(300)));
    for (const path of [plain, gzipped]) {
      const reader = await openBarFile(path);
      for await (const chunk of reader) assert.ok(chunk.records.length > 0);
      assert.equal(await fileSha256(path), reader.sha256());
    }
    assert.notEqual(await fileSha256(plain), await fileSha256(gzipped));
  });
});

describe('openBarFile: overlong lines', () => {
  it('reports a line just over the limit with its line number and length, and keeps the rows around it', async () => {
    const rows = sharedRows(3);
    const long = `${rows[1]}${'x'.repeat(MAX_LINE_CHARS)}`;
    const { records, problems } = await readAll(fixture('over-limit.csv', [SHARED_HEADER, rows[0], long, rows[2]].join('\n') + '\n'));
    assert.deepEqual(records.map((r) => r.lineNo), [2, 4]);
    assert.deepEqual(problems, [{ lineNo: 3, code: 'line_too_long', reason: `line is longer than 64 KiB (${long.length.toLocaleString('en-US')} characters), so it is not a bar row; skipped` }]);
  });

  it('keeps a line of exactly the limit, and an overlong last line without a newline is reported too', async () => {
    const rows = sharedRows(2);
    const exact = `${rows[0]},${'y'.repeat(MAX_LINE_CHARS - (rows[0] ?? '').length - 1)}`;
    const { problems } = await readAll(fixture('edge.csv', [SHARED_HEADER, exact, 'z'.repeat(MAX_LINE_CHARS + 1)].join('\n')));
    assert.deepEqual(problems.map((p) => [p.lineNo, p.code]), [[2, 'malformed_row'], [3, 'line_too_long']]);
  });

  it('skips a 200 MB line in bounded memory and reads on', { timeout: 120_000 }, async () => {
    const path = join(dir, 'huge-line.csv.gz');
    const rows = sharedRows(2);
    await writeGzip(path, function* () {
      yield `${SHARED_HEADER}\n${rows[0]}\n`;
      const mb = '9'.repeat(1024 * 1024);
      for (let i = 0; i < 200; i++) yield mb;
      yield `\n${rows[1]}\n`;
    });
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const { records, problems } = await readAll(path);
      assert.deepEqual(records.map((r) => r.lineNo), [2, 4]);
      assert.deepEqual(problems.map((p) => [p.lineNo, p.code]), [[3, 'line_too_long']]);
      assert.match(problems[0]?.reason ?? '', /\(209,715,200 characters\)/);
    } finally {
      clearInterval(sampler);
    }
    const grewMb = (peak - baseline) / 1024 / 1024;
    assert.ok(grewMb < 100, `memory grew ${grewMb.toFixed(0)} MB while reading a 200 MB line`);
  });
});

/** Writes the pieces gzipped without holding them all in memory. */
async function writeGzip(path: string, pieces: () => Iterable<string>): Promise<void> {
  await pipeline(Readable.from(pieces()), createGzip({ level: 1 }), createWriteStream(path));
}

describe('openBarFile: TwelveData formats', () => {
  const values = [
    { datetime: '2024-04-15 09:10:00', open: '4000.10000', high: '4001.00000', low: '3999.50000', close: '4000.90000' },
    { datetime: '2024-04-15 09:05:00', open: '3999.00000', high: '4000.20000', low: '3998.00000', close: '4000.10000' },
    { datetime: '2024-04-15 09:00:00', open: '3998.50000', high: '3999.40000', low: '3998.10000', close: '3999.00000' },
  ];
  const meta = { symbol: 'USD/COP', interval: '5min', currency_base: 'US Dollar', currency_quote: 'Colombian Peso', exchange_timezone: 'America/Bogota', type: 'Physical Currency' };

  it('reads time_series JSON newest first, in file order, with the meta zone and symbol', async () => {
    const path = fixture('series.json', JSON.stringify({ meta, values, status: 'ok' }, null, 2));
    const { reader, records, problems } = await readAll(path);
    assert.deepEqual(problems, []);
    assert.equal(reader.info.format, 'twelvedata-json');
    assert.equal(reader.info.defaultZone, 'America/Bogota');
    assert.deepEqual(records.map((r) => r.time), values.map((v) => v.datetime));
    assert.deepEqual(records[0], {
      lineNo: 2,
      raw: JSON.stringify(values[0]),
      time: '2024-04-15 09:10:00',
      open: '4000.10000',
      high: '4001.00000',
      low: '3999.50000',
      close: '4000.90000',
      volume: null,
      symbol: 'USD/COP',
      sourceLabel: null,
    });
    assert.deepEqual(records.map((r) => r.lineNo), [2, 3, 4]);
    assert.equal(reader.sha256(), sha256Of(path));
    assert.equal(reader.fatal(), null);
  });

  it('lets opts.timezone override the meta zone, and accepts a bare array of values', async () => {
    const withMeta = await openBarFile(fixture('zone.json', JSON.stringify({ meta, values, status: 'ok' })), { timezone: 'UTC' });
    assert.equal(withMeta.info.defaultZone, 'UTC');
    const bare = await readAll(fixture('bare.json.gz', gzipSync(JSON.stringify([...values, 'junk']))));
    assert.equal(bare.reader.info.defaultZone, 'UTC');
    assert.equal(bare.reader.info.compressed, true);
    assert.equal(bare.records.length, 3);
    assert.deepEqual(bare.problems, [{ lineNo: 5, code: 'malformed_row', reason: 'the value is not an object' }]);
  });

  it('yields the values before the point where JSON is cut short and reports it in fatal()', async () => {
    const text = JSON.stringify({ meta, values, status: 'ok' });
    const cut = text.slice(0, text.indexOf(values[2]!.datetime) + 5);
    const { reader, records } = await readAll(fixture('cut.json', cut));
    assert.deepEqual(records.map((r) => r.time), [values[0]!.datetime, values[1]!.datetime]);
    assert.equal(reader.fatal()?.lineNo, 4);
    assert.match(reader.fatal()?.reason ?? '', /^JSON is invalid or cut short after value 2 of "values"/);
  });

  it('rejects a TwelveData error body with its message', async () => {
    const body = { code: 429, message: 'You have run out of API credits for the current minute.', status: 'error' };
    await assertUnreadable(fixture('error.json', JSON.stringify(body)), /TwelveData error.*run out of API credits.*code 429/);
  });

  it('reads the ;-delimited CSV export', async () => {
    const text = 'datetime;open;high;low;close;volume\n2024-04-15 09:05:00;3999.0;4000.2;3998.0;4000.1;0\n2024-04-15 09:00:00;3998.5;3999.4;3998.1;3999.0;0\n';
    const { reader, records } = await readAll(fixture('export.csv', text), { timezone: 'America/Bogota' });
    assert.equal(reader.info.format, 'twelvedata-csv');
    assert.equal(reader.info.defaultZone, 'America/Bogota');
    assert.deepEqual(records.map((r) => [r.lineNo, r.time, r.close, r.volume, r.symbol]), [
      [2, '2024-04-15 09:05:00', '4000.1', '0', null],
      [3, '2024-04-15 09:00:00', '3999.0', '0', null],
    ]);
  });
});

describe('openBarFile: files it cannot read', () => {
  it('names the file, the columns it found and the ones it needs for an unknown header', async () => {
    const err = await assertUnreadable(fixture('unknown.csv', 'when,price,qty\n2020-01-02,1,2\n'), /header it does not know/);
    assert.match(err.message, /"when", "price", "qty"/);
    assert.match(err.message, /lacks a time column \(time\|datetime\|timestamp\|date\), open, high, low, close/);
  });

  it('rejects an empty file, a missing file and a directory', async () => {
    await assertUnreadable(fixture('empty.csv', ''), /is empty/);
    await assertUnreadable(fixture('empty.csv.gz', gzipSync('')), /is empty once decompressed/);
    await assertUnreadable(join(dir, 'no-such-file.csv'), /does not exist/);
    const sub = join(dir, 'a-directory.csv');
    mkdirSync(sub);
    await assertUnreadable(sub, /is a directory/);
  });

  it('rejects a file it may not read', { skip: process.getuid?.() === 0 ? 'root can read any file' : false }, async () => {
    const path = fixture('secret.csv', sharedCsv(1));
    chmodSync(path, 0o000);
    await assertUnreadable(path, /permission denied/);
  });

  it('rejects a bad chunk size or time zone as a bad argument', async () => {
    const path = fixture('args.csv', sharedCsv(1));
    await assert.rejects(openBarFile(path, { chunkSize: 0 }), (err: unknown) => err instanceof TasaError && err.code === 'bad_argument');
    await assert.rejects(openBarFile(path, { timezone: 'Mars/Olympus' }), (err: unknown) => err instanceof TasaError && err.code === 'bad_argument');
  });
});

describe('openBarFile: damaged gzip', () => {
  // Large enough that the compressed file takes several reads and the text several pieces.
  const text = sharedCsv(20_000);
  const gz = gzipSync(text);

  it('yields every row decodable before the cut of a gzip cut in half, then reports fatal() without throwing', async () => {
    const half = gz.subarray(0, Math.floor(gz.length / 2));
    const path = fixture('half.csv.gz', half);
    const decodable = gunzipSync(half, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString();
    const completeLines = decodable.split('\n').length - 1;
    const { reader, records, problems } = await readAll(path);
    assert.equal(records.length, completeLines - 1);
    assert.deepEqual(records.map((r) => r.raw), text.split('\n').slice(1, completeLines));
    assert.deepEqual(problems, []);
    assert.deepEqual(reader.fatal(), {
      lineNo: completeLines + 1,
      reason: `gzip data is corrupt or truncated after line ${completeLines} (unexpected end of file)`,
    });
    assert.equal(reader.sha256(), sha256Of(path));
  });

  it('stops at bytes corrupted in the middle, after yielding the rows before them', async () => {
    const damaged = Buffer.from(gz);
    const middle = Math.floor(damaged.length / 2);
    for (let i = middle; i < middle + 64; i++) damaged[i] = damaged[i]! ^ 0x5a;
    const path = fixture('damaged.csv.gz', damaged);
    const { reader, records } = await readAll(path);
    const fatal = reader.fatal();
    assert.ok(fatal !== null, 'fatal() should be set');
    assert.match(fatal.reason, /^gzip data is corrupt or truncated after line \d+ \(.+\)$/);
    assert.ok(records.length > 1000, `rows before the damage should come through, got ${records.length}`);
    const expected = text.split('\n');
    assert.deepEqual(records.slice(0, 1000).map((r) => r.raw), expected.slice(1, 1001));
    assert.equal(reader.sha256(), sha256Of(path), 'the digest still covers the whole file');
  });
});

describe('openBarFile: the real USD/COP file', () => {
  const present = existsSync(REAL_FILE);
  it('reads 82,842 records with no problem in one pass', { skip: present ? false : `${REAL_FILE} is absent` }, async () => {
    const { reader, records, problems } = await readAll(REAL_FILE);
    assert.equal(records.length, 82_842);
    assert.deepEqual(problems, []);
    assert.equal(reader.fatal(), null);
    assert.equal(reader.info.compressed, true);
    assert.equal(reader.sha256(), REAL_FILE_SHA256);
    assert.equal(reader.sha256(), sha256Of(REAL_FILE));
    assert.equal(records[0]?.time, '2020-01-02 08:00:00+00:00');
  });
});
