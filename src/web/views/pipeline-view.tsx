/**
 * Pipeline: one card per layer L0..L6 with its last run (status, time, duration, rows, dataset
 * hash, manifest), staleness, and buttons (admin) that queue a run of that layer or of them all.
 * Selecting a card shows its run history.
 *
 * Routes: GET /api/pipeline/status, /api/pipeline/health, /api/pipeline/layer/{layer},
 * /api/pipeline/manifests?layer=; POST /api/admin/pipeline/run (admin).
 */
import { useState } from 'preact/hooks';
import type { QueuedJob } from '../../contracts/api/admin.ts';
import type { LayerHistory, ManifestList, PipelineHealth, PipelineStatusBody, RunView } from '../../contracts/api/pipeline.ts';
import { AdminButton } from '../components/admin-button.tsx';
import { Badge, RunStatusBadge } from '../components/badge.tsx';
import { Empty, Loaded } from '../components/empty-state.tsx';
import { elapsed, integer, MISSING, shortHash, zonedDateTime } from '../format.ts';
import { useMarket, useZone } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';

type Layer = PipelineStatusBody['layers'][number];

/** What a layer run's rows in and out count (src/pipeline/layers/*: rowsIn, rowsOut). */
const ROWS_MEANING: Record<string, string> = {
  L0: 'raw rows read → archive groups written (one per imported file and market month)',
  L1: 'standardized bars read → bars archived',
  L2: 'bars → indicator rows',
  L3: 'bars → feature rows',
  L4: 'bars → dataset rows (warm-up and purged rows left out)',
  L5: 'training episodes → policies trained',
  L6: 'bars backtested → policies evaluated',
};

export function PipelineView() {
  const market = useMarket();
  const status = useApi<PipelineStatusBody>(`/api/pipeline/status?symbol=${market.path}`, 15_000);
  const health = useApi<PipelineHealth>(`/api/pipeline/health?symbol=${market.path}`, 60_000);
  const [selected, setSelected] = useState<string | null>(null);
  const queued = (j: QueuedJob) => `queued job ${j.jobId.slice(0, 8)} on ${j.queue}; the cards update when a worker runs it`;
  const stale = new Map((health.data?.layers ?? []).map((l) => [l.layer, l]));

  return (
    <>
      <section class="panel" aria-labelledby="pipeline-title">
        <div class="toolbar">
          <h2 id="pipeline-title">Pipeline L0 → L6 · {market.symbol}</h2>
          {health.data && <HealthBadge health={health.data} />}
          <span class="spacer" />
          <AdminButton<QueuedJob> label="Run all layers" path="/api/admin/pipeline/run" body={{ symbol: market.symbol }} describe={queued} onDone={status.reload} testId="run-pipeline" />
        </div>
        <Loaded resource={status} missing="This server has no pipeline status route.">
          {(s) => (
            <div class="grid-cards">
              {s.layers.map((layer) => (
                <LayerCard key={layer.layer} layer={layer} staleReason={stale.get(layer.layer)?.reason ?? null} selected={selected === layer.layer} onSelect={() => setSelected(selected === layer.layer ? null : layer.layer)} queued={queued} reload={status.reload} />
              ))}
            </div>
          )}
        </Loaded>
      </section>
      {selected !== null && <RunHistory layer={selected} />}
      {health.data && health.data.failedRuns.length > 0 && (
        <section class="panel" aria-labelledby="failed-title">
          <h2 id="failed-title">Failed runs (last 7 days)</h2>
          <RunTable runs={health.data.failedRuns} />
        </section>
      )}
    </>
  );
}

function HealthBadge({ health }: { health: PipelineHealth }) {
  const stale = health.layers.filter((l) => l.stale).map((l) => l.layer);
  const failed = health.failedRuns.length;
  const problems = [failed > 0 ? `${failed} failed run${failed > 1 ? 's' : ''} this week` : '', stale.length > 0 ? `stale: ${stale.join(', ')}` : ''].filter((p) => p !== '');
  return <Badge tone={health.healthy ? 'ok' : 'warn'}>{health.healthy ? 'healthy' : problems.join(' · ')}</Badge>;
}

interface CardProps {
  layer: Layer;
  staleReason: string | null;
  selected: boolean;
  onSelect: () => void;
  queued: (j: QueuedJob) => string;
  reload: () => void;
}

