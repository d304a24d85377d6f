/**
 * Research: the backtests (newest first) and, for the selected one, its charts, metrics, gates
 * and trades; the model registry with a promote button (admin) for candidates. The selected run
 * is kept in the address (#/research?run=12) so it can be linked.
 *
 * The latest completed walk-forward run sits between the backtests and the registry (research-walk-forward.tsx).
 *
 * Routes: GET /api/backtests, /api/backtests/{id}, /api/models; POST /api/models/{id}/promote (admin).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { AdminButton } from '../components/admin-button.tsx';
import { Badge, CheckBadge } from '../components/badge.tsx';
import { Empty, Loaded } from '../components/empty-state.tsx';
import { decimal, integer, percent, shortHash, zonedDateTime } from '../format.ts';
import { useMarket, useZone } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';
import { BacktestRun } from './research-run.tsx';
import { WalkForwardPanel } from './research-walk-forward.tsx';
import type { BacktestPage, BacktestView, ModelList, ModelView, Promotion } from '../../contracts/api/research.ts';

function runInHash(): number | null {
  const query = location.hash.split('?')[1] ?? '';
  const run = Number(new URLSearchParams(query).get('run'));
  return Number.isInteger(run) && run > 0 ? run : null;
}

function metric(m: object, key: string): number | null {
  const v: unknown = (m as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : null;
}

export function ResearchView() {
  const market = useMarket();
  const backtests = useApi<BacktestPage>(`/api/backtests?symbol=${market.path}&limit=100`, 60_000);
  const models = useApi<ModelList>(`/api/models?symbol=${market.path}`, 60_000);
  const [selected, setSelected] = useState<number | null>(runInHash());
  useEffect(() => {
    const onHash = () => setSelected(runInHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  return (
    <>
      <section class="panel" aria-labelledby="backtests-title">
        <h2 id="backtests-title">Backtests · {market.symbol}</h2>
        <Loaded resource={backtests} missing="This server does not serve backtests yet (GET /api/backtests answered 404).">
          {(page) => <BacktestList runs={page.items} selected={selected} more={page.nextBeforeId != null} />}
        </Loaded>
      </section>
      {selected !== null && (
        <section class="panel" aria-label={`Backtest ${selected}`}>
          <BacktestRun id={selected} />
        </section>
      )}
      <section class="panel" aria-labelledby="walk-forward-title">
        <h2 id="walk-forward-title">Walk-forward · {market.symbol}</h2>
        <WalkForwardPanel />
      </section>
      <section class="panel" aria-labelledby="models-title">
        <h2 id="models-title">Model registry</h2>
        <Loaded resource={models} missing="This server does not serve the model registry yet (GET /api/models answered 404).">
          {(page) => <ModelTable models={page.items} reload={models.reload} />}
        </Loaded>
      </section>
    </>
  );
}

function BacktestList({ runs, selected, more }: { runs: BacktestView[]; selected: number | null; more: boolean }) {
  const zone = useZone();
  if (runs.length === 0) return <Empty>No backtest has run yet: run the pipeline through L6 (Pipeline view, admin) or `tasa pipeline run`.</Empty>;
  return (
    <div class="table-wrap" data-testid="backtest-list">
      <table>
        <thead>
          <tr>
            <th class="num">run</th>
            <th>policy</th>
            <th>sessions</th>
            <th class="num">return</th>
            <th class="num">Sortino</th>
            <th class="num">max DD</th>
            <th class="num">trades</th>
            <th>gates</th>
            <th>dataset</th>
            <th>run at</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((b) => (
            <tr key={b.id} aria-current={b.id === selected ? 'true' : undefined}>
              <td class="num">
                <a href={`#/research?run=${b.id}`}>#{b.id}</a>
              </td>
              <td>{b.policyId}</td>
              <td>
                {b.fromDate} – {b.toDate}
              </td>
              <td class="num">{percent(metric(b.metrics, 'totalReturn'))}</td>
              <td class="num">{decimal(metric(b.metrics, 'sortino'), 2)}</td>
              <td class="num">{percent(metric(b.metrics, 'maxDrawdown'))}</td>
              <td class="num">{decimal(metric(b.metrics, 'tradeCount'), 0)}</td>
              <td>{b.passed === null ? <Badge tone="muted">n/a</Badge> : <CheckBadge ok={b.passed} yes="pass" no="fail" />}</td>
              <td>
                <code title={b.datasetHash ?? undefined}>{shortHash(b.datasetHash)}</code>
              </td>
              <td>{zonedDateTime(zone, b.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {more && <p class="muted small">The 100 newest are listed.</p>}
    </div>
  );
}

const STATUS_TONES = { production: 'ok', candidate: 'warn', retired: 'muted' } as const;

function ModelTable({ models, reload }: { models: ModelView[]; reload: () => void }) {
  const zone = useZone();
  if (models.length === 0) return <Empty>No model registered yet: training (L5) registers PPO policies and the baselines.</Empty>;
  return (
    <div class="table-wrap" data-testid="model-table">
      <table>
        <thead>
          <tr>
            <th>model</th>
            <th>kind</th>
            <th>status</th>
            <th class="num">test return</th>
            <th class="num">test Sharpe</th>
            <th class="num">test trades</th>
            <th>gates (newest backtest)</th>
            <th>dataset</th>
            <th>created</th>
            <th>promoted</th>
            <th>action (admin)</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m.id} data-model={m.id} data-status={m.status}>
              <td>
                <code>{m.id}</code>
              </td>
              <td>{m.kind}</td>
              <td>
                <Badge tone={STATUS_TONES[m.status]}>{m.status}</Badge>
              </td>
              <td class="num" title={m.test ? `backtest #${m.test.backtestId}, ${m.test.fromDate} – ${m.test.toDate}` : 'no pipeline (L6) backtest yet'}>
                {percent(m.test?.totalReturn)}
              </td>
              <td class="num">{decimal(m.test?.sharpe, 2)}</td>
              <td class="num">{integer(m.test?.tradeCount)}</td>
              <td class="wrap verdict">
                <ModelGates result={m.gateResult} />
              </td>
              <td>
                <code title={m.datasetHash ?? undefined}>{shortHash(m.datasetHash)}</code>
              </td>
              <td>{zonedDateTime(zone, m.createdAt)}</td>
              <td>{zonedDateTime(zone, m.promotedAt)}</td>
              <td>
                {m.status !== 'production' && <PromoteAction model={m} current={models.find((x) => x.symbol === m.symbol && x.status === 'production')?.id ?? null} onDone={reload} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Passed / failed (with the failing gates' names) and the gates' verdict sentence of the model's newest backtest. */
