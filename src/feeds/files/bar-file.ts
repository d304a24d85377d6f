/**
 * Streaming reader of bar files for `tasa import`: CSV in the shared layout (`time,symbol,open,...`),
 * TwelveData's CSV export (`datetime;open;high;low;close[;volume]`) and TwelveData time_series JSON,
 * each plain or gzipped (detected by content, not by name). CSV is read piece by piece; a bad row
 * becomes a problem and the rows after it still come through; a fault mid-file (corrupt gzip, I/O
 * error, invalid JSON) ends the reading with `fatal()` after every record before it was yielded.
 */
import { basename } from 'node:path';
import type { RawBarRecord } from '../../domain/raw-bar.ts';
import { isKnownZone } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { matchColumns, normalizeColumnName, type ColumnIndex } from './columns.ts';
import { detectDelimiter, pickFields, splitLine, type CsvDelimiter } from './csv-fields.ts';
import { jsonRecord, parseJsonBars, type JsonBars } from './json-bars.ts';
import { TextSource, type SourceFault } from './text-source.ts';
import { openFailure, unreadableFile } from './unreadable.ts';

export type BarFileFormat = 'csv' | 'twelvedata-csv' | 'twelvedata-json';

/**
 * `lineNo` is 1-based in the (decompressed) text; 0 means the whole file. For JSON there are no
 * lines: the element at 0-based index i of `values` is "line" i + 2, as if a header were line 1.
 */
export interface BarFileProblem {
  lineNo: number;
  reason: string;
  /** For a row problem: `malformed_row` (fields), `line_too_long`. Absent for a fatal problem. */
  code?: 'malformed_row' | 'line_too_long';
}

export interface BarFileChunk {
  /** In file order (TwelveData JSON is newest first unless requested with order=ASC). */
  records: RawBarRecord[];
  /** Rows that could not even be split into fields (wrong column count, blank time...). */
  problems: BarFileProblem[];
  /** Of the file on disk (compressed bytes for .gz), for a progress bar. */
  bytesRead: number;
}

export interface BarFileInfo {
  name: string;
  sizeBytes: number;
  format: BarFileFormat;
  compressed: boolean;
  /** Zone for times without an offset: opts.timezone, else the JSON meta's exchange_timezone, else UTC. */
  defaultZone: string;
}

export interface BarFileReader extends AsyncIterable<BarFileChunk> {
  readonly info: BarFileInfo;
  /** Of the file's bytes on disk; valid once an iteration has ended (completed or stopped by a fault). */
  sha256(): string;
  /** Set when reading stopped early; the valid records before it were still yielded. */
  fatal(): BarFileProblem | null;
}

export interface OpenBarFileOptions {
  /** Records (plus problems) per chunk; default 5000. */
  chunkSize?: number;
  /** Zone of times written without an offset (TwelveData's `timezone` parameter). */
  timezone?: string;
}

const DEFAULT_CHUNK_SIZE = 5000;
/** How far to look for the header line before calling the file something else. */
const MAX_HEAD_CHARS = 1024 * 1024;
/** JSON is read whole; TwelveData answers hold at most 5000 values (about 1 MB of text). */
const MAX_JSON_CHARS = 64 * 1024 * 1024;
/**
 * Longest CSV line kept (a bar row is under 200 characters). A longer one is skipped as it is
 * read, holding no more than this much of it, and reported with its line number.
 */
export const MAX_LINE_CHARS = 64 * 1024;

type FileBase = Pick<BarFileInfo, 'name' | 'sizeBytes' | 'compressed'>;

