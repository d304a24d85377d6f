/**
 * A private PostgreSQL cluster for fault tests: its own data directory and a free port, so a test
 * can stop and restart the database on purpose without touching the machine's shared server.
 *
 * initdb refuses to run as root, so when the test runs as root the cluster belongs to the
 * `postgres` OS user (data directory chowned to it, commands through `runuser`). The cluster
 * trusts local connections; the URL points at its `postgres` database as user `postgres`.
 * `fsync=off`: a test cluster needs no crash safety, and it keeps initdb and checkpoints fast.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dataDir: string;
  /** Fast shutdown (`pg_ctl stop -m fast`): clients are disconnected. Harmless when stopped. */
  stop(): Promise<void>;
  /** Starts the stopped cluster again on the same port. Harmless when running. */
  start(): Promise<void>;
  /** Stops the cluster and removes its directory. */
  destroy(): Promise<void>;
}

interface OsUser {
  uid: number;
  gid: number;
}

/** Creates, initialises and starts a cluster on a free port. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await mkdtemp(join(tmpdir(), 'tasa-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const owner = process.getuid?.() === 0 ? postgresUser() : null;
  if (owner) await chown(root, owner.uid, owner.gid);
  const asOwner = (cmd: string, args: string[]): Promise<unknown> =>
    owner ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);

  await asOwner('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  let running = false;
  const serverOptions = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = async (): Promise<void> => {
    if (running) return;
    await asOwner('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '30', 'start']);
    running = true;
  };
  const stop = async (): Promise<void> => {
    if (!running) return;
    await asOwner('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
    running = false;
  };
  // A test that crashes must not leave a server behind: stop it (synchronously) at exit.
  const atExit = (): void => {
    if (!running) return;
    const args = ['-D', dataDir, '-m', 'immediate', 'stop'];
    try {
      if (owner) execFileSync('runuser', ['-u', 'postgres', '--', 'pg_ctl', ...args], { stdio: 'ignore' });
      else execFileSync('pg_ctl', args, { stdio: 'ignore' });
    } catch {
      // already gone
    }
  };
  // Killed by a signal (a test runner's timeout), 'exit' never fires: stop it, then die of the signal.
  const onSignal = (signal: NodeJS.Signals): void => {
    atExit();
    process.kill(process.pid, signal);
  };
  process.once('exit', atExit);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const destroy = async (): Promise<void> => {
    await stop().catch(() => undefined);
    process.removeListener('exit', atExit);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    await rm(root, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (err) {
    await destroy();
    throw err;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dataDir, stop, start, destroy };
}

function postgresUser(): OsUser {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
