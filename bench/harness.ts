/** A small benchmark harness: named figures collected into one table. */
import { performance } from 'node:perf_hooks';

export interface Figure {
  area: string;
  name: string;
  value: string;
  note: string;
  /** The same-run reference figure this one is put in scale with, and value / reference. */
  reference?: Reference;
}

export interface Reference {
  name: string;
  value: number;
  ratio: number;
}

export const figures: Figure[] = [];

export function record(area: string, name: string, value: string, note = '', reference?: Reference): void {
  figures.push({ area, name, value, note, ...(reference === undefined ? {} : { reference }) });
  const scale = reference === undefined ? '' : ` [ratio ${reference.ratio.toFixed(2)} vs ${reference.name}]`;
  process.stderr.write(`  ${area} · ${name}: ${value}${scale}${note ? ` (${note})` : ''}\n`);
}

/** `value / referenceValue` against a reference figure measured in the same run. */
export function against(name: string, value: number, referenceValue: number): Reference {
  return { name, value: referenceValue, ratio: value / referenceValue };
}

/** One row of bench/results.json: comparable between commits. */
export interface Result {
  name: string;
  /** The figure's leading number (thousands separators removed); null when it has none. */
  value: number | null;
  unit: string;
  reference: { name: string; value: number } | null;
  ratio: number | null;
  note: string;
}

export function results(rows: readonly Figure[]): Result[] {
  return rows.map((f) => {
    const match = /^(-?[\d,]*\.?\d+)\s*(.*)$/.exec(f.value);
    const ref = f.reference;
    return {
      name: `${f.area} · ${f.name}`,
      value: match === null ? null : Number((match[1] ?? '').replaceAll(',', '')),
      unit: match === null ? f.value : (match[2] ?? ''),
      reference: ref === undefined ? null : { name: ref.name, value: ref.value },
      ratio: ref === undefined ? null : ref.ratio,
      note: f.note,
    };
  });
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
  const lines = ['| area | figure | value | reference (same run) | ratio | note |', '|---|---|---|---|---|---|'];
  for (const f of rows) {
    const ref = f.reference;
    lines.push(`| ${f.area} | ${f.name} | ${f.value} | ${ref ? `${ref.name}: ${ref.value.toLocaleString('en-US', { maximumFractionDigits: 2 })}` : ''} | ${ref ? ref.ratio.toFixed(2) : ''} | ${f.note} |`);
  }
  return lines.join('\n');
}
