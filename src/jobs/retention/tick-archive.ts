/**
 * A tick partition as an archive: one Parquet file (the pipeline's column tables) and a manifest
 * (the pipeline's file entries: key, rows, bytes, sha256), kept under `ticks/`:
 *
 *   ticks/<YYYY>/<partition>-<id>.parquet      the rows
 *   ticks/manifests/<partition>-<id>.json      what they are: month, rows, checksum, file
 *
 * `<id>` comes from the rows' checksum, so a month archived twice (a partition that came back
 * with a late tick) gets a second pair instead of overwriting the first. Verifying reads the
 * archive back: the file's size and sha256, then every row, whose count and `tickRowsChecksum`
 * must equal the partition's `tasa_tick_checksum` (migration 014).
 */
import { createHash } from 'node:crypto';
import type { Tick, TickSource } from '../../domain/tick.ts';
import { TasaError } from '../../errors.ts';
import type { ArchiveStore } from '../../pipeline/archive/archive-store.ts';
import { columnOf, doubleColumn, readParquetTable, stringColumn, timestampColumn, writeParquetTable, type ParquetTable } from '../../pipeline/archive/parquet-table.ts';
import { sha256Hex, verifyFiles, type CodeVersion, type ManifestFile } from '../../pipeline/manifest.ts';
import type { TickRowsDigest } from '../../store/tick-partitions-repo.ts';

export const TICK_MANIFEST_VERSION = 1;

export interface TickArchiveManifest {
  manifestVersion: typeof TICK_MANIFEST_VERSION;
  kind: 'ticks';
  partition: string;
  /** The partition's UTC month [from, to), ISO 8601. */
  from: string;
  to: string;
  rows: number;
  /** `tasa_tick_checksum` of the rows. */
  checksum: string;
  files: ManifestFile[];
  codeVersion: CodeVersion | null;
  createdAt: string;
}

export interface TickArchiveKeys {
  fileKey: string;
  manifestKey: string;
}

export function tickArchiveKeys(partition: string, from: number, checksum: string): TickArchiveKeys {
  const id = sha256Hex(checksum).slice(0, 12);
  return { fileKey: `ticks/${new Date(from).getUTCFullYear()}/${partition}-${id}.parquet`, manifestKey: `ticks/manifests/${partition}-${id}.json` };
}

// ---- rows <-> columns ----

export function ticksToParquet(ticks: readonly Tick[], partition: string): Uint8Array {
  return writeParquetTable(
    [
      stringColumn('symbol', ticks.map((t) => t.symbol)),
      timestampColumn('time', ticks.map((t) => t.time)),
      doubleColumn('price', ticks.map((t) => t.price)),
      doubleColumn('bid', ticks.map((t) => t.bid)),
      doubleColumn('ask', ticks.map((t) => t.ask)),
      timestampColumn('received_at', ticks.map((t) => t.receivedAt)),
      stringColumn('source', ticks.map((t) => t.source)),
    ],
    { metadata: { table: 'ticks', partition } },
  );
}

/** The rows of a tick archive file; a missing required value is an error (the file is not a tick archive). */
export function ticksFromParquet(table: ParquetTable): Tick[] {
  const symbol = columnOf(table, 'symbol').values;
  const time = columnOf(table, 'time').values;
  const price = columnOf(table, 'price').values;
  const bid = columnOf(table, 'bid').values;
  const ask = columnOf(table, 'ask').values;
  const receivedAt = columnOf(table, 'received_at').values;
  const source = columnOf(table, 'source').values;
  const out: Tick[] = [];
  for (let i = 0; i < table.rows; i++) {
    out.push({
      symbol: required(symbol[i], 'symbol', i, 'string'),
      time: required(time[i], 'time', i, 'number'),
      price: required(price[i], 'price', i, 'number'),
      bid: optionalNumber(bid[i], 'bid', i),
      ask: optionalNumber(ask[i], 'ask', i),
      receivedAt: required(receivedAt[i], 'received_at', i, 'number'),
      source: required(source[i], 'source', i, 'string') as TickSource,
    });
  }
  return out;
}

function required<K extends 'string' | 'number'>(v: unknown, column: string, row: number, kind: K): K extends 'string' ? string : number {
  if (typeof v !== kind) throw new TasaError('unreadable_file', `Tick archive row ${row}: ${column} is ${String(v)}, not a ${kind}.`, { input: `${column}[${row}]` });
  return v as K extends 'string' ? string : number;
}

function optionalNumber(v: unknown, column: string, row: number): number | null {
  return v === null ? null : required(v, column, row, 'number');
}

// ---- checksum ----

/** The checksum `tasa_tick_checksum` computes in the database (migration 014), over these rows; times are ms, so in µs they end in 000. */
export function tickRowsChecksum(ticks: readonly Tick[]): string {
  let sum = 0n;
  let buffer = Buffer.alloc(256);
  for (const t of ticks) {
    const length = rowBytesLength(t);
    if (length > buffer.length) buffer = Buffer.alloc(length * 2);
    writeRow(buffer, t);
    sum += createHash('sha256').update(buffer.subarray(0, length)).digest().readBigInt64BE(0);
  }
  return sum.toString();
}