function ModelGates({ result }: { result: ModelView['gateResult'] }) {
  if (result === null) return <Badge tone="muted">no backtest</Badge>;
  if (result.passed === null) return <Badge tone="muted">not gated</Badge>;
  return (
    <>
      <a href={`#/research?run=${result.backtestId}`}>
        <CheckBadge ok={result.passed} yes="passed" no="failed" />
      </a>
      {result.failedGates.length > 0 && <span class="small"> {result.failedGates.join(', ')}</span>}
      {result.verdict !== null && <span class="muted small"> · {result.verdict}</span>}
    </>
  );
}

/**
 * Promote: the server refuses (409) a model whose newest backtest did not pass the production
 * gates; the refusal is shown, with a second button to promote anyway (?force=true, audited).
 */
function PromoteAction({ model, current, onDone }: { model: ModelView; current: string | null; onDone: () => void }) {
  const [refused, setRefused] = useState(false);
  const path = `/api/models/${encodeURIComponent(model.id)}/promote`;
  const describe = (a: Promotion) => (a.changed ? `promoted${a.previousId ? `; ${a.previousId} is a candidate again` : ''}` : 'already in production');
  return (
    <span class="toolbar">
      <AdminButton
        label="Promote"
        path={path}
        confirm={`Promote ${model.id} to production for ${model.symbol}? ${current === null ? `No model is in production for ${model.symbol} yet: it starts predicting on every final bar.` : `${current}, in production now, becomes a candidate.`}`}
        describe={describe}
        onDone={onDone}
        onError={(err) => setRefused(err instanceof ApiError && err.status === 409)}
        testId={`promote-${model.id}`}
      />
      {refused && (
        <AdminButton
          label="Promote anyway"
          path={`${path}?force=true`}
          confirm={`Promote ${model.id} although it has not passed the production gates? This is recorded in the audit log.`}
          describe={describe}
          onDone={onDone}
          testId={`force-promote-${model.id}`}
        />
      )}
    </span>
  );
}
