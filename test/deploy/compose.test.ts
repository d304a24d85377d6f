/**
 * deploy/compose.yaml without a Docker daemon:
 * - `docker-compose config -q` (Debian's docker-compose) accepts it with every secret set, and
 *   refuses it with the secrets of deploy/.env.example left empty: there is no default password;
 * - its Tasa roles run as plain OS processes exactly as it wires them: each service's command,
 *   through bin/tasa.js (the image's entry point), with the environment names it sets, resolved
 *   as compose resolves them from an env file. Only network addresses change (the services'
 *   host names become a scratch PostgreSQL database, a private Redis and free ports), and the
 *   test adds the data directory and a simulated timeline, names the compose file never sets.
 *   The simulator stands in for TwelveData. Both API processes answer /health and serve the bars
 *   and prices the ingest process produced.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { parse } from 'yaml';
import { ScaledClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import type { Db } from '../../src/store/db.ts';
import { startTasaCommand, type TasaProcess } from '../faults/support/processes.ts';
import { freePort } from '../support/free-port.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { openScratchPostgres } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'deploy/compose.yaml');
const IN_CI = process.env['CI'] !== undefined && process.env['CI'] !== '';
const PG_URL = process.env['TEST_DATABASE_URL'];
const SYMBOL = 'USD/COP';
const API_KEY = 'compose-test-key';
/** The image's `tasa` services (deploy/compose.yaml builds it as tasa:local). */
const TASA_IMAGE = 'tasa:local';

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  profiles?: string[];
}

interface ComposeFile {
  services: Record<string, Service>;
}

/** The compose file as docker-compose reads it (YAML merge keys included), before interpolation. */
async function composeFile(): Promise<ComposeFile> {
  return parse(await readFile(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
}

/** `${NAME}`, `${NAME:-default}`, `${NAME:?error}` and `$$` as compose resolves them from `vars`. */
function interpolate(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (match === '$$' || name === undefined) return '$';
    const value = vars[name] ?? '';
    if (value !== '' || op === undefined) return value;
    if (op === '-') return arg ?? '';
    throw new Error(`${name}: ${arg ?? 'required'}`);
  });
}

/** Every variable the compose file takes from the env file. */
async function composeVariables(): Promise<Set<string>> {
  const text = await readFile(COMPOSE_FILE, 'utf8');
  return new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1] ?? ''));
}