/** Opens `path` and reads its header (or, for JSON, all of it). Throws `unreadable_file` for what cannot be read at all. */
export async function openBarFile(path: string, opts: OpenBarFileOptions = {}): Promise<BarFileReader> {
  const chunkSize = checkChunkSize(opts.chunkSize);
  if (opts.timezone !== undefined && !isKnownZone(opts.timezone)) {
    throw new TasaError('bad_argument', `Time zone "${opts.timezone}" is not a known IANA zone.`, { input: opts.timezone, hint: 'Use a name such as UTC or America/Bogota.' });
  }
  const source = await openSource(path);
  try {
    if (source.sizeBytes === 0) throw unreadableFile(path, 'is empty');
    const head = await readHead(source, path);
    const base: FileBase = { name: basename(path), sizeBytes: source.sizeBytes, compressed: source.compressed };
    if (head.kind === 'json') return await openJson(path, source, head.text, base, { ...opts, chunkSize });
    return openCsv(path, head.line, base, { ...opts, chunkSize });
  } finally {
    await source.close();
  }
}

function checkChunkSize(size: number | undefined): number {
  if (size === undefined) return DEFAULT_CHUNK_SIZE;
  if (Number.isInteger(size) && size > 0) return size;
  throw new TasaError('bad_argument', `Chunk size ${size} is not a positive whole number.`, { input: String(size) });
}

async function openSource(path: string): Promise<TextSource> {
  try {
    return await TextSource.open(path);
  } catch (err) {
    throw openFailure(path, err);
  }
}

// ---------------------------------------------------------------------------------------------
// Format detection

type Head = { kind: 'json'; text: string } | { kind: 'csv'; line: string };

/** Reads until the first non-blank character says JSON, or the first non-blank line (the CSV header) is complete. */
async function readHead(source: TextSource, path: string): Promise<Head> {
  let text = '';
  for (let piece = await source.next(); piece !== null; piece = await source.next()) {
    text += piece;
    const head = findHead(text, false);
    if (head) return head;
    if (text.length > MAX_HEAD_CHARS) throw unreadableFile(path, 'has no header line in its first 1 MB, so it is not a CSV or JSON bar file');
  }
  if (source.fault) throw unreadableFile(path, `cannot be read before its first line: ${faultText(source.fault)}`);
  const head = findHead(text, true);
  if (!head) throw unreadableFile(path, source.compressed ? 'is empty once decompressed' : 'holds only blank space');
  return head;
}

function findHead(text: string, atEnd: boolean): Head | null {
  const start = text.search(/\S/);
  if (start === -1) return null;
  if (text[start] === '{' || text[start] === '[') return { kind: 'json', text };
  const end = text.indexOf('\n', start);
  if (end === -1 && !atEnd) return null;
  const line = text.slice(text.lastIndexOf('\n', start) + 1, end === -1 ? text.length : end);
  return { kind: 'csv', line: withoutCr(line) };
}

// ---------------------------------------------------------------------------------------------
// CSV

interface CsvLayout {
  header: string;
  delimiter: CsvDelimiter;
  columns: ColumnIndex;
  fieldCount: number;
  /** Which field positions a record uses; the others are never copied out of the line. */
  wanted: boolean[];
  /** Reused for every line; a record takes its values out before the next line is split. */
  scratch: string[];
}

function openCsv(path: string, header: string, base: FileBase, opts: OpenBarFileOptions & { chunkSize: number }): BarFileReader {
  const delimiter = detectDelimiter(header);
  const names = (splitLine(header, delimiter) ?? header.split(delimiter)).map(normalizeColumnName);
  const match = matchColumns(names);
  if (!match.ok) throw unknownHeader(path, names, match.missing);
  // TwelveData's export names the time column `datetime` and uses `;` by default.
  const format: BarFileFormat = delimiter === ';' || names[match.index.time] === 'datetime' ? 'twelvedata-csv' : 'csv';
  const info: BarFileInfo = { ...base, format, defaultZone: opts.timezone ?? 'UTC' };
  const used = new Set<number>(Object.values(match.index));
  const wanted = names.map((_, i) => used.has(i));
  const layout: CsvLayout = { header, delimiter, columns: match.index, fieldCount: names.length, wanted, scratch: names.map(() => '') };
  return new CsvBarReader(path, info, layout, opts.chunkSize);
}

