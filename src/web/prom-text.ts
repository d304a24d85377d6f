/**
 * A reader of the Prometheus text exposition format (what /metrics serves): samples with their
 * labels, and sums over label sets. Enough for the System view's highlights, not a full parser
 * (no escapes inside label values beyond \" and \\, no timestamps needed).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const [, name = '', labelText = '', raw = ''] = m;
    const labels: Record<string, string> = {};
    for (const l of labelText.matchAll(LABEL)) labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, '$1');
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    out.push({ name, labels, value });
  }
  return out;
}

export class Metrics {
  constructor(readonly samples: Sample[]) {}

  /** Sum over every label set; null when the metric has no sample. */
  sum(name: string, where: Record<string, string> = {}): number | null {
    const matching = this.samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v));
    return matching.length === 0 ? null : matching.reduce((n, s) => n + s.value, 0);
  }

  /** Mean of a histogram or summary: _sum / _count; null without observations. */
  mean(name: string): number | null {
    const sum = this.sum(`${name}_sum`);
    const count = this.sum(`${name}_count`);
    return sum === null || count === null || count === 0 ? null : sum / count;
  }

  /** Samples of a metric, one per label set. */
  series(name: string): Sample[] {
    return this.samples.filter((s) => s.name === name);
  }
}