/** NAME=value lines of an env file (comments and blank lines skipped). */
function envFileEntries(text: string): Map<string, string> {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

async function dockerComposeBinary(): Promise<string | null> {
  try {
    await run('docker-compose', ['version']);
    return 'docker-compose';
  } catch {
    return null;
  }
}

/** The secrets an operator puts into deploy/.env, as fresh random values. */
function secrets(): Record<string, string> {
  const secret = () => randomBytes(12).toString('hex');
  return { POSTGRES_PASSWORD: secret(), REDIS_PASSWORD: secret(), GRAFANA_ADMIN_PASSWORD: secret(), GRAFANA_DB_PASSWORD: secret(), TWELVEDATA_API_KEYS: API_KEY };
}

describe('deploy/compose.yaml', () => {
  it('deploy/.env.example lists every variable of the compose file, with no value; deploy/.env is git-ignored', async () => {
    const example = envFileEntries(await readFile(join(ROOT, 'deploy/.env.example'), 'utf8'));
    assert.deepEqual([...(await composeVariables())].filter((v) => !example.has(v)), [], 'variables missing from .env.example');
    assert.deepEqual([...example].filter(([, v]) => v !== ''), [], 'no value (and so no default password) in .env.example');
    assert.match(await readFile(join(ROOT, '.gitignore'), 'utf8'), /^deploy\/\.env$/m);
  });

  it('docker-compose config accepts it with the secrets set, and refuses it while one is empty', async (t) => {
    const binary = await dockerComposeBinary();
    if (binary === null) {
      assert.ok(!IN_CI, 'CI is set but docker-compose is not installed (Debian package docker-compose; .ci/run installs it)');
      t.skip('docker-compose is not installed (apt-get install docker-compose)');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'tasa-compose-'));
    try {
      const example = await readFile(join(ROOT, 'deploy/.env.example'), 'utf8');
      const filled = Object.entries(secrets()).reduce((text, [name, value]) => text.replace(new RegExp(`^${name}=$`, 'm'), `${name}=${value}`), example);
      await writeFile(join(dir, 'filled.env'), filled);
      await writeFile(join(dir, 'empty.env'), example);
      const config = (envFile: string) => run(binary, ['-f', COMPOSE_FILE, '--env-file', join(dir, envFile), '--profile', 'standby', 'config', '-q']);
      await config('filled.env');
      await assert.rejects(config('empty.env'), /set [A-Z_]+ in deploy\/\.env/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('docs/operations.md says what each alert of deploy/prometheus-rules.yml means and what to do', async () => {
    const rules = parse(await readFile(join(ROOT, 'deploy/prometheus-rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
    const runbook = await readFile(join(ROOT, 'docs/operations.md'), 'utf8');
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    assert.ok(alerts.length > 0);
    assert.deepEqual(alerts.filter((a) => !new RegExp(`^\\| \`${a}\` \\|`, 'm').test(runbook)), [], 'alerts without a row in the runbook');
  });

  it('has the roles: one ingest, a standby ingest behind a profile, two serve, one worker', async () => {
    const { services } = await composeFile();
    const roles = Object.entries(services)
      .filter(([, s]) => s.image === TASA_IMAGE)
      .map(([name, s]) => [name, (s.command ?? []).join(' '), (s.profiles ?? []).join(',')]);
    assert.deepEqual(roles.sort(), [
      ['ingest', 'ingest', ''],
      ['ingest-standby', 'ingest', 'standby'],
      ['serve-1', 'serve', ''],
      ['serve-2', 'serve', ''],
      ['worker', 'worker', ''],
    ]);
  });
});

// ---- the roles as OS processes ----

const skipRoles = PG_URL || IN_CI ? false : 'set TEST_DATABASE_URL';
const logger = pino({ level: 'silent' });
const calendar = new MarketCalendar();
/** A Tuesday session; the simulated clock starts a minute before its open. */
const SESSION = calendar.sessionFor('2026-03-03');
/** 30x: a 5-minute bar closes every 10 real seconds. */
const SPEED = 30;
/** Real time the four processes get to start before the clock reaches the open. */
const STARTUP_REAL_MS = 25_000;
const PROCESS_START_REAL_MS = 240_000;
/** Names the test adds: each process's data directory (the image sets /data) and the simulated timeline. */
const TEST_ONLY = ['TASA_DATA_DIR', 'TASA_CLOCK_START', 'TASA_CLOCK_SPEED', 'TASA_CLOCK_ANCHOR', 'TASA_HISTORY_WAIT_MS', 'TASA_FEED_SILENCE_MS', 'TASA_INGEST_LEASE_MS', 'TASA_INGEST_WATERMARK_MS'];
/** The services these processes stand for, started in this order. */
const ROLES = ['ingest', 'serve-1', 'serve-2', 'worker'] as const;

interface Addresses {
  databaseUrl: string;
  redisUrl: string;
  httpPort: number;
}

/**
 * A service's environment as compose resolves it from the env file `vars`, with its network
 * addresses (the postgres and redis services, the container port) replaced by real ones.
 */
function serviceEnv(name: string, service: Service, vars: Record<string, string>, at: Addresses, services: Set<string>): Record<string, string> {
  const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''), vars)]));
  const addresses: Record<string, [string, string]> = { DATABASE_URL: [at.databaseUrl, 'postgres'], REDIS_URL: [at.redisUrl, 'redis'] };
  for (const [key, [real, host]] of Object.entries(addresses)) {
    assert.ok(env[key] !== undefined, `${name} sets ${key}`);
    assert.equal(new URL(env[key]).hostname, host, `${name}: ${key} names the ${host} service`);
    assert.ok(services.has(host));
    env[key] = real;
  }
  // One port per role: the API's, or the metrics listener's in a role without the API.
  if (env['TASA_HTTP_PORT'] !== undefined) env['TASA_HTTP_PORT'] = String(at.httpPort);
  else if (env['TASA_METRICS_PORT'] !== undefined) env['TASA_METRICS_PORT'] = String(at.httpPort);
  for (const key of TEST_ONLY) assert.equal(env[key], undefined, `${name} sets ${key}, which this test overrides`);
  return env;
}

describe('the compose roles as OS processes', { skip: skipRoles, timeout: 480_000 }, () => {
  let redis: PrivateRedis | null = null;
  let db: Db | null = null;
  let sim: RunningSimulator | null = null;
  let dir = '';
  const processes = new Map<string, { process: TasaProcess; port: number }>();
  let passed = false;

  before(async () => {
    assert.ok(PG_URL, 'CI is set but TEST_DATABASE_URL is not');
    assert.ok(SESSION, '2026-03-03 is a session');
    redis = await startPrivateRedis();
    const scratch = await openScratchPostgres(PG_URL);
    db = scratch.db;
    dir = await mkdtemp(join(tmpdir(), 'tasa-compose-roles-'));
    const anchor = Math.round(performance.timeOrigin + performance.now()) + STARTUP_REAL_MS;
    const clockStart = SESSION.open - 60_000;
    const clock = new ScaledClock(clockStart, SPEED, anchor);
    sim = await startSimulator({ clock, seed: 17, ticksPerSecond: 0.5, plan: { perMinute: 10_000, perDay: 1_000_000 }, logger });
    const vars = { ...secrets(), TWELVEDATA_WS_URL: sim.wsUrl, TWELVEDATA_REST_URL: sim.restUrl, TWELVEDATA_PLAN_PER_MINUTE: '10000', TWELVEDATA_PLAN_PER_DAY: '1000000', TASA_SYMBOLS: SYMBOL };
    const timeline = {
      TASA_CLOCK_START: new Date(clockStart).toISOString(),
      TASA_CLOCK_SPEED: String(SPEED),
      TASA_CLOCK_ANCHOR: String(anchor),
      TASA_HISTORY_WAIT_MS: '0',
      // Clock times: at 30x the defaults (30 s, 30 s, 2 s) would be 1 s, 1 s and 67 real ms.
      TASA_FEED_SILENCE_MS: String(5_000 * SPEED),
      TASA_INGEST_LEASE_MS: String(5_000 * SPEED),
      TASA_INGEST_WATERMARK_MS: String(300 * SPEED),
    };
    const { services } = await composeFile();
    const serviceNames = new Set(Object.keys(services));
    for (const name of ROLES) {
      const service = services[name];
      assert.ok(service?.command, `compose.yaml has the ${name} service with a command`);
      const port = await freePort();
      const env = { ...serviceEnv(name, service, vars, { databaseUrl: scratch.url, redisUrl: redis.url, httpPort: port }, serviceNames), ...timeline, TASA_DATA_DIR: join(dir, `${name}-data`) };
      processes.set(name, { process: startTasaCommand(name, service.command, env, join(dir, `${name}.log`)), port });
    }
  });

  after(async () => {
    for (const { process } of processes.values()) await process.stop().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await redis?.destroy().catch(() => undefined);
    if (passed) await rm(dir, { recursive: true, force: true });
    else if (dir !== '') process.stderr.write(`compose roles logs kept in ${dir}\n`);
  });

  const role = (name: (typeof ROLES)[number]) => {
    const p = processes.get(name);
    assert.ok(p, `${name} started`);
    return p;
  };
  const getJson = async <T>(port: number, path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };

  it('ingest writes, both serve processes answer /health and serve its bars and prices, the worker runs', async () => {
    const [ingest, serve1, serve2, worker] = ROLES.map(role);
    assert.ok(ingest && serve1 && serve2 && worker);
    await Promise.all([
      serve1.process.waitForLine(/API and dashboard on/, PROCESS_START_REAL_MS),
      serve2.process.waitForLine(/API and dashboard on/, PROCESS_START_REAL_MS),
      worker.process.waitForLine(/^worker: .*Ctrl-C to stop/, PROCESS_START_REAL_MS),
      ingest.process.waitForLine(/-> ACTIVE|"to":"ACTIVE"/, PROCESS_START_REAL_MS),
    ]);

    for (const serve of [serve1, serve2]) {
      const health = await getJson<{ status: string; checks: { redis: { ok: boolean } | null; ingest: { leases: Array<{ holder: string | null; live: boolean }> } } }>(serve.port, '/health');
      assert.equal(health.status, 200, JSON.stringify(health.body));
      assert.ok(['ready', 'degraded'].includes(health.body.status));
      assert.equal(health.body.checks.redis?.ok, true, 'the serve process uses Redis');
      assert.ok(health.body.checks.ingest.leases.some((l) => l.live && l.holder !== null), 'the ingest process holds the lease');
    }

    type Candle = { time: string; open: number; high: number; low: number; close: number };
    const candles = (port: number) => getJson<{ candles: Candle[] }>(port, '/api/candlesticks/USD%2FCOP?interval=5min&limit=12');
    let first: Candle | undefined;
    await waitFor(async () => {
      first = (await candles(serve1.port)).body.candles.find((c) => SESSION !== null && Date.parse(c.time) >= SESSION.open);
      return first !== undefined;
    }, 'a live bar of the session through serve-1', 90_000, 500);
    assert.ok(first);
    const bar = first;
    await waitFor(async () => (await candles(serve2.port)).body.candles.some((c) => c.time === bar.time && c.close === bar.close), `the bar ${bar.time} through serve-2`, 30_000, 500);

    for (const serve of [serve1, serve2]) {
      const latest = await getJson<{ symbol: string; price: number; source: string }>(serve.port, '/market/latest?symbol=USD%2FCOP');
      assert.equal(latest.status, 200, JSON.stringify(latest.body));
      assert.equal(latest.body.symbol, SYMBOL);
      assert.ok(latest.body.price > 0);
    }
    assert.ok(!worker.process.exited(), 'the worker is still running');
    for (const [name, p] of [['ingest', ingest], ['worker', worker]] as const) {
      const res = await fetch(`http://127.0.0.1:${p.port}/metrics`);
      assert.equal(res.status, 200, `${name} serves /metrics where deploy/prometheus.yml scrapes it`);
      assert.match(await res.text(), new RegExp(`role="${name}"`));
    }
    passed = true;
  });
});
