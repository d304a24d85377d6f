/**
 * System: readiness and its checks, versions and where the parts run, Prometheus metric
 * highlights (ingest, delivery, HTTP, process) and the connected WebSocket clients.
 *
 * Routes: GET /health (200 or 503 with the same body), /status, /metrics (text).
 */
import { Fragment } from 'preact';
import { getJson, getText } from '../api.ts';
import type { HealthBody, Probe } from '../../contracts/api/health.ts';
import type { StatusBody } from '../../contracts/api/status.ts';
import { Badge, CheckBadge } from '../components/badge.tsx';
import { Empty, Loaded } from '../components/empty-state.tsx';
import { FeedPanel } from '../components/feed-panel.tsx';
import { browserNow } from '../clock.ts';
import { bytes, decimal, duration, integer, zonedDateTime } from '../format.ts';
import { useZone } from '../selected-symbol.ts';
import { Metrics, parsePrometheusText } from '../prom-text.ts';
import { useApi } from '../use-api.ts';

/** /health answers 503 with the same body when not ready: show it rather than an error. */
const loadHealth = (path: string) => getJson<HealthBody>(path, [503]);

const loadMetrics = async (path: string) => new Metrics(parsePrometheusText(await getText(path)));

export function SystemView() {
  const health = useApi<HealthBody>('/health', 10_000, loadHealth);
  const status = useApi<StatusBody>('/status', 15_000);
  const metrics = useApi<Metrics>('/metrics', 10_000, loadMetrics);
  return (
    <>
      <div class="grid-2">
        <section class="panel" aria-labelledby="health-title">
          <h2 id="health-title">Health</h2>
          <Loaded resource={health}>{(h) => <HealthPanel health={h} />}</Loaded>
        </section>
        <section class="panel" aria-labelledby="versions-title">
          <h2 id="versions-title">Versions and parts</h2>
          <Loaded resource={status}>{(s) => <VersionsPanel status={s} />}</Loaded>
        </section>
      </div>
      <section class="panel" aria-labelledby="metrics-title">
        <h2 id="metrics-title">Metrics</h2>
        <Loaded resource={metrics} missing="This server does not expose /metrics.">
          {(m) => <MetricHighlights m={m} />}
        </Loaded>
      </section>
      <section class="panel" aria-labelledby="ingest-title">
        <h2 id="ingest-title">Ingestion</h2>
        <Loaded resource={status}>{(s) => <FeedPanel status={s} />}</Loaded>
      </section>
    </>
  );
}

function probeText(p: Probe | null): string {
  if (p === null) return 'not configured';
  return p.ok ? `${decimal(p.latencyMs, 1)} ms` : (p.error ?? 'failed');
}

function HealthBadge({ health }: { health: HealthBody }) {
  if (health.status === 'ready') return <Badge tone="ok">ready</Badge>;
  if (health.status === 'degraded') return <Badge tone="warn">{`degraded: ${health.degraded.join('; ')}`}</Badge>;
  return <Badge tone="bad">{`not ready: ${health.failed.join(', ')}`}</Badge>;
}