function unknownHeader(path: string, names: string[], missing: string[]): TasaError {
  const found = names.slice(0, 20).map((n) => JSON.stringify(n.slice(0, 40))).join(', ') + (names.length > 20 ? ', ...' : '');
  return unreadableFile(
    path,
    `has a header it does not know: it has columns ${found} but lacks ${missing.join(', ')} (required: a time column, open, high, low, close; optional: volume, symbol, source; other columns are ignored)`,
    'Rename the columns, or check that this is a bar file.',
  );
}

class CsvBarReader implements BarFileReader {
  private digest: string | null = null;
  private fault: BarFileProblem | null = null;
  /** Set when the file could not be opened again for a pass: then there is no digest to give. */
  private reopenError: TasaError | null = null;

  constructor(
    private readonly path: string,
    readonly info: BarFileInfo,
    private readonly layout: CsvLayout,
    private readonly chunkSize: number,
  ) {}

  sha256(): string {
    if (this.reopenError) throw this.reopenError;
    return knownDigest(this.digest, this.info.name);
  }

  fatal(): BarFileProblem | null {
    return this.fault;
  }

  [Symbol.asyncIterator](): AsyncIterator<BarFileChunk> {
    return this.read();
  }

  /** One pass over the file. The file is opened again (the header was read by openBarFile) so nothing stays open between them. */
  private async *read(): AsyncGenerator<BarFileChunk> {
    this.digest = null;
    this.fault = null;
    this.reopenError = null;
    let source: TextSource;
    try {
      source = await TextSource.open(this.path);
    } catch (err) {
      this.reopenError = openFailure(this.path, err);
      this.fault = { lineNo: 0, reason: `the file can no longer be opened (${this.reopenError.message})` };
      return;
    }
    try {
      yield* this.readRows(source);
    } finally {
      await source.close();
    }
  }

  private async *readRows(source: TextSource): AsyncGenerator<BarFileChunk> {
    const rows = new CsvRows(this.layout);
    const batch = new ChunkBatch(this.chunkSize);
    // The header was read whole by openBarFile (up to 1 MB), so it is never cut as too long.
    const lines = new LineSplitter(Math.max(MAX_LINE_CHARS, this.layout.header.length + 1));
    for (let piece = await source.next(); piece !== null && !rows.headerChanged; piece = await source.next()) {
      for (const line of lines.push(piece)) {
        rows.add(line, batch);
        if (batch.full) yield batch.take(source.bytesRead);
      }
    }
    // After a fault the unfinished last line is dropped: cut short, it could still look like a valid row with a truncated price.
    if (source.fault) this.fault = faultProblem(source.fault, lines.lineNo);
    else if (rows.headerChanged) this.fault = { lineNo: 0, reason: 'the header changed since the file was opened' };
    else {
      const last = lines.end();
      if (last !== null) rows.add(last, batch);
    }
    if (source.fault) await source.hashRemainder();
    this.digest = source.digest();
    if (!batch.empty) yield batch.take(source.bytesRead);
  }
}

/** Turns CSV lines into records or problems. The first non-blank line is the header. */
class CsvRows {
  headerChanged = false;
  private headerSeen = false;

  constructor(private readonly layout: CsvLayout) {}

  add(split: SplitLine, batch: ChunkBatch): void {
    if (this.headerChanged) return;
    const lineNo = split.lineNo;
    if (split.text === null) {
      batch.add(lineNo, { code: 'line_too_long', reason: `line is longer than ${MAX_LINE_CHARS / 1024} KiB (${split.chars.toLocaleString('en-US')} characters), so it is not a bar row; skipped` });
      return;
    }
    const line = withoutCr(split.text);
    if (line.trim() === '') return;
    if (!this.headerSeen) {
      this.headerSeen = true;
      this.headerChanged = line !== this.layout.header;
      return;
    }
    batch.add(lineNo, csvRecord(lineNo, line, this.layout));
  }
}

/** One line of text, or (text null) the length of a line too long to keep. */
type SplitLine = { lineNo: number; text: string; chars: number } | { lineNo: number; text: null; chars: number };

