/**
 * CLI start-up as a user meets it: `tasa --help` and `tasa calendar` (no database) as whole
 * processes through bin/tasa.js, against `node -e ''` in the same run. The variants take turns so
 * that load falls on all alike; the figure is the median wall time. The built CLI is measured
 * (built first, as postinstall and prestart do), and the tsx fallback that runs while src/ differs
 * from the build, for comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { formatMs, record } from './harness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tasa.js');
const MAIN_TS = join(ROOT, 'src', 'cli', 'main.ts');
const RUNS = 9;
/** tsx by absolute URL: the processes run in an empty directory, where `--import tsx` would not resolve. */
const TSX = import.meta.resolve('tsx');

interface Variant {
  name: string;
  args: string[];
}

const CALENDAR = ['calendar', '--from', '2024-01-01', '--to', '2024-12-31', '--format', 'csv'];
const VARIANTS: Variant[] = [
  { name: "node -e ''", args: ['-e', ''] },
  { name: 'tasa --help', args: [BIN, '--help'] },
  { name: 'tasa calendar (a year, CSV)', args: [BIN, ...CALENDAR] },
  { name: 'tasa --help through tsx', args: ['--import', TSX, MAIN_TS, '--help'] },
  { name: 'tasa calendar through tsx', args: ['--import', TSX, MAIN_TS, ...CALENDAR] },
];

export function benchCliStartup(): void {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the CLI build failed: ${build.stderr}`);
  // An empty directory and no DATABASE_URL: none of these commands may open or create a store.
  const dir = mkdtempSync(join(tmpdir(), 'tasa-cli-bench-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, TASA_DATA_DIR: join(dir, 'data') };
    delete env['DATABASE_URL'];
    const medians = medianOfEach(VARIANTS, dir, env);
    const reference = medians[0] ?? Number.NaN;
    VARIANTS.forEach((v, i) => {
      const ms = medians[i] ?? Number.NaN;
      const note = i === 0 ? `reference, median of ${RUNS} runs, variants taking turns` : `${(ms / reference).toFixed(1)}× \`node -e ''\` (${formatMs(reference)}) in the same run; median of ${RUNS}`;
      record('cli', `start-up: ${v.name}`, formatMs(ms), note);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function medianOfEach(variants: readonly Variant[], cwd: string, env: NodeJS.ProcessEnv): number[] {
  const times: number[][] = variants.map(() => []);
  for (let run = 0; run <= RUNS; run++) {
    variants.forEach((v, i) => {
      const start = performance.now();
      const child = spawnSync(process.execPath, v.args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      const ms = performance.now() - start;
      if (child.status !== 0) throw new Error(`${v.name} failed: ${child.stderr}`);
      if (run > 0) times[i]?.push(ms); // run 0 warms the disk cache and tsx's compile cache
    });
  }
  return times.map(median);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
