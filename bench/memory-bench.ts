/**
 * Memory as a user meets it: `tasa up` (embedded store, built-in simulator, the built CLI) idle
 * resident set once start-up has settled, on an existing store (the first start, which creates
 * it, is not measured), against a bare fastify server process measured the same way in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { against, record } from './harness.ts';

const BIN = fileURLToPath(new URL('../bin/tasa.js', import.meta.url));
const FASTIFY = import.meta.resolve('fastify');
/** Start-up work (migrations, first ticks, jobs' first runs) settles within this after /health answers. */
const SETTLE_MS = 15_000;
const SAMPLES = 10;
const READY_TIMEOUT_MS = 120_000;

export async function benchIdleRss(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tasa-bench-rss-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, TASA_LOG_LEVEL: 'silent', TASA_DATA_DIR: join(dir, 'data'), TASA_SIMULATOR_PORT: '0' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'TWELVEDATA_API_KEY', 'TWELVEDATA_API_KEYS']) delete env[name];
    await idleRss([BIN, 'up'], env, false); // creates the store
    const up = await idleRss([BIN, 'up'], env, true);
    const bareScript = `import(${JSON.stringify(FASTIFY)}).then(async ({ default: f }) => { const app = f(); app.get('/health', () => ({ ok: true })); await app.listen({ port: Number(process.env.TASA_HTTP_PORT), host: '127.0.0.1' }); })`;
    const bare = await idleRss(['--input-type=module', '-e', bareScript], env, true);
    const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
    record('memory', '`tasa up` idle RSS, embedded, existing store', mib(up), `median of ${SAMPLES} samples a second apart, ${SETTLE_MS / 1000} s after /health first answered; bare fastify process ${mib(bare)}`, against('bare fastify server process, kB', up, bare));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts `args` on a free port, waits for GET /health, lets it settle, samples VmRSS (kB), stops it. */
async function idleRss(args: string[], env: NodeJS.ProcessEnv, measure: boolean): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, args, { env: { ...env, TASA_HTTP_PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitForHealth(port, child, () => stderr);
    if (!measure) return 0;
    await sleep(SETTLE_MS);
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      samples.push(vmRssKb(child.pid ?? 0));
      await sleep(1000);
    }
    return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? Number.NaN;
  } finally {
    await stop(child);
  }
}

async function waitForHealth(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the process exited (${child.exitCode}) before answering: ${stderr()}`);
    const answered = await fetch(`http://127.0.0.1:${port}/health`).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await sleep(250);
  }
  throw new Error(`no answer on port ${port} within ${READY_TIMEOUT_MS / 1000} s: ${stderr()}`);
}

function vmRssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1]);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
  if (!killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
