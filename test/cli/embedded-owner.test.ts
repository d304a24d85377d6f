/**
 * The README's sequence, with real processes: `tasa up` owns the embedded store and serves it;
 * `tasa import` and `tasa bars` in other processes go through it, and the running server sees
 * the import at once. After Ctrl-C the store opens again with everything in it; after `kill -9`
 * the next command clears the stale lock and opens it.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'tasa-owner-'));
const lockPath = join(dataDir, 'store.lock');
const socketPath = join(dataDir, '.s.PGSQL.5432');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, TASA_DATA_DIR: dataDir, TASA_LOG_LEVEL: 'warn', TASA_HTTP_PORT: '0', TASA_SIMULATOR_PORT: '0' };
  for (const name of Object.keys(e)) if (name === 'DATABASE_URL' || name === 'REDIS_URL' || name.startsWith('TWELVEDATA_API_KEY')) delete e[name];
  return e;
}

function tasa(args: string[]): Promise<Result> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: env(), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

interface Owner {
  child: ChildProcess;
  apiUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `tasa up` and waits for its API line. */
async function startUp(): Promise<Owner> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'up'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const apiUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tasa up not ready within 45 s:\n${out}`)), 45_000);
    const look = (): void => {
      const match = /API and dashboard on (http:\/\/\S+)/.exec(out);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(match[1]);
    };
    child.stdout?.on('data', look);
    void exited.then((code) => reject(new Error(`tasa up exited (${code}) before it was ready:\n${out}`)));
  });
  return { child, apiUrl, output: () => out, exited };
}

/** Three sessions, 2025-03-03..05, 60 bars each; open = 4000 + bar index + 100 * day. */
function historyCsv(): string {
  const lines = ['time,symbol,open,high,low,close,volume,source,created_at,updated_at'];
  for (let day = 0; day < 3; day++) {
    const open = Date.parse(`2025-03-0${3 + day}T13:00:00Z`);
    for (let i = 0; i < 60; i++) {
      const time = new Date(open + i * 300_000).toISOString().replace('T', ' ').replace('.000Z', '+00:00');
      const p = 4000 + i + 100 * day;
      lines.push(`${time},USD/COP,${p},${p + 2},${p - 1},${p + 1},0,twelvedata,x,y`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const BARS = ['bars', '--symbol', 'USD/COP', '--from', '2025-03-03', '--to', '2025-03-05', '--format', 'csv'];

function barLines(stdout: string): string[] {
  return stdout.trim().split('\n').slice(1);
}

describe('one owner of the embedded store', { concurrency: false }, () => {
  const file = join(dataDir, 'history.csv');
  writeFileSync(file, historyCsv());
  let owner: Owner | undefined;
  after(() => {
    owner?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves `tasa import` and `tasa bars` from other processes while `tasa up` runs, and the server sees the import at once', async () => {
    owner = await startUp();
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number; endpoint: { path?: string } };
    assert.equal(lock.pid, owner.child.pid);
    assert.deepEqual(lock.endpoint, { path: socketPath });

    // Two clients at once: the import's transactions and another command's queries take turns.
    const [imported, sessions] = await Promise.all([tasa(['import', file, '--symbol', 'USD/COP']), tasa(['sessions', '--from', '2025-03-03', '--to', '2025-03-05', '--format', 'csv'])]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /rows read 180 .*bars new 180,/);
    assert.equal(sessions.code, 0, sessions.stderr);

    const bars = await tasa(BARS);
    assert.equal(bars.code, 0, bars.stderr);
    assert.equal(barLines(bars.stdout).length, 180);
    console.log(`through the socket: import ${Math.round(imported.ms)} ms, bars ${Math.round(bars.ms)} ms`);

    const response = await fetch(`${owner.apiUrl}/api/candlesticks/USDCOP?from=2025-03-03&to=2025-03-05&limit=500`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { count: number; candles: Array<{ time: string; open: number; close: number }> };
    assert.equal(body.count, 180);
    assert.deepEqual(body.candles[0], { ...body.candles[0], time: '2025-03-03T13:00:00.000Z', open: 4000, close: 4001 });
    assert.deepEqual(body.candles[179], { ...body.candles[179], time: '2025-03-05T17:55:00.000Z', open: 4259, close: 4260 });
  });

  it('refuses a second long-running process on the same store, naming the owner', async () => {
    const second = await tasa(['up']);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`in use by pid ${owner?.child.pid} \\(tasa up`));
    assert.ok(owner?.child.exitCode === null, 'the owner still runs');
  });

  it('stops on SIGINT, releasing the lock and the socket; the store opens again with the import in it', async () => {
    assert.ok(owner);
    owner.child.kill('SIGINT');
    assert.equal(await owner.exited, 0, owner.output());
    assert.equal(existsSync(lockPath), false);
    assert.equal(existsSync(socketPath), false);
    const bars = await tasa(BARS);
    assert.equal(bars.code, 0, bars.stderr);
    assert.equal(bars.stderr, '');
    assert.equal(barLines(bars.stdout).length, 180);
    console.log(`direct (no owner running): bars ${Math.round(bars.ms)} ms`);
  });

  it('after `kill -9` of the owner, the next command clears the stale lock (one line) and opens the store', async () => {
    owner = await startUp();
    const pid = owner.child.pid;
    owner.child.kill('SIGKILL');
    await owner.exited;
    assert.equal(existsSync(lockPath), true, 'a killed owner leaves its lock');
    const bars = await tasa(BARS);
    assert.equal(bars.code, 0, bars.stderr);
    assert.match(bars.stderr, new RegExp(`^The embedded database at .+: cleared a stale lock of pid ${pid} \\(tasa up, started .+\\), which is no longer running\\.\\n$`));
    assert.equal(barLines(bars.stdout).length, 180);
    assert.equal(existsSync(lockPath), false);
  });
});