/**
 * Cuts pieces of text into lines, holding at most `maxChars` of an unfinished one: the rest of
 * a longer line is counted, not kept, and the line is given back as too long once it ends.
 */
class LineSplitter {
  lineNo = 0;
  private carry = '';
  /** Characters of an overlong line seen so far; 0 when no line is being skipped. */
  private skipped = 0;

  constructor(private readonly maxChars: number) {}

  push(piece: string): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    for (let end = piece.indexOf('\n'); end !== -1; end = piece.indexOf('\n', start)) {
      out.push(this.finish(piece.slice(start, end)));
      start = end + 1;
    }
    this.hold(piece.slice(start));
    return out;
  }

  /** The last line when the text does not end with a newline, else null. */
  end(): SplitLine | null {
    return this.carry === '' && this.skipped === 0 ? null : this.finish('');
  }

  private finish(tail: string): SplitLine {
    this.lineNo++;
    const chars = this.skipped + this.carry.length + tail.length;
    const line: SplitLine = this.skipped > 0 || chars > this.maxChars ? { lineNo: this.lineNo, text: null, chars } : { lineNo: this.lineNo, text: this.carry + tail, chars };
    this.carry = '';
    this.skipped = 0;
    return line;
  }

  private hold(rest: string): void {
    if (this.skipped > 0) this.skipped += rest.length;
    else if (this.carry.length + rest.length > this.maxChars) {
      this.skipped = this.carry.length + rest.length;
      this.carry = '';
    } else this.carry += rest;
  }
}

/** The record of one data line, or why the line cannot be split into the header's fields. */
function csvRecord(lineNo: number, line: string, layout: CsvLayout): RawBarRecord | string {
  const fields = layout.scratch;
  const count = line.includes('"') ? copyQuoted(line, layout.delimiter, fields) : pickFields(line, layout.delimiter, layout.wanted, fields);
  if (count === -1) return 'a quoted field is not closed on its line';
  if (count !== layout.fieldCount) return `expected ${layout.fieldCount} fields, found ${count}`;
  const c = layout.columns;
  const time = fields[c.time]!;
  if (time.trim() === '') return 'time is blank';
  return {
    lineNo,
    raw: line,
    time,
    open: fields[c.open]!,
    high: fields[c.high]!,
    low: fields[c.low]!,
    close: fields[c.close]!,
    volume: c.volume === -1 ? null : fields[c.volume]!,
    symbol: c.symbol === -1 ? null : fields[c.symbol]!,
    sourceLabel: c.source === -1 ? null : fields[c.source]!,
  };
}

/** Like pickFields, for a line with quotes; -1 when a quote is left open. */
function copyQuoted(line: string, delimiter: CsvDelimiter, into: string[]): number {
  const fields = splitLine(line, delimiter);
  if (fields === null) return -1;
  fields.forEach((field, i) => (into[i] = field));
  return fields.length;
}

// ---------------------------------------------------------------------------------------------
// JSON

async function openJson(path: string, source: TextSource, head: string, base: FileBase, opts: OpenBarFileOptions & { chunkSize: number }): Promise<BarFileReader> {
  const text = await readRest(source, head, path);
  if (source.fault) await source.hashRemainder();
  const bars = parseJsonBars(path, text, source.fault && faultText(source.fault));
  const defaultZone = opts.timezone ?? bars.exchangeZone ?? 'UTC';
  if (!isKnownZone(defaultZone)) {
    throw unreadableFile(path, `gives exchange_timezone "${defaultZone}", which is not a known time zone`, 'Give the zone of its times with --timezone.');
  }
  const info: BarFileInfo = { ...base, format: 'twelvedata-json', defaultZone };
  return new JsonBarReader(info, bars, source.digest(), jsonFatal(bars, source.fault), opts.chunkSize, source.bytesRead);
}

