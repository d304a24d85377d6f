/** A small benchmark harness: named figures collected into one table. */
import { performance } from 'node:perf_hooks';

export interface Figure {
  area: string;
  name: string;
  value: string;
  note: string;
}

export const figures: Figure[] = [];

export function record(area: string, name: string, value: string, note = ''): void {
  figures.push({ area, name, value, note });
  process.stderr.write(`  ${area} · ${name}: ${value}${note ? ` (${note})` : ''}\n`);
}

/** Runs `fn` once and returns its wall time in milliseconds with its result. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
}

/** Best of `runs` timings (ms) of `fn`, after one warm-up run. */
export async function bestOf(runs: number, fn: () => unknown): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) best = Math.min(best, (await timed(fn)).ms);
  return best;
}

export function formatRate(count: number, ms: number, unit: string): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')} ${unit}/s`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export function markdownTable(rows: readonly Figure[]): string {
  const lines = ['| area | figure | value | note |', '|---|---|---|---|'];
  for (const f of rows) lines.push(`| ${f.area} | ${f.name} | ${f.value} | ${f.note} |`);
  return lines.join('\n');
}