function LayerCard({ layer, staleReason, selected, onSelect, queued, reload }: CardProps) {
  const market = useMarket();
  const zone = market.zone;
  const run = layer.lastRun;
  return (
    <article class={`panel card${selected ? ' selected' : ''}`} aria-labelledby={`layer-${layer.layer}`} data-testid={`layer-${layer.layer}`} data-status={run?.status ?? 'never'}>
      <h3 id={`layer-${layer.layer}`}>
        {layer.layer} · {layer.name} {run ? <RunStatusBadge status={run.status} /> : <Badge tone="muted">never run</Badge>}
        {staleReason !== null && (
          <Badge tone="warn" title={staleReason}>
            stale
          </Badge>
        )}
      </h3>
      <p class="muted small">{layer.description}</p>
      {staleReason !== null && <p class="warn small wrap" data-testid={`stale-${layer.layer}`}>stale: {staleReason}</p>}
      {run ? (
        <dl class="kv small">
          <dt>last run</dt>
          <dd>
            #{run.id} {run.step !== layer.layer ? `(${run.step}) ` : ''}
            {zonedDateTime(zone, run.startedAt)} <span class="muted">(server clock)</span>
          </dd>
          <dt>took</dt>
          <dd>{run.durationMs === null ? 'running' : elapsed(run.durationMs)}</dd>
          <dt>rows in → out</dt>
          <dd class="num">
            {integer(run.rowsIn)} → {integer(run.rowsOut)}
            {ROWS_MEANING[layer.layer] !== undefined && run.step === layer.layer && <span class="muted small wrap rows-meaning">{ROWS_MEANING[layer.layer]}</span>}
          </dd>
          <dt>dataset</dt>
          <dd>
            <code title={run.datasetHash ?? undefined}>{shortHash(run.datasetHash)}</code>
          </dd>
          {run.error !== null && (
            <>
              <dt>error</dt>
              <dd class="down wrap">{run.error}</dd>
            </>
          )}
        </dl>
      ) : (
        <Empty>No run recorded yet.</Empty>
      )}
      {run?.hasManifest === true && <ManifestDetails layer={layer.layer} runId={run.id} />}
      <div class="toolbar">
        <button type="button" aria-expanded={selected} onClick={onSelect}>
          {selected ? 'Hide history' : 'History'}
        </button>
        <AdminButton<QueuedJob> label={`Run ${layer.layer}`} path="/api/admin/pipeline/run" body={{ symbol: market.symbol, layers: [layer.layer] }} describe={queued} onDone={reload} />
      </div>
    </article>
  );
}

function ManifestDetails({ layer, runId }: { layer: string; runId: number }) {
  const market = useMarket();
  const [open, setOpen] = useState(false);
  const manifests = useApi<ManifestList>(open ? `/api/pipeline/manifests?layer=${layer}&symbol=${market.path}&limit=5` : null);
  const found = manifests.data?.manifests.find((m) => m.run.id === runId);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary class="muted small">Manifest</summary>
      {manifests.loading ? <p class="muted small">Loading…</p> : found ? <pre class="manifest">{JSON.stringify(found.manifest, null, 2)}</pre> : <p class="muted small">{manifests.error ?? 'Not among the latest stored manifests.'}</p>}
    </details>
  );
}

function RunHistory({ layer }: { layer: string }) {
  const market = useMarket();
  const history = useApi<LayerHistory>(`/api/pipeline/layer/${layer}?symbol=${market.path}&limit=50`, 30_000);
  return (
    <section class="panel" aria-labelledby="history-title" data-testid="run-history">
      <h2 id="history-title">Run history · {layer}</h2>
      <Loaded resource={history}>{(h) => (h.runs.length === 0 ? <Empty>No run recorded for {layer}.</Empty> : <RunTable runs={h.runs} />)}</Loaded>
    </section>
  );
}

function RunTable({ runs }: { runs: RunView[] }) {
  const zone = useZone();
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th class="num">run</th>
            <th>step</th>
            <th>status</th>
            <th>started</th>
            <th>took</th>
            <th class="num">rows in</th>
            <th class="num">rows out</th>
            <th>dataset</th>
            <th>error</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <td class="num">{r.id}</td>
              <td>{r.step}</td>
              <td>
                <RunStatusBadge status={r.status} />
              </td>
              <td>{zonedDateTime(zone, r.startedAt)}</td>
              <td>{r.durationMs === null ? MISSING : elapsed(r.durationMs)}</td>
              <td class="num">{integer(r.rowsIn)}</td>
              <td class="num">{integer(r.rowsOut)}</td>
              <td>
                <code title={r.datasetHash ?? undefined}>{shortHash(r.datasetHash)}</code>
              </td>
              <td class="wrap down">{r.error ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
