import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'tasa-cli-'));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function tasa(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const cleanEnv: Record<string, string | undefined> = { ...process.env, TASA_DATA_DIR: dataDir, TASA_LOG_LEVEL: 'silent', ...env };
  if (!('DATABASE_URL' in env)) delete cleanEnv['DATABASE_URL'];
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: cleanEnv, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function sessionCsv(startIso: string, count: number): string {
  const start = Date.parse(startIso);
  const lines = Array.from({ length: count }, (_, i) => {
    const t = new Date(start + i * 300_000).toISOString().replace('T', ' ').replace('.000Z', '+00:00');
    const p = 4000 + i;
    return `${t},USD/COP,${p},${p + 2},${p - 1},${p + 1},0,twelvedata,x,y`;
  });
  return ['time,symbol,open,high,low,close,volume,source,created_at,updated_at', ...lines].join('\n') + '\n';
}

describe('tasa CLI (embedded store)', { concurrency: false }, () => {
  it('shows the calendar with holiday names and next-day-settlement days', async () => {
    const r = await tasa(['calendar', '--from', '2025-03-21', '--to', '2025-03-25', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const days = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      days.map((d) => [d['date'], d['trading_day']]),
      [
        ['2025-03-21', true],
        ['2025-03-22', false],
        ['2025-03-23', false],
        ['2025-03-24', false],
        ['2025-03-25', true],
      ],
    );
    assert.match(String(days[3]?.['holiday']), /José/);
    assert.equal(days[0]?.['session_open'], '2025-03-21T13:00:00.000Z');
    const july = await tasa(['calendar', '--from', '2024-07-04', '--format', 'csv']);
    assert.match(july.stdout, /^2024-07-04,Thu,true,,true,/m);
  });

  it('imports a file, then lists bars, sessions and gaps in each format', async () => {
    const file = join(dataDir, 'bars.csv');
    writeFileSync(file, sessionCsv('2024-01-02T13:00:00Z', 57));
    const imported = await tasa(['import', file, '--symbol', 'USDCOP']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /rows read 57 = kept 57 \(repaired 0\) \+ dropped 0 \+ rejected 0 \| stored raw 57 \| bars new 57,/);

    const csv = await tasa(['bars', '--from', '2024-01-02', '--format', 'csv']);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines[0], 'time,open,high,low,close,volume,source,revision,flags');
    assert.equal(lines.length, 58);
    assert.equal(lines[1], '2024-01-02T13:00:00.000Z,4000,4002,3999,4001,0,import,1,');

    const sessions = await tasa(['sessions', '--symbol', 'USD/COP', '--from', '2024-01-02', '--to', '2024-01-03', '--format', 'json']);
    assert.deepEqual(JSON.parse(sessions.stdout), [
      { date: '2024-01-02', expected: 60, present: 57, missing: 3, flat_share: 0, repaired: 0, status: 'partial' },
      { date: '2024-01-03', expected: 60, present: 0, missing: 60, flat_share: null, repaired: 0, status: 'missing' },
    ]);

    const gaps = await tasa(['gaps', '--from', '2024-01-02', '--format', 'table']);
    assert.match(gaps.stdout, /^date\s+from\s+to\s+bars$/m);
    assert.match(gaps.stdout, /2024-01-02\s+2024-01-02T17:45:00.000Z\s+2024-01-02T18:00:00.000Z\s+3/);
  });

  it('writes every rejected row to --rejects, conflicting duplicates with the kept line, and its counts add up', async () => {
    const good = sessionCsv('2024-01-03T13:00:00Z', 4).trim().split('\n');
    const file = join(dataDir, 'faulty.csv');
    writeFileSync(
      file,
      [
        ...good, // lines 1 (header) to 5
        '2024-01-03 13:20:00+00:00,USD/COP,1e+23,1e+23,1e+23,1e+23,0,twelvedata,x,y', // line 6
        '2024-01-03 13:05:00+00:00,USD/COP,4100,4102,4099,4101,0,twelvedata,x,y', // line 7: the slot of line 3
        '2024-01-06 13:05:00+00:00,USD/COP,4100,4102,4099,4101,0,twelvedata,x,y', // line 8: Saturday
      ].join('\n') + '\n',
    );
    const rejects = join(dataDir, 'rejects.csv');
    const r = await tasa(['import', file, '--rejects', rejects]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^faulty\.csv: rows read 7 = kept 4 \(repaired 0\) \+ dropped 1 \(non-trading-day 1\) \+ rejected 2 \(price-out-of-band 1, conflicting-duplicate 1\) \|/);
    assert.deepEqual(readFileSync(rejects, 'utf8').trim().split('\n'), [
      'line,code,reason',
      '6,price_out_of_band,"price_out_of_band: open 1e+23 is outside the plausible band of USD/COP, 1,000-10,000"',
      '7,conflicting_duplicate,"conflicting_duplicate: slot 2024-01-03T13:05:00.000Z is held by line 3 (OHLC 4001/4003/4000/4002 vol 0); this row has 4100/4102/4099/4101 vol 0"',
    ]);
    assert.match(r.stderr, /^faulty\.csv:6: rejected: price_out_of_band: open 1e\+23/m);
  });

  it('answers bad input with one sentence and a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['bars', '--from', '2024-02-30'], /--from must be a date as YYYY-MM-DD, not "2024-02-30"\./],
      [['bars', '--from', '2024-02-03', '--to', '2024-02-01'], /--to 2024-02-01 is before --from 2024-02-03\./],
      [['bars', '--symbol', 'EUR/XYZ', '--from', '2024-02-01'], /Unknown symbol "EUR\/XYZ"/],
      [['import', join(dataDir, 'nope.csv')], /nope\.csv/],
      [['bars', '--from', '2024-01-01', '--format', 'xml'], /--format must be one of table, csv, json, not "xml"/],
    ];
    for (const [args, message] of cases) {
      const r = await tasa(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('says clearly when the database is unreachable, without the password', async () => {
    const r = await tasa(['sessions', '--from', '2024-01-02'], { DATABASE_URL: 'postgres://tasa:s3cret@127.0.0.1:1/tasa' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Cannot reach PostgreSQL/);
    assert.doesNotMatch(r.stderr + r.stdout, /s3cret/);
  });

  it('doctor reports the store and its schema version', async () => {
    const r = await tasa(['doctor']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ok\s+database\s+pglite:.*schema version \d+, up to date/);
  });
});
