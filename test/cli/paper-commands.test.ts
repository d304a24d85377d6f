/**
 * `tasa paper replay` as a user runs it: a separate process on an embedded store after
 * `tasa import` of a synthetic history (about 40 sessions, enough for the pipeline's three
 * splits); the replay itself trades in a scratch store.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { syntheticSeries } from '../research/synthetic-series.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tasa-cli-paper-'));
const SERIES = syntheticSeries(2400, { seed: 9 });
const SESSIONS = [...new Set(SERIES.map((b) => b.session))];

async function tasa(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, TASA_DATA_DIR: join(dir, 'data'), TASA_LOG_LEVEL: 'silent' };
  delete env['DATABASE_URL'];
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function historyCsv(): string {
  const lines = SERIES.map((b) => {
    const t = new Date(b.time).toISOString().replace('T', ' ').replace('.000Z', '+00:00');
    return `${t},USD/COP,${b.open.toFixed(2)},${b.high.toFixed(2)},${b.low.toFixed(2)},${b.close.toFixed(2)},0,twelvedata,x,y`;
  });
  return ['time,symbol,open,high,low,close,volume,source,created_at,updated_at', ...lines].join('\n') + '\n';
}

describe('tasa paper replay (embedded store)', { concurrency: false }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('replays a baseline over stored bars and prints its trades matched against the backtest', async () => {
    const file = join(dir, 'history.csv');
    writeFileSync(file, historyCsv());
    assert.equal((await tasa(['import', file])).code, 0);
    const r = await tasa(['paper', 'replay', '--policy', 'sma-crossover', '--from', SESSIONS[1]!, '--to', SESSIONS[4]!]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^paper replay of sma-crossover: \d+ bars in \d+ sessions, costs 2\+0\.5 bps, \d+ bars\/s$/m);
    const [, matched, total] = /^trades matched: (\d+) \/ (\d+)/m.exec(r.stdout) ?? [];
    assert.ok(Number(total) > 0 && matched === total, r.stdout);
  });

  it('refuses an unknown policy with one sentence and exit code 2', async () => {
    const r = await tasa(['paper', 'replay', '--policy', 'nope', '--from', SESSIONS[1]!]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: No policy "nope"/m);
  });

  it('refuses --split with --from, and --split before any L6 run, with one sentence and exit code 2', async () => {
    const both = await tasa(['paper', 'replay', '--policy', 'sma-crossover', '--split', 'test', '--from', SESSIONS[1]!]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^error: --split chooses the dates/m);
    const noRun = await tasa(['paper', 'replay', '--policy', 'sma-crossover', '--split', 'test']);
    assert.equal(noRun.code, 2);
    assert.match(noRun.stderr, /^error: There is no completed L6 run of USD\/COP/m);
  });

  it('replays the test split of the newest L6 run, its dates taken from that run', async () => {
    assert.equal((await tasa(['pipeline', 'run', '--skip-training'])).code, 0);
    const bad = await tasa(['paper', 'replay', '--policy', 'sma-crossover', '--split', 'holdout']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: --split must be one of train, validation, test/m);
    const r = await tasa(['paper', 'replay', '--policy', 'sma-crossover', '--split', 'test']);
    assert.equal(r.code, 0, r.stderr);
    const [, from, to] = /^test split of L6 run \d+ \(L4 run \d+\): (\S+) to (\S+), \d+ sessions$/m.exec(r.stdout) ?? [];
    assert.ok(from !== undefined && to !== undefined && SESSIONS.includes(from) && SESSIONS.includes(to) && from <= to, r.stdout);
    const [, matched, total] = /^trades matched: (\d+) \/ (\d+)/m.exec(r.stdout) ?? [];
    assert.ok(Number(total) > 0 && matched === total, r.stdout);
  });
});