function rowBytesLength(t: Tick): number {
  const floats = (v: number | null) => (v === null ? 1 : 9);
  return 4 + Buffer.byteLength(t.symbol) + 8 + 8 + floats(t.bid) + floats(t.ask) + 8 + 4 + Buffer.byteLength(t.source);
}

/** One row in the encoding of `tasa_tick_row_hash`: length-prefixed UTF-8 texts, big-endian int8 µs and IEEE-754 doubles, 0x00 / 0x01 + value for the nullable ones. */
function writeRow(b: Buffer, t: Tick): void {
  let at = writeText(b, 0, t.symbol);
  at = b.writeBigInt64BE(BigInt(t.time) * 1000n, at);
  at = b.writeDoubleBE(t.price, at);
  at = writeOptional(b, at, t.bid);
  at = writeOptional(b, at, t.ask);
  at = b.writeBigInt64BE(BigInt(t.receivedAt) * 1000n, at);
  writeText(b, at, t.source);
}

function writeText(b: Buffer, at: number, s: string): number {
  const length = b.write(s, at + 4, 'utf8');
  b.writeInt32BE(length, at);
  return at + 4 + length;
}

function writeOptional(b: Buffer, at: number, v: number | null): number {
  if (v === null) return b.writeUInt8(0, at);
  return b.writeDoubleBE(v, b.writeUInt8(1, at));
}

// ---- write and verify ----

export interface WriteTickArchiveInput {
  partition: string;
  from: number;
  to: number;
  ticks: readonly Tick[];
  digest: TickRowsDigest;
  codeVersion: CodeVersion | null;
  createdAt: number;
}

export interface WrittenTickArchive extends TickArchiveKeys {
  bytes: number;
  manifest: TickArchiveManifest;
}

/** Writes the file, then the manifest (a reader that finds the manifest finds the file). */
export async function writeTickArchive(archive: ArchiveStore, input: WriteTickArchiveInput): Promise<WrittenTickArchive> {
  const keys = tickArchiveKeys(input.partition, input.from, input.digest.checksum);
  const bytes = ticksToParquet(input.ticks, input.partition);
  await archive.put(keys.fileKey, bytes);
  const manifest: TickArchiveManifest = {
    manifestVersion: TICK_MANIFEST_VERSION,
    kind: 'ticks',
    partition: input.partition,
    from: new Date(input.from).toISOString(),
    to: new Date(input.to).toISOString(),
    rows: input.digest.rows,
    checksum: input.digest.checksum,
    files: [{ key: keys.fileKey, rows: input.ticks.length, bytes: bytes.byteLength, sha256: sha256Hex(bytes) }],
    codeVersion: input.codeVersion,
    createdAt: new Date(input.createdAt).toISOString(),
  };
  await archive.put(keys.manifestKey, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return { ...keys, bytes: bytes.byteLength, manifest };
}

/** Reads the archive back; returns the problems, one sentence each (empty = it holds exactly the partition's rows). */
export async function verifyTickArchive(archive: ArchiveStore, manifestKey: string, expected: TickRowsDigest): Promise<string[]> {
  const manifest = await loadTickManifest(archive, manifestKey);
  const problems: string[] = [];
  if (manifest.rows !== expected.rows || manifest.checksum !== expected.checksum) problems.push(`${manifestKey} describes other rows than the partition's.`);
  const fileProblems = await verifyFiles(archive, manifest.files);
  if (fileProblems.length > 0) return [...problems, ...fileProblems];
  const ticks = await readTickArchive(archive, manifest);
  if (ticks.length !== expected.rows) problems.push(`The archive holds ${ticks.length} rows, the partition ${expected.rows}.`);
  const checksum = tickRowsChecksum(ticks);
  if (checksum !== expected.checksum) problems.push(`The archive's rows have checksum ${checksum}, the partition's ${expected.checksum}.`);
  return problems;
}

/** Every row of an archived partition, in its files' order. */
export async function readTickArchive(archive: ArchiveStore, manifest: TickArchiveManifest): Promise<Tick[]> {
  let out: Tick[] = [];
  for (const file of manifest.files) {
    try {
      // concat, not push(...rows): a month holds a million rows, more than a call's arguments.
      out = out.concat(ticksFromParquet(await readParquetTable(await archive.get(file.key))));
    } catch (err) {
      if (err instanceof TasaError) throw new TasaError(err.code, `${file.key}: ${err.message}`, { input: file.key, cause: err });
      throw err;
    }
  }
  return out;
}

export async function loadTickManifest(archive: ArchiveStore, key: string): Promise<TickArchiveManifest> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(await archive.get(key)));
  } catch (err) {
    if (err instanceof TasaError) throw err;
    throw new TasaError('unreadable_file', `Tick archive manifest ${key} is not JSON.`, { input: key, cause: err });
  }
  const m = value as Partial<TickArchiveManifest> | null;
  const ok =
    m !== null &&
    typeof m === 'object' &&
    m.manifestVersion === TICK_MANIFEST_VERSION &&
    m.kind === 'ticks' &&
    typeof m.partition === 'string' &&
    typeof m.checksum === 'string' &&
    Number.isSafeInteger(m.rows) &&
    Array.isArray(m.files);
  if (!ok) throw new TasaError('unreadable_file', `${key} is not a tick archive manifest (version ${TICK_MANIFEST_VERSION}).`, { input: key });
  return m as TickArchiveManifest;
}
