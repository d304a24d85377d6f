/**
 * `tasa pipeline run`, `tasa backtest`, `tasa models list` as a user runs them: separate
 * processes on an embedded store and a local archive, after `tasa import` of a synthetic file.
 * (Training itself is covered by test/pipeline/research-pipeline.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listAudit } from '../../src/store/audit-repo.ts';
import { insertBacktest } from '../../src/store/backtests-repo.ts';
import { listModels, insertModel } from '../../src/store/models-repo.ts';
import { openDb } from '../../src/store/open-db.ts';
import { syntheticSeries } from '../research/synthetic-series.ts';
import { backtestFixture } from '../support/backtest-fixture.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tasa-cli-pipeline-'));

async function tasa(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, TASA_DATA_DIR: join(dir, 'data'), TASA_ARCHIVE_DIR: join(dir, 'archive'), TASA_LOG_LEVEL: 'silent' };
  delete env['DATABASE_URL'];
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The CLI's embedded store, opened here between commands (no process owns it then). */
async function withEmbeddedStore(fn: (db: Awaited<ReturnType<typeof openDb>>) => Promise<void>): Promise<void> {
  const db = await openDb({ dataDir: join(dir, 'data') });
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

/** ~40 sessions in the format of the real history file. */
function historyCsv(): string {
  const lines = syntheticSeries(2400, { seed: 5 }).map((b) => {
    const t = new Date(b.time).toISOString().replace('T', ' ').replace('.000Z', '+00:00');
    return `${t},USD/COP,${b.open},${b.high},${b.low},${b.close},0,twelvedata,x,y`;
  });
  return ['time,symbol,open,high,low,close,volume,source,created_at,updated_at', ...lines].join('\n') + '\n';
}

describe('tasa pipeline commands (embedded store)', { concurrency: false }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a history, runs L0-L4 and L6 without training, and reports each layer', async () => {
    const file = join(dir, 'history.csv');
    writeFileSync(file, historyCsv());
    assert.equal((await tasa(['import', file])).code, 0);
    const r = await tasa(['pipeline', 'run', '--skip-training']);
    assert.equal(r.code, 0, r.stderr);
    for (const layer of ['L0', 'L1', 'L2', 'L3', 'L4', 'L6']) assert.match(r.stdout, new RegExp(`^${layer} completed +run \\d+ +dataset [0-9a-f]{16}`, 'm'));
    assert.doesNotMatch(r.stdout, /^L5/m);
    assert.match(r.stdout, /^L4 .*episodes, half-spread 2 bps \(configured\)$/m, 'the spread charged and where it came from');
    assert.match(r.stdout, /^backtests stored: \d+, \d+, \d+, \d+, \d+$/m, 'the five baselines');
    assert.match(r.stderr, /^L6 USD\/COP: completed \(run \d+\)$/m, 'progress on stderr');
  });

  it('backtests a baseline over dates and writes its report', async () => {
    const report = join(dir, 'report.html');
    const r = await tasa(['backtest', '--policy', 'sma-crossover', '--from', '2024-01-15', '--to', '2024-02-15', '--report', report]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^backtest \d+: sma-crossover on 2024-01-15\.\.2024-02-15/m);
    assert.match(r.stdout, /total return -?\d+\.\d+%/);
    assert.ok(existsSync(report));
    assert.match(readFileSync(report, 'utf8'), /^<!DOCTYPE html>/);
  });

  it('charges the costs given as flags over the research config, and says where they came from', async () => {
    const r = await tasa(['backtest', '--policy', 'flat', '--from', '2024-01-15', '--spread-bps', '4', '--fee-bps', '1', '--slippage-bps', '0.5', '--trials', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /costs 4\+1\+0\.5 bps \(spread\+fee\+slippage; research config \(.+\): half-spread 4 bps \(configured\)\)$/m);
  });

  it('refuses a bad research flag with one sentence naming the flag and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['pipeline', 'run', '--fee-bps', 'abc'], /^error: --fee-bps must be a number from 0 at most 10000, not "abc"\.$/],
      [['train', '--policy', 'ppo', '--split', '0.7,0.2,0.2'], /^error: --split must be three fractions train,validation,test, .* not "0\.7,0\.2,0\.2"\.$/],
      [['train', '--policy', 'ppo', '--seeds', '0'], /^error: --seeds must be a whole number >= 1, not "0"\.$/],
      [['backtest', '--policy', 'flat', '--from', '2024-01-15', '--gate-confidence', '1'], /^error: --gate-confidence must be a number from 0 below 1, not "1"\.$/],
      [['pipeline', 'run', '--layers', 'L6', '--spread-bps', '3'], /^error: Costs, --split and --purge-sessions shape the L4 dataset; select L4/],
    ];
    for (const [args, message] of cases) {
      const r = await tasa(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
  });

  it('refuses a gap between layers with one sentence and exit code 2; lists no model before training', async () => {
    const gap = await tasa(['pipeline', 'run', '--layers', 'L1,L3']);
    assert.equal(gap.code, 2);
    assert.match(gap.stderr, /^error: .*consecutive data layers/m);
    const list = await tasa(['models', 'list', '--format', 'json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
  });

  it('refuses to promote a model whose backtest failed the gates, as the API does; --force promotes it, audited', async () => {
    const failing = backtestFixture({ policyId: 'ppo-weak', seed: 1 });
    assert.equal(failing.input.passed, false, 'the fixture fails its gates');
    await withEmbeddedStore(async (db) => {
      await insertModel(db, { id: 'ppo-weak', kind: 'ppo', symbol: 'USD/COP', datasetHash: null, config: {}, metrics: {}, trainingCurve: [], weights: new Uint8Array([1, 2, 3]) });
      await insertBacktest(db, failing.input);
    });
    const refused = await tasa(['models', 'promote', 'ppo-weak']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /ppo-weak's newest backtest \(\d+\) failed the production gates \(.+\)/);
    assert.match(refused.stderr, /--force promotes anyway/);
    await withEmbeddedStore(async (db) => assert.deepEqual((await listModels(db)).map((m) => [m.id, m.status]), [['ppo-weak', 'candidate']], 'nothing changed'));

    const forced = await tasa(['models', 'promote', 'ppo-weak', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    await withEmbeddedStore(async (db) => {
      assert.deepEqual((await listModels(db)).map((m) => [m.id, m.status]), [['ppo-weak', 'production']]);
      const audit = await listAudit(db, { actionPrefix: 'model.promote', limit: 10 });
      assert.deepEqual(audit.map((a) => [a.action, a.actor]), [['model.promote', 'cli'], ['model.promote.force', 'cli']]);
      assert.match(String(audit[1]?.details['overridden']), /failed the production gates/);
    });
  });

  it('lists each model with its test metrics and gate result: rounded in the table, whole in JSON', async () => {
    const tested = backtestFixture({ policyId: 'ppo-listed', seed: 2 });
    await withEmbeddedStore(async (db) => {
      const [run] = await db.query<{ id: number }>('SELECT max(id)::int AS id FROM pipeline_runs');
      await insertModel(db, { id: 'ppo-listed', kind: 'ppo', symbol: 'USD/COP', datasetHash: null, config: {}, metrics: { validation: { meanReward: -0.0010238386252197208 } }, trainingCurve: [], weights: new Uint8Array([1]) });
      await insertBacktest(db, { ...tested.input, pipelineRunId: run!.id });
    });
    const { metrics, gates } = tested.input;
    const failed = gates!.gates.filter((g) => !g.passed).map((g) => g.gate);
    assert.ok(failed.length > 0 && metrics.totalReturn !== null && metrics.sharpe !== null);

    const json = await tasa(['models', 'list', '--format', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const listed = (JSON.parse(json.stdout) as Array<Record<string, unknown>>).find((m) => m['id'] === 'ppo-listed');
    assert.deepEqual(
      [listed?.['validation_reward'], listed?.['test_return'], listed?.['test_sharpe'], listed?.['test_trades'], listed?.['gates'], listed?.['failed_gates'], listed?.['verdict']],
      [-0.0010238386252197208, metrics.totalReturn, metrics.sharpe, metrics.tradeCount, 'failed', failed.join(','), gates!.verdict],
    );

    const table = await tasa(['models', 'list', '--format', 'table']);
    assert.equal(table.code, 0, table.stderr);
    const line = table.stdout.split('\n').find((l) => l.startsWith('ppo-listed')) ?? '';
    assert.match(line, / -0\.00102 /, 'validation reward to 5 decimals');
    assert.ok(line.includes(` ${(metrics.totalReturn * 100).toFixed(2)}% `) && line.includes(` ${metrics.sharpe.toFixed(2)} `), line);
    assert.ok(line.includes(` failed  ${failed.join(',')} `) && line.endsWith(` ${gates!.verdict!}`), line);
    assert.doesNotMatch(line, /\d\.\d{6,}/, 'no unrounded number');
  });
});
