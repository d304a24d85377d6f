/**
 * deploy/prometheus-rules.yml and deploy/grafana-dashboard.json must name only metrics that
 * src/metrics/metrics.ts defines (with the series names Prometheus sees: `_bucket`, `_sum` and
 * `_count` for histograms), and only labels those metrics have. A renamed metric fails here
 * instead of silently emptying a panel or muting an alert.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createMetrics } from '../../src/metrics/metrics.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface Known {
  /** Series name -> label names allowed in a selector. */
  series: Map<string, Set<string>>;
  /** The metrics Tasa defines itself (not the process defaults). */
  own: Set<string>;
}

async function knownSeries(): Promise<Known> {
  const metrics = createMetrics();
  const series = new Map<string, Set<string>>();
  const own = new Set<string>();
  const labelsOf = new Map<string, readonly string[]>();
  for (const m of Object.values(metrics)) {
    if (typeof m === 'object' && m !== null && 'labelNames' in m && 'name' in m) {
      const { name, labelNames } = m as { name: string; labelNames: readonly string[] };
      labelsOf.set(name, labelNames);
      own.add(name);
    }
  }
  for (const { name, type } of await metrics.registry.getMetricsAsJSON()) {
    const labels = new Set(labelsOf.get(name) ?? []);
    if (String(type) === 'histogram') {
      series.set(`${name}_bucket`, new Set([...labels, 'le']));
      series.set(`${name}_sum`, labels);
      series.set(`${name}_count`, labels);
    } else {
      series.set(name, labels);
    }
  }
  return { series, own };
}

/** Every `expr` string anywhere in a parsed document. */
function expressions(doc: unknown): string[] {
  if (Array.isArray(doc)) return doc.flatMap(expressions);
  if (typeof doc !== 'object' || doc === null) return [];
  return Object.entries(doc).flatMap(([key, v]) => (key === 'expr' && typeof v === 'string' ? [v] : expressions(v)));
}

interface Reference {
  name: string;
  /** Label names in the selector right after the name, if any. */
  labels: string[];
}

/** Metric references in a PromQL expression: every `tasa_*` identifier, with its selector's label names. */
function references(expr: string): Reference[] {
  return [...expr.matchAll(/\b(tasa_[a-zA-Z0-9_]+)(\{([^}]*)\})?/g)].map((m) => ({
    name: m[1] ?? '',
    labels: [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1] ?? ''),
  }));
}

function checkExpressions(file: string, exprs: string[], known: Known): Set<string> {
  assert.ok(exprs.length > 0, `${file} has no expressions`);
  const used = new Set<string>();
  for (const expr of exprs) {
    const refs = references(expr);
    assert.ok(refs.length > 0, `${file}: "${expr}" names no tasa_ metric`);
    for (const ref of refs) {
      const labels = known.series.get(ref.name);
      assert.ok(labels, `${file}: unknown metric ${ref.name} in "${expr}"`);
      for (const label of ref.labels) assert.ok(labels.has(label), `${file}: ${ref.name} has no label "${label}" (in "${expr}")`);
      used.add(ref.name);
      // A histogram counts as used through any of its series.
      used.add(ref.name.replace(/_(bucket|sum|count)$/, ''));
    }
  }
  return used;
}

describe('deploy files', () => {
  it('the checker itself rejects unknown names, histogram base names and unknown labels', async () => {
    const known = await knownSeries();
    assert.equal(known.own.size, Object.keys(createMetrics({ defaultMetrics: false })).length - 1, 'every metric but the registry is found');
    assert.deepEqual([...(known.series.get('tasa_job_duration_seconds_bucket') ?? [])].sort(), ['job', 'le']);
    assert.throws(() => checkExpressions('x', ['rate(tasa_ticks_recieved_total[5m])'], known), /unknown metric tasa_ticks_recieved_total/);
    assert.throws(() => checkExpressions('x', ['rate(tasa_job_duration_seconds[5m])'], known), /unknown metric tasa_job_duration_seconds/);
    assert.throws(() => checkExpressions('x', ['tasa_job_runs_total{result="failed"}'], known), /has no label "result"/);
    assert.throws(() => checkExpressions('x', ['up == 0'], known), /names no tasa_ metric/);
    assert.doesNotThrow(() => checkExpressions('x', ['histogram_quantile(0.9, sum by (le) (rate(tasa_job_duration_seconds_bucket{job="sync"}[5m])))'], known));
  });

  it('prometheus.yml scrapes every Tasa process compose.yaml runs, the standby ingest too', () => {
    const compose = parse(read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, { command?: string[] }> };
    const roles = new Set(['serve', 'ingest', 'worker']);
    const processes = Object.entries(compose.services).flatMap(([name, service]) => (roles.has(service.command?.[0] ?? '') ? [name] : []));
    assert.ok(processes.includes('ingest-standby'), `the Tasa services: ${processes.join(', ')}`);
    const prometheus = parse(read('deploy/prometheus.yml')) as { scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
    const tasa = prometheus.scrape_configs.find((c) => c.job_name === 'tasa');
    const hosts = new Set((tasa?.static_configs ?? []).flatMap((c) => c.targets.map((t) => t.split(':')[0])));
    for (const name of processes) assert.ok(hosts.has(name), `prometheus.yml does not scrape ${name}`);
  });

  it('prometheus-rules.yml: valid alerting rules naming only defined metrics and labels', async () => {
    const known = await knownSeries();
    const doc = parse(read('deploy/prometheus-rules.yml')) as { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> };
    assert.ok(Array.isArray(doc.groups) && doc.groups.length > 0);
    const names = new Set<string>();
    for (const group of doc.groups) {
      for (const rule of group.rules) {
        const name = String(rule['alert']);
        assert.match(name, /^Tasa[A-Za-z0-9]+$/);
        assert.ok(!names.has(name), `alert ${name} is defined twice`);
        names.add(name);
        assert.equal(typeof rule['expr'], 'string');
        assert.ok(['warning', 'critical'].includes(String((rule['labels'] as Record<string, unknown> | undefined)?.['severity'])), `${name} needs a severity`);
        assert.equal(typeof (rule['annotations'] as Record<string, unknown> | undefined)?.['summary'], 'string', `${name} needs a summary`);
        if (rule['for'] !== undefined) assert.match(rule['for'] as string, /^\d+[smh]$/);
      }
    }
    const used = checkExpressions('prometheus-rules.yml', expressions(doc), known);
    // The conditions the issue asks to alert on.
    for (const metric of [
      'tasa_data_freshness_seconds',
      'tasa_market_open',
      'tasa_gaps_open',
      'tasa_key_credits_left',
      'tasa_ws_messages_dropped_total',
      'tasa_http_request_duration_seconds',
      'tasa_job_runs_total',
    ]) {
      assert.ok(used.has(metric), `no rule uses ${metric}`);
    }
  });

  it('grafana-dashboard.json: panels naming only defined metrics, and a panel for each metric Tasa defines', async () => {
    const known = await knownSeries();
    const doc = JSON.parse(read('deploy/grafana-dashboard.json')) as { title: string; uid: string; panels: Array<{ id: number; type: string; title: string }> };
    assert.equal(doc.title, 'Tasa');
    const ids = doc.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const used = checkExpressions('grafana-dashboard.json', expressions(doc), known);
    const missing = [...known.own].filter((name) => !used.has(name));
    assert.deepEqual(missing, [], 'metrics without a panel');
  });
});
