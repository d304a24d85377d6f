/**
 * A real Prometheus (Debian's `prometheus` and `promtool`) watching a running Tasa: `tasa ingest`
 * (metrics on TASA_METRICS_PORT) and two `tasa serve` processes as OS processes on a scratch
 * PostgreSQL database and a private Redis, the simulator standing in for TwelveData.
 *
 * - `promtool check rules` accepts deploy/prometheus-rules.yml.
 * - Prometheus scrapes every process (each target `up`), with the `role` label each process sets.
 * - Counters of two processes aggregate: /health requests sent to each `serve` add up in `sum()`,
 *   and `sum by (instance)` tells them apart.
 * - TasaDataStale fires for real once the simulator (the feed) stops, and is read from
 *   /api/v1/alerts; it is not firing before. The rules are loaded from a copy in which every
 *   `for:` is 2s (the shipped 1m to 10m holds would make the test minutes long); the expressions
 *   are the shipped ones.
 *
 * Skipped when prometheus is not installed, except in CI (where .ci/run installs it).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { ScaledClock, systemClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { migrate } from '../../src/store/migrate.ts';
import { syncReferenceData } from '../../src/store/reference-data.ts';
import { tasaEnv } from '../faults/support/fault-session.ts';
import { startTasa, type TasaProcess } from '../faults/support/processes.ts';
import { freePort } from '../support/free-port.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { openScratchPostgres, type ScratchPostgres } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';

const RULES = fileURLToPath(new URL('../../deploy/prometheus-rules.yml', import.meta.url));
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const PG_URL = process.env['TEST_DATABASE_URL'];
const CI = process.env['CI'] !== undefined && process.env['CI'] !== '';
const skip = !existsSync(PROMETHEUS) && !CI ? 'prometheus is not installed (Debian package prometheus)' : PG_URL ? false : CI ? false : 'set TEST_DATABASE_URL';

const SPEED = 10;
const MIN = 60_000;
const START_REAL_MS = 120_000;
const calendar = new MarketCalendar();
const SESSION = calendar.sessionFor('2026-03-04');
const logger = pino({ level: 'silent' });

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

interface Rig {
  dir: string;
  promUrl: string;
  prometheus: ChildProcess;
  serveUrls: string[];
  processes: TasaProcess[];
  sim: RunningSimulator;
  scratch: ScratchPostgres;
  redis: PrivateRedis;
}

async function promGet<T>(rig: Rig, path: string): Promise<T> {
  const res = await fetch(`${rig.promUrl}${path}`);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return ((await res.json()) as { data: T }).data;
}

async function query(rig: Rig, expr: string): Promise<PromSample[]> {
  const data = await promGet<{ result: PromSample[] }>(rig, `/api/v1/query?query=${encodeURIComponent(expr)}`);
  return data.result;
}

/** The shipped rules with every `for:` hold shortened to 2s; expressions unchanged. */
async function fastRules(dir: string): Promise<string> {
  const doc = parse(await readFile(RULES, 'utf8')) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
  for (const group of doc.groups) for (const rule of group.rules) if ('for' in rule) rule['for'] = '2s';
  const path = join(dir, 'rules.yml');
  await writeFile(path, stringify(doc));
  return path;
}