function HealthPanel({ health }: { health: HealthBody }) {
  const zone = useZone();
  return (
    <div data-testid="health">
      <p class="toolbar">
        <HealthBadge health={health} />
        <Badge tone={health.market.open ? 'ok' : 'muted'}>{health.market.open ? 'market open' : 'market closed'}</Badge>
        <span class="muted small">as of {zonedDateTime(zone, health.time)}</span>
      </p>
      <div class="table-wrap">
      <table>
        <tbody>
          <tr>
            <th>database</th>
            <td>
              <CheckBadge ok={health.checks.database.ok} />
            </td>
            <td>{probeText(health.checks.database)}</td>
          </tr>
          <tr>
            <th>redis</th>
            <td>{health.checks.redis === null ? <Badge tone="muted">in-process bus</Badge> : <CheckBadge ok={health.checks.redis.ok} />}</td>
            <td>{probeText(health.checks.redis)}</td>
          </tr>
          <tr>
            <th>ingest</th>
            <td>
              <CheckBadge ok={health.checks.ingest.ok} />
            </td>
            <td class="wrap">
              {health.checks.ingest.state ?? 'unknown'} · feed {health.checks.ingest.feed ?? 'unknown'} · {health.checks.ingest.note}
            </td>
          </tr>
          {health.checks.ingest.leases.map((l) => (
            <tr key={l.symbol}>
              <th>lease {l.symbol}</th>
              <td>
                <CheckBadge ok={l.live || !health.market.open} />
              </td>
              <td class="wrap">
                {l.holder === null ? 'never taken' : `${l.holder} · epoch ${l.epoch ?? '?'} · ${l.live ? 'held' : 'expired'}`}
                {health.checks.ingest.standbys.length > 0 ? ` · standbys: ${health.checks.ingest.standbys.map((s) => `${s.holder} (${s.state ?? '?'})`).join(', ')}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </div>
  );
}

function VersionsPanel({ status }: { status: StatusBody }) {
  const zone = useZone();
  const rows: Array<[string, string]> = [
    ['Tasa', status.version],
    ['store', status.system?.store ?? 'unknown'],
    ['bus', status.system?.bus ?? 'unknown'],
    ['upstream', status.system?.upstream ?? 'unknown'],
    ['ingest status from', status.note],
    ['server clock', zonedDateTime(zone, status.time)],
    ['open alerts', integer(status.jobs.openAlerts)],
  ];
  return (
    <table data-testid="versions">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td class="wrap">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MetricHighlights({ m }: { m: Metrics }) {
  const start = m.sum('tasa_process_process_start_time_seconds');
  const seconds = (v: number | null) => (v === null ? '—' : `${decimal(v * 1000, 1)} ms`);
  const groups: Array<{ title: string; items: Array<[string, string, string?]> }> = [
    {
      title: 'Clients',
      items: [
        ['WebSocket clients', integer(m.sum('tasa_ws_clients')), 'connected now'],
        ['messages sent', integer(m.sum('tasa_ws_messages_sent_total'))],
        ['dropped or conflated', integer(m.sum('tasa_ws_messages_dropped_total'))],
        ['HTTP requests', integer(m.sum('tasa_http_request_duration_seconds_count'))],
        ['mean HTTP time', seconds(m.mean('tasa_http_request_duration_seconds'))],
      ],
    },
    {
      title: 'Ingest',
      items: [
        ['ticks received', integer(m.sum('tasa_ticks_received_total'))],
        ['ticks rejected', integer(m.sum('tasa_ticks_rejected_total'))],
        ['bars closed', integer(m.sum('tasa_bars_closed_total'))],
        ['bars stored', integer(m.sum('tasa_bars_stored_total'))],
        ['feed reconnects', integer(m.sum('tasa_feed_reconnects_total'))],
        ['data freshness', m.sum('tasa_data_freshness_seconds') === null ? '—' : `${decimal(m.sum('tasa_data_freshness_seconds'), 1)} s`, 'age of the latest tick, in session'],
      ],
    },
    {
      title: 'Latency (mean)',
      items: [
        ['exchange → receive', seconds(m.mean('tasa_exchange_to_receive_seconds'))],
        ['receive → stored', seconds(m.mean('tasa_receive_to_stored_seconds'))],
        ['bar close → client', seconds(m.mean('tasa_bar_close_to_client_seconds'))],
        ['prediction', seconds(m.mean('tasa_prediction_latency_seconds'))],
      ],
    },
    {
      title: 'Process',
      items: [
        ['resident memory', bytes(m.sum('tasa_process_process_resident_memory_bytes'))],
        ['heap used', bytes(m.sum('tasa_process_nodejs_heap_size_used_bytes'))],
        ['uptime', start === null ? '—' : duration(browserNow() - start * 1000), 'real time since the server process started'],
        ['gaps open', integer(m.sum('tasa_gaps_open')), 'missing bars, current and previous session'],
        ['alerts raised', integer(m.sum('tasa_alerts_raised_total'))],
      ],
    },
  ];
  return (
    <div class="grid-cards" data-testid="metrics">
      {groups.map((g) => (
        <div key={g.title}>
          <h3>{g.title}</h3>
          <dl class="kv">
            {g.items.map(([name, value, hint]) => (
              <Fragment key={name}>
                <dt title={hint}>{name}</dt>
                <dd class="num" data-metric={name}>
                  {value}
                </dd>
              </Fragment>
            ))}
          </dl>
        </div>
      ))}
      {m.samples.length === 0 && <Empty>The server exposes no metric samples.</Empty>}
    </div>
  );
}
