import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { parquetMetadata } from 'hyparquet';
import {
  booleanColumn,
  columnOf,
  doubleColumn,
  float64Of,
  floatColumn,
  int32Column,
  readParquetTable,
  sliceTable,
  stringColumn,
  stringsOf,
  timestampColumn,
  writeParquetTable,
  type TableColumn,
} from '../../src/pipeline/archive/parquet-table.ts';
import { TasaError } from '../../src/errors.ts';

const T0 = Date.UTC(2024, 0, 2, 13, 0);
const FIVE_MIN = 300_000;

function sampleColumns(): TableColumn[] {
  return [
    timestampColumn('time', Float64Array.from([T0, T0 + FIVE_MIN, T0 + 2 * FIVE_MIN, T0 + 3 * FIVE_MIN])),
    doubleColumn('close', Float64Array.from([3912.5, NaN, -0, 1e-12])),
    doubleColumn('ema', [null, 4000.125, NaN, 3999]),
    floatColumn('feature', Float32Array.from([0.5, NaN, -1.25, 3])),
    int32Column('barOfSession', Int32Array.from([1, 2, 3, 60])),
    stringColumn('session', ['2024-01-02', null, 'ñandú', '']),
    booleanColumn('flat', [true, false, null, true]),
  ];
}

describe('parquet tables', () => {
  test('a table round-trips with its types, and every missing value (null or NaN) comes back as null', async () => {
    const bytes = writeParquetTable(sampleColumns());
    const table = await readParquetTable(bytes);
    assert.equal(table.rows, 4);
    assert.deepEqual(
      table.columns.map((c) => [c.name, c.type]),
      [['time', 'timestamp'], ['close', 'double'], ['ema', 'double'], ['feature', 'float'], ['barOfSession', 'int32'], ['session', 'string'], ['flat', 'boolean']],
    );
    assert.deepEqual(columnOf(table, 'time').values, [T0, T0 + FIVE_MIN, T0 + 2 * FIVE_MIN, T0 + 3 * FIVE_MIN]);
    assert.deepEqual(columnOf(table, 'close').values, [3912.5, null, -0, 1e-12]);
    assert.ok(Object.is(columnOf(table, 'close').values[2], -0), 'negative zero is a value, kept as such');
    assert.deepEqual(columnOf(table, 'ema').values, [null, 4000.125, null, 3999]);
    assert.deepEqual(columnOf(table, 'feature').values, [0.5, null, -1.25, 3]);
    assert.deepEqual(columnOf(table, 'barOfSession').values, [1, 2, 3, 60]);
    assert.deepEqual(stringsOf(table, 'session'), ['2024-01-02', null, 'ñandú', '']);
    assert.deepEqual(columnOf(table, 'flat').values, [true, false, null, true]);
  });

  test('float64Of turns nulls back into NaN for the research layers', async () => {
    const table = await readParquetTable(writeParquetTable(sampleColumns()));
    const ema = float64Of(table, 'ema');
    assert.ok(ema instanceof Float64Array);
    assert.ok(Number.isNaN(ema[0]) && Number.isNaN(ema[2]));
    assert.equal(ema[1], 4000.125);
    assert.throws(() => float64Of(table, 'session'), TasaError);
    assert.throws(() => columnOf(table, 'nope'), /no column "nope"/);
  });

  test('timestamps are stored as UTC TIMESTAMP(MILLIS) so other tools read instants', () => {
    const meta = parquetMetadata(writeParquetTable(sampleColumns()));
    const time = meta.schema.find((e) => e.name === 'time');
    assert.equal(time?.type, 'INT64');
    assert.deepEqual(time?.logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' });
    assert.ok(meta.schema.slice(1).every((e) => e.repetition_type === 'OPTIONAL'));
  });

  test('equal input gives equal bytes, in this process and in another one', () => {
    const a = writeParquetTable(sampleColumns(), { metadata: { symbol: 'USD/COP', layer: 'L2' } });
    const b = writeParquetTable(sampleColumns(), { metadata: { layer: 'L2', symbol: 'USD/COP' } });
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
    // A second process (another start time, another heap) must produce the same file.
    const script = `
      import { writeParquetTable, timestampColumn, doubleColumn } from './src/pipeline/archive/parquet-table.ts';
      import { createHash } from 'node:crypto';
      const bytes = writeParquetTable([timestampColumn('time', [${T0}, ${T0 + FIVE_MIN}]), doubleColumn('x', [1.5, NaN])]);
      process.stdout.write(createHash('sha256').update(bytes).digest('hex'));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const here = createHash('sha256').update(writeParquetTable([timestampColumn('time', [T0, T0 + FIVE_MIN]), doubleColumn('x', [1.5, NaN])])).digest('hex');
    assert.equal(child.stdout, here);
  });

  test('different values give different bytes', () => {
    const a = writeParquetTable([doubleColumn('x', [1, 2])]);
    const b = writeParquetTable([doubleColumn('x', [1, 2.0000001])]);
    assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
  });

  test('key/value metadata is kept', async () => {
    const table = await readParquetTable(writeParquetTable([doubleColumn('x', [1])], { metadata: { layer: 'L3' } }));
    assert.deepEqual(table.metadata, { layer: 'L3' });
  });

  test('an empty table keeps its columns', async () => {
    const table = await readParquetTable(writeParquetTable([timestampColumn('time', []), stringColumn('s', [])]));
    assert.equal(table.rows, 0);
    assert.deepEqual(table.columns, [{ name: 'time', type: 'timestamp', values: [] }, { name: 's', type: 'string', values: [] }]);
  });

  test('a table of several pages and row groups round-trips exactly, in order', async () => {
    const n = 230_000;
    const x = Float64Array.from({ length: n }, (_, i) => (i % 97 === 0 ? NaN : Math.sin(i) * 1000));
    const bytes = writeParquetTable([timestampColumn('time', Float64Array.from({ length: n }, (_, i) => T0 + i * FIVE_MIN)), doubleColumn('x', x)]);
    assert.ok(parquetMetadata(bytes).row_groups.length > 1, 'the case needs several row groups');
    const table = await readParquetTable(bytes);
    const back = float64Of(table, 'x');
    assert.equal(back.length, n);
    const times = float64Of(table, 'time');
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (!Object.is(back[i], x[i]) || times[i] !== T0 + i * FIVE_MIN) mismatches++;
    assert.equal(mismatches, 0);
  });

  test('bad input is refused with the column and row named', () => {
    assert.throws(() => writeParquetTable([]), /at least one column/);
    assert.throws(() => writeParquetTable([doubleColumn('x', [1, 2]), doubleColumn('y', [1])]), /"y" has 1 rows but "x" has 2/);
    assert.throws(() => writeParquetTable([doubleColumn('x', [1]), doubleColumn('x', [1])]), /repeated/);
    assert.throws(() => writeParquetTable([int32Column('n', [1, 2.5])]), /Column "n" row 1: 2.5 is not a valid int32/);
    assert.throws(() => writeParquetTable([timestampColumn('t', [T0 + 0.5])]), /Column "t" row 0/);
    assert.throws(() => writeParquetTable([{ name: 's', type: 'string', values: [1 as unknown as string] }]), /not a valid string/);
  });

  test('bytes that are not Parquet are refused as unreadable', async () => {
    await assert.rejects(readParquetTable(new TextEncoder().encode('not parquet at all')), (err: unknown) => err instanceof TasaError && err.code === 'unreadable_file');
  });

  test('a view on a larger buffer is read correctly', async () => {
    const bytes = writeParquetTable([doubleColumn('x', [1, null, 3])]);
    const padded = new Uint8Array(bytes.length + 16);
    padded.set(bytes, 8);
    const table = await readParquetTable(padded.subarray(8, 8 + bytes.length));
    assert.deepEqual(columnOf(table, 'x').values, [1, null, 3]);
  });

  test('sliceTable takes the same rows of every column', () => {
    const sliced = sliceTable(sampleColumns(), 1, 3);
    assert.deepEqual(
      sliced.map((c) => Array.from(c.values as ArrayLike<unknown>)),
      [[T0 + FIVE_MIN, T0 + 2 * FIVE_MIN], [NaN, -0], [4000.125, NaN], [NaN, -1.25], [2, 3], [null, 'ñandú'], [false, null]],
    );
  });
});