async function startPrometheus(dir: string, targets: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
    rule_files: [await fastRules(dir)],
    scrape_configs: [{ job_name: 'tasa', static_configs: [{ targets }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  const child = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/-/ready`).catch(() => null))?.status === 200, 'prometheus to be ready', 60_000, 200);
  return { url, child };
}

describe('a real Prometheus scrapes Tasa', { skip }, () => {
  let rig: Rig | null = null;
  let passed = false;

  before(async () => {
    assert.ok(existsSync(PROMETHEUS), 'CI is set but prometheus is not installed (.ci/run installs the Debian package)');
    assert.ok(PG_URL && SESSION, 'TEST_DATABASE_URL is required');
    const dir = await mkdtemp(join(tmpdir(), 'tasa-prometheus-'));
    const redis = await startPrivateRedis();
    const scratch = await openScratchPostgres(PG_URL);
    await migrate(scratch.db);
    await syncReferenceData(scratch.db, calendar.all());
    const anchor = systemClock.now();
    const clockStart = SESSION.open + 30 * MIN;
    const clock = new ScaledClock(clockStart, SPEED, anchor);
    const sim = await startSimulator({ clock, seed: 5, plan: { perMinute: 10_000, perDay: 1_000_000 }, logger });
    const [httpA, httpB, ingestMetrics] = [await freePort(), await freePort(), await freePort()];
    const env = tasaEnv({ databaseUrl: scratch.url, redisUrl: redis.url, sim, speed: SPEED, clockStart, anchor, httpPort: httpA });
    const processes = [
      startTasa('ingest', 'ingest', { ...env, TASA_METRICS_PORT: String(ingestMetrics), TASA_DATA_DIR: join(dir, 'ingest') }, join(dir, 'ingest.log')),
      startTasa('serve-a', 'serve', { ...env, TASA_DATA_DIR: join(dir, 'serve-a') }, join(dir, 'serve-a.log')),
      startTasa('serve-b', 'serve', { ...env, TASA_HTTP_PORT: String(httpB), TASA_DATA_DIR: join(dir, 'serve-b') }, join(dir, 'serve-b.log')),
    ];
    const serveUrls = [`http://127.0.0.1:${httpA}`, `http://127.0.0.1:${httpB}`];
    const { url, child } = await startPrometheus(dir, [`127.0.0.1:${httpA}`, `127.0.0.1:${httpB}`, `127.0.0.1:${ingestMetrics}`]);
    rig = { dir, promUrl: url, prometheus: child, serveUrls, processes, sim, scratch, redis };
    for (const p of processes.slice(1)) await p.waitForLine(/API and dashboard on/, START_REAL_MS);
    await processes[0]?.waitForLine(/-> ACTIVE|"to":"ACTIVE"/, START_REAL_MS);
  });

  after(async () => {
    for (const p of rig?.processes ?? []) await p.stop().catch(() => undefined);
    rig?.prometheus.kill('SIGTERM');
    await rig?.sim.close().catch(() => undefined);
    await rig?.scratch.db.close().catch(() => undefined);
    await rig?.redis.destroy().catch(() => undefined);
    if (passed && rig) await rm(rig.dir, { recursive: true, force: true });
    else if (rig) process.stderr.write(`prometheus test logs kept in ${rig.dir}\n`);
  });

  it('promtool accepts the shipped rules', () => {
    const check = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}\n${check.stderr}`);
    assert.match(check.stdout, /SUCCESS: \d+ rules found/);
  });

  it('scrapes every process, labelled by role and instance', async () => {
    assert.ok(rig);
    const r = rig;
    type Targets = { activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string }> };
    await waitFor(async () => (await promGet<Targets>(r, '/api/v1/targets')).activeTargets.every((t) => t.health === 'up'), 'every target up', 60_000, 500);
    const targets = (await promGet<Targets>(r, '/api/v1/targets')).activeTargets;
    assert.equal(targets.length, 3);
    const roles = await query(r, 'count by (role, instance) (tasa_market_open)');
    assert.deepEqual(roles.map((s) => s.metric['role']).sort(), ['ingest', 'serve', 'serve']);
    await waitFor(async () => (await query(r, 'sum(tasa_ticks_received_total{role="ingest"})')).some((s) => Number(s.value[1]) > 0), 'ticks counted by the ingest process', 60_000, 500);
    assert.deepEqual(await query(r, 'tasa_ticks_received_total{role="serve"}'), [], 'only the ingest process receives ticks');
  });

  it('adds up the counters of two processes', async () => {
    assert.ok(rig);
    const r = rig;
    const sent = [3, 5];
    for (const [i, url] of r.serveUrls.entries()) for (let n = 0; n < (sent[i] ?? 0); n++) assert.equal((await fetch(`${url}/health`)).status < 500, true);
    const health = 'tasa_http_request_duration_seconds_count{route="/health"}';
    await waitFor(async () => Number((await query(r, `sum(${health})`))[0]?.value[1]) === 8, 'the sum of both processes to reach 8', 30_000, 500);
    const perInstance = (await query(r, `sum by (instance, role) (${health})`)).map((s) => [s.metric['role'], Number(s.value[1])]);
    assert.deepEqual(perInstance.sort(), [['serve', 3], ['serve', 5]]);
  });

  it('fires TasaDataStale after the feed stops', async () => {
    assert.ok(rig);
    const r = rig;
    type Alerts = { alerts: Array<{ labels: Record<string, string>; state: string }> };
    const stale = async (): Promise<string | null> => (await promGet<Alerts>(r, '/api/v1/alerts')).alerts.find((a) => a.labels['alertname'] === 'TasaDataStale')?.state ?? null;
    await waitFor(async () => (await query(r, 'tasa_data_freshness_seconds')).length > 0, 'a freshness sample', 30_000, 500);
    assert.equal(await stale(), null, 'the feed is fresh: no stale alert yet');
    await r.sim.close();
    await waitFor(async () => (await stale()) === 'firing', 'TasaDataStale to fire', 90_000, 500);
    const firing = (await promGet<Alerts>(r, '/api/v1/alerts')).alerts.find((a) => a.labels['alertname'] === 'TasaDataStale');
    assert.equal(firing?.labels['symbol'], 'USD/COP');
    assert.equal(firing?.labels['severity'], 'warning');
    passed = true;
  });
});