async function readRest(source: TextSource, head: string, path: string): Promise<string> {
  const pieces = [head];
  let length = head.length;
  for (let piece = await source.next(); piece !== null; piece = await source.next()) {
    pieces.push(piece);
    length += piece.length;
    if (length > MAX_JSON_CHARS) throw unreadableFile(path, `is JSON of more than ${MAX_JSON_CHARS / 1024 / 1024} MB, too large to read whole`, 'Split it, or export it as CSV.');
  }
  return pieces.join('');
}

/** JSON "line" of the n-th value (1-based) is n + 1; see BarFileProblem. */
function jsonFatal(bars: JsonBars, fault: SourceFault | null): BarFileProblem | null {
  const lastLine = bars.values.length + 1;
  if (fault) return faultProblem(fault, lastLine);
  if (bars.invalid === null) return null;
  return { lineNo: lastLine + 1, reason: `JSON is invalid or cut short after value ${bars.values.length} of "values" (${bars.invalid})` };
}

class JsonBarReader implements BarFileReader {
  constructor(
    readonly info: BarFileInfo,
    private readonly bars: JsonBars,
    private readonly digest: string,
    private readonly fault: BarFileProblem | null,
    private readonly chunkSize: number,
    private readonly bytesRead: number,
  ) {}

  sha256(): string {
    return this.digest;
  }

  fatal(): BarFileProblem | null {
    return this.fault;
  }

  /** The values are in memory already, so the chunks are made synchronously and handed out as promises. */
  [Symbol.asyncIterator](): AsyncIterator<BarFileChunk> {
    const chunks = this.chunks();
    return { next: () => Promise.resolve(chunks.next()), return: () => Promise.resolve(chunks.return()) };
  }

  private *chunks(): Generator<BarFileChunk, void> {
    const batch = new ChunkBatch(this.chunkSize);
    for (const [index, element] of this.bars.values.entries()) {
      const lineNo = index + 2;
      batch.add(lineNo, jsonRecord(element, lineNo, this.bars.symbol));
      if (batch.full) yield batch.take(this.bytesRead);
    }
    if (!batch.empty) yield batch.take(this.bytesRead);
  }
}

// ---------------------------------------------------------------------------------------------
// Shared

class ChunkBatch {
  records: RawBarRecord[] = [];
  problems: BarFileProblem[] = [];

  constructor(private readonly size: number) {}

  /** A record, or why the row could not become one (a reason, or a problem with its code). */
  add(lineNo: number, row: RawBarRecord | string | Omit<BarFileProblem, 'lineNo'>): void {
    if (typeof row === 'string') this.problems.push({ lineNo, reason: row, code: 'malformed_row' });
    else if ('reason' in row) this.problems.push({ lineNo, ...row });
    else this.records.push(row);
  }

  get full(): boolean {
    return this.records.length + this.problems.length >= this.size;
  }

  get empty(): boolean {
    return this.records.length + this.problems.length === 0;
  }

  take(bytesRead: number): BarFileChunk {
    const chunk = { records: this.records, problems: this.problems, bytesRead };
    this.records = [];
    this.problems = [];
    return chunk;
  }
}

function faultProblem(fault: SourceFault, lastLine: number): BarFileProblem {
  return { lineNo: lastLine + 1, reason: `${faultLabel(fault)} after line ${lastLine} (${fault.message}${checksumNote(fault)})` };
}

/** Damage that inflate cannot see is caught only by gzip's checksum at the very end, after the damaged rows went out. */
function checksumNote(fault: SourceFault): string {
  const late = fault.kind === 'gzip' && /incorrect (data|length) check/.test(fault.message);
  return late ? '; found only by the checksum at the end of the data, so rows read before it may be garbled' : '';
}

function faultText(fault: SourceFault): string {
  return `${faultLabel(fault)} (${fault.message})`;
}

function faultLabel(fault: SourceFault): string {
  return fault.kind === 'gzip' ? 'gzip data is corrupt or truncated' : 'I/O error';
}

function knownDigest(digest: string | null, name: string): string {
  if (digest === null) throw new TasaError('internal', `The sha256 of ${name} is known only after the file has been read to its end.`);
  return digest;
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
