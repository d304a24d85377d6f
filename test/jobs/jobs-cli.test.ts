import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/clock.ts';
import type { Session } from '../../src/domain/calendar.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { calendar } from './support/jobs-fixtures.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('./support/jobs-cli.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'tasa-jobs-cli-'));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The child gets an embedded store in a temp dir and no real API keys or servers. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TASA_DATA_DIR: dataDir, TASA_LOG_LEVEL: 'silent' };
  for (const name of Object.keys(env)) if (/^TWELVEDATA_API_KEY|^DATABASE_URL$|^REDIS_URL$/.test(name)) delete env[name];
  return env;
}

async function tasa(args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], { env: cliEnv(), timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function lastSessions(count: number): Session[] {
  const sessions = [calendar.previousSession(systemClock.now())];
  while (sessions.length < count) sessions.unshift(calendar.previousSession((sessions[0] as Session).open));
  return sessions;
}

describe('tasa backfill and tasa worker (embedded store, simulator)', { concurrency: false }, () => {
  let sim: RunningSimulator;
  // The CLI runs on the system clock: the range is the last 21 sessions before today, about four
  // weeks, more than one request can span (5000 bars), so it takes two requests.
  const sessions = lastSessions(21);
  const first = sessions[0] as Session;
  const last = sessions[20] as Session;
  before(async () => {
    sim = await startSimulator({ clock: systemClock, seed: 3 });
  });
  after(async () => {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops at --max-requests, and a second run completes the range from the simulator', async () => {
    const args = ['backfill', '--symbol', 'USD/COP', '--from', first.date, '--to', last.date, '--simulator-url', sim.restUrl];
    const partial = await tasa([...args, '--max-requests', '1']);
    assert.equal(partial.code, 0, partial.stderr);
    const head = `USD/COP ${first.date}..${last.date}: 21 sessions, 1,260 bars due, 1,260 missing`;
    const stopped = new RegExp(`^${head} \\| 1 of 2 requests \\| filled ([\\d,]+) \\| still missing ([\\d,]+) \\| stopped at --max-requests`).exec(partial.stdout.trim());
    assert.ok(stopped, partial.stdout);
    const left = stopped[2] ?? '';
    assert.equal(Number(stopped[1]?.replace(',', '')) + Number(left.replace(',', '')), 1260);

    const rest = await tasa(args);
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal(rest.stdout.trim(), `USD/COP ${first.date}..${last.date}: 21 sessions, 1,260 bars due, ${left} missing | 1 of 1 requests | filled ${left} | still missing 0`);
  });

  it('says in one sentence what is missing without keys or a simulator', async () => {
    const r = await tasa(['backfill', '--from', first.date]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), 'error: No TwelveData API key: set TWELVEDATA_API_KEYS, or pass --simulator-url <restUrl> of a running `tasa simulate`.');
  });

  it('runs the worker until SIGTERM and shuts down cleanly', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker', '--simulator-url', sim.restUrl], { env: cliEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    for (let waited = 0; !stdout.includes('Ctrl-C to stop'); waited += 100) {
      if (waited > 30_000 || child.exitCode !== null) assert.fail(`the worker did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(stdout, /failsafe \(0 \* \* \* \*\), failsafe-at-close \(5 13 \* \* 1-5\), sync \(\*\/5 \* \* \* \*\), retention \(0 18 \* \* 1-5\) in America\/Bogota/);
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(code, 0, `exit ${code} signal ${signal}; stdout: ${stdout}; stderr: ${stderr}`);
    assert.match(stdout, /worker: stopped/);
  });
});
