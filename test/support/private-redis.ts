/**
 * A private Redis server for fault tests: its own directory and a free port, so that a test can
 * stop it and start it again EMPTY (no RDB, no AOF) without touching the machine's shared Redis.
 *
 * `stop()` kills the server by the pid in its pidfile (SIGKILL: an outage, not a clean shutdown;
 * with persistence off nothing is kept either way). `start()` starts a new, empty server on the
 * same port. A crashed test leaves no server behind: it is killed at process exit.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 10_000;

export interface PrivateRedis {
  /** redis://127.0.0.1:<port>/0 */
  url: string;
  port: number;
  /** Kills the server (SIGKILL) and waits until the port refuses connections. Harmless when stopped. */
  stop(): Promise<void>;
  /** Starts a new, empty server on the same port and waits until it answers PING. Harmless when running. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'tasa-redis-'));
  const pidFile = join(dir, 'redis.pid');
  const port = await freePort();
  let pid: number | null = null;

  const start = async (): Promise<void> => {
    if (pid !== null) return;
    await rm(pidFile, { force: true });
    await run('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'yes', '--pidfile', pidFile, '--logfile', join(dir, 'redis.log'),
    ]);
    pid = await readPid(pidFile);
    await waitUntil(() => ping(port), `the private Redis on port ${port} to answer PING`);
  };
  const stop = async (): Promise<void> => {
    if (pid === null) return;
    const victim = pid;
    pid = null;
    killQuietly(victim);
    await waitUntil(async () => !(await ping(port)), `the private Redis on port ${port} to stop`);
  };
  const atExit = (): void => {
    if (pid !== null) killQuietly(pid);
  };
  process.once('exit', atExit);
  const destroy = async (): Promise<void> => {
    await stop();
    process.removeListener('exit', atExit);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (err) {
    await destroy();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}/0`, port, stop, start, destroy };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The daemon writes its pidfile just after forking. */
async function readPid(pidFile: string): Promise<number> {
  let pid = NaN;
  await waitUntil(async () => {
    pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    return Number.isSafeInteger(pid) && pid > 0;
  }, `the Redis pidfile ${pidFile}`);
  return pid;
}

/** True when a Redis answers PING on the port. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${READY_TIMEOUT_MS} ms waiting for ${what}`);
    await sleep(20);
  }
}
