/**
 * Tasa roles (`tasa ingest`, `tasa serve`, or any command) as real OS processes, so that a fault can `kill -9`
 * one of them. Output goes to a log file (kept for a failing run) and is scanned line by line so
 * a test can wait for "ingest ... -> ACTIVE". Every process started here is killed at exit, even
 * when a test throws: nothing outlives the suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = 'src/cli/main.ts';
const BIN = 'bin/tasa.js';
/** How long a SIGTERM'd process gets to stop cleanly before it is killed. */
const STOP_GRACE_MS = 15_000;

const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});
// A signal would end the process without its exit handlers (this one, the private servers'):
// turn it into an exit, so an interrupted suite leaves no process or server behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));

export interface TasaProcess {
  name: string;
  pid: number;
  /** Resolves with the first output line matching `pattern` (seen already or later); rejects after `timeoutMs` or at exit. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Lines printed so far (stdout and stderr). */
  lines(): readonly string[];
  /** SIGKILL: no cleanup, no flush (the process dies as a power cut would leave it). */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
  exited(): boolean;
}

interface Waiter {
  pattern: RegExp;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
}

export function startTasa(name: string, role: 'ingest' | 'serve', env: Record<string, string>, logPath: string): TasaProcess {
  return spawnTasa(name, ['--import', 'tsx', CLI, role], env, logPath);
}

/** The installed `tasa` command (bin/tasa.js, as the container image runs it) with these arguments. */
export function startTasaCommand(name: string, args: readonly string[], env: Record<string, string>, logPath: string): TasaProcess {
  return spawnTasa(name, [BIN, ...args], env, logPath);
}

function spawnTasa(name: string, nodeArgs: readonly string[], env: Record<string, string>, logPath: string): TasaProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  alive.add(child);
  const log = createWriteStream(logPath, { flags: 'a' });
  const seen: string[] = [];
  const waiters = new Set<Waiter>();
  let exitCode: string | null = null;
  const onLine = (line: string): void => {
    seen.push(line);
    for (const w of [...waiters]) {
      if (!w.pattern.test(line)) continue;
      waiters.delete(w);
      w.resolve(line);
    }
  };
  pipeLines(child, log, onLine);
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      alive.delete(child);
      exitCode = signal ?? String(code);
      log.end(`[${name} exited: ${exitCode}]\n`);
      for (const w of waiters) w.reject(new Error(`${name} exited (${exitCode}) before printing ${w.pattern}; log: ${logPath}`));
      waiters.clear();
      resolve();
    }),
  );
  return {
    name,
    pid: child.pid ?? -1,
    lines: () => seen,
    exited: () => exitCode !== null,
    waitForLine(pattern, timeoutMs) {
      const already = seen.find((l) => pattern.test(l));
      if (already !== undefined) return Promise.resolve(already);
      if (exitCode !== null) return Promise.reject(new Error(`${name} has exited (${exitCode}); log: ${logPath}`));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = { pattern, resolve, reject };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms; log: ${logPath}`));
        }, timeoutMs);
        waiter.resolve = (line) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiter.reject = (err) => {
          clearTimeout(timer);
          reject(err);
        };
        waiters.add(waiter);
      });
    },
    async kill9() {
      if (exitCode === null) child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    },
  };
}

function pipeLines(child: ChildProcess, log: WriteStream, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      log.write(chunk);
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) onLine(line);
    });
  }
}
