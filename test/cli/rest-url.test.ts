/**
 * A split deployment points every REST caller at TWELVEDATA_REST_URL: `tasa backfill` and the
 * worker's backfill and failsafe jobs must use it, not api.twelvedata.com. The "vendor" here is a
 * real simulator on a local port; the public host is unreachable from tests, so bars stored and
 * requests counted by the simulator prove which URL was used.
 */
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
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { openJobSender } from '../../src/jobs/boss.ts';
import { createLogger } from '../../src/log.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openScratchPostgres } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const calendar = new MarketCalendar();
const session = calendar.previousSession(systemClock.now());

function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TASA_LOG_LEVEL: 'silent', ...extra };
  for (const name of Object.keys(env)) if (/^TWELVEDATA_API_KEY|^DATABASE_URL$|^REDIS_URL$/.test(name) && !(name in extra)) delete env[name];
  return env;
}

describe('REST base URL from TWELVEDATA_REST_URL', { concurrency: false }, () => {
  let sim: RunningSimulator;
  const dataDir = mkdtempSync(join(tmpdir(), 'tasa-rest-url-'));
  before(async () => {
    sim = await startSimulator({ clock: systemClock, seed: 5 });
  });
  after(async () => {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('tasa backfill calls TWELVEDATA_REST_URL when no --simulator-url is given', async () => {
    const before = sim.stats().restRequests;
    const env = cliEnv({ TASA_DATA_DIR: dataDir, TWELVEDATA_API_KEYS: 'split-deployment-key', TWELVEDATA_REST_URL: sim.restUrl });
    const { stdout } = await run(process.execPath, ['--import', 'tsx', MAIN, 'backfill', '--from', session.date], { env, timeout: 120_000 });
    assert.match(stdout, /60 bars due, 60 missing \| 1 of 1 requests \| filled 60 \| still missing 0/);
    assert.equal(sim.stats().restRequests - before, 1);
  });

  const pgUrl = process.env['TEST_DATABASE_URL'];
  it('tasa worker runs a queued backfill against TWELVEDATA_REST_URL', { skip: pgUrl === undefined || pgUrl === '' ? 'set TEST_DATABASE_URL' : false }, async () => {
    const scratch = await openScratchPostgres(pgUrl ?? '');
    await migrate(scratch.db);
    const env = cliEnv({ DATABASE_URL: scratch.url, TWELVEDATA_API_KEYS: 'split-deployment-key', TWELVEDATA_REST_URL: sim.restUrl });
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    const sender = await openJobSender({ db: scratch.db, databaseUrl: scratch.url, logger: createLogger('silent') });
    try {
      await waitFor(() => stdout.includes('Ctrl-C to stop'), () => `the worker to start: ${stderr}`, 60_000, 200);
      const before = sim.stats().restRequests;
      await sender.send('backfill', { symbol: 'USD/COP', from: session.date, to: session.date, requestedBy: 'cli' });
      const stored = async () => Number((await scratch.db.query<{ n: string }>('SELECT count(*) AS n FROM bars'))[0]?.n ?? 0);
      await waitFor(async () => (await stored()) === 60, () => `bars stored from ${sim.restUrl}; worker stderr: ${stderr}`, 60_000, 200);
      assert.ok(sim.stats().restRequests > before, 'the simulator saw the request');
    } finally {
      await sender.stop();
      child.kill('SIGTERM');
      await exited;
      await scratch.db.close();
    }
  });
});


