/**
 * One backtest: equity and drawdown charts, the metrics table, the production gates (pass/fail
 * with value and threshold), the trade ledger, and a link to the self-contained HTML report.
 *
 * Routes: GET /api/backtests/{id}, /api/backtests/{id}/report (link).
 */
import { useMemo, useState } from 'preact/hooks';
import { Badge, CheckBadge } from '../components/badge.tsx';
import { Empty, Loaded } from '../components/empty-state.tsx';
import { LineChart } from '../components/line-chart.tsx';
import { decimal, integer, percent, price, shortHash, zonedDateTime } from '../format.ts';
import { useMarket, useZone } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';
import type { BacktestDetail, GateResult, PerformanceMetrics, TradeView } from '../../contracts/api/research.ts';

const TRADES_PAGE = 100;

/** Which metrics are fractions (shown as %), which ratios, which counts. */
const METRICS: Array<{ key: keyof PerformanceMetrics; label: string; kind: 'pct' | 'ratio' | 'count' | 'minutes' }> = [
  { key: 'totalReturn', label: 'total return', kind: 'pct' },
  { key: 'cagr', label: 'CAGR', kind: 'pct' },
  { key: 'annualizedVolatility', label: 'volatility (annualized)', kind: 'pct' },
  { key: 'sharpe', label: 'Sharpe', kind: 'ratio' },
  { key: 'sortino', label: 'Sortino', kind: 'ratio' },
  { key: 'maxDrawdown', label: 'max drawdown', kind: 'pct' },
  { key: 'calmar', label: 'Calmar', kind: 'ratio' },
  { key: 'winRate', label: 'win rate', kind: 'pct' },
  { key: 'profitFactor', label: 'profit factor', kind: 'ratio' },
  { key: 'exposure', label: 'exposure', kind: 'pct' },
  { key: 'tradeCount', label: 'trades', kind: 'count' },
  { key: 'averageHoldingMinutes', label: 'mean holding', kind: 'minutes' },
  { key: 'bars', label: 'bars', kind: 'count' },
];

function metricText(value: unknown, kind: (typeof METRICS)[number]['kind']): string {
  const v = typeof value === 'number' ? value : null;
  if (kind === 'pct') return percent(v);
  if (kind === 'count') return integer(v);
  if (kind === 'minutes') return v === null ? '—' : `${decimal(v, 0)} min`;
  return decimal(v, 2);
}

const pctAxis = (v: number) => `${(v * 100).toFixed(1)} %`;
const equityAxis = (v: number) => decimal(v, 4);

export function BacktestRun({ id }: { id: number }) {
  const run = useApi<BacktestDetail>(`/api/backtests/${id}`);
  return (
    <Loaded resource={run} missing={`Backtest ${id} does not exist.`}>
      {(b) => <RunDetail b={b} />}
    </Loaded>
  );
}

function RunDetail({ b }: { b: BacktestDetail }) {
  const zone = useZone();
  const equity = useMemo(() => b.equity.points.map((p) => ({ time: Date.parse(p.time), value: p.equity })), [b.equity]);
  const drawdown = useMemo(() => b.equity.points.map((p) => ({ time: Date.parse(p.time), value: -p.drawdown })), [b.equity]);
  return (
    <div data-testid="backtest-detail">
      <div class="toolbar">
        <h2>
          Backtest #{b.id} · {b.policyId}
        </h2>
        {b.passed === null ? <Badge tone="muted">gates not evaluated</Badge> : <CheckBadge ok={b.passed} yes="gates passed" no="gates failed" />}
        <span class="spacer" />
        {b.hasReport && (
          <a href={`/api/backtests/${b.id}/report`} target="_blank" rel="noopener">
            HTML report
          </a>
        )}
      </div>
      <p class="muted small">
        {b.symbol} · sessions {b.fromDate} to {b.toDate} ({integer(b.equity.sessions)}) · dataset <code title={b.datasetHash ?? undefined}>{shortHash(b.datasetHash)}</code> · run{' '}
        {zonedDateTime(zone, b.createdAt)}
        {b.pipelineRunId !== null && ` · pipeline run #${b.pipelineRunId}`}
      </p>
      {equity.length === 0 ? (
        <Empty>This backtest stored no equity curve.</Empty>
      ) : (
        <div class="grid-2">
          <div>
            <h3>Equity (initial {decimal(b.equity.initialEquity, 2)})</h3>
            <LineChart points={equity} label="Equity curve" format={equityAxis} />
          </div>
          <div>
            <h3>Drawdown from the running peak</h3>
            <LineChart points={drawdown} label="Drawdown from the running peak" format={pctAxis} color="#ef5350" area />
          </div>
        </div>
      )}
      <div class="grid-2">
        <div>
          <h3>Metrics</h3>
          <div class="table-wrap">
          <table data-testid="backtest-metrics">
            <tbody>
              {METRICS.map((m) => (
                <tr key={m.key}>
                  <th>{m.label}</th>
                  <td class="num">{metricText(b.metrics[m.key], m.kind)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        </div>
        <div>
          <h3>Production gates</h3>
          {b.gates === null ? <Empty>This run was not gated.</Empty> : <GatesTable gates={b.gates.gates} />}
          {b.gates?.verdict !== undefined && <p data-testid="backtest-verdict">{b.gates.verdict}</p>}
          {b.gates !== null && (
            <p class="muted small">
              Cost stress rerun at spread {decimal(b.gates.stressedCosts.spreadBps, 2)} bps, fee {decimal(b.gates.stressedCosts.feeBps, 2)} bps.
            </p>
          )}
        </div>
      </div>
      <h3>
        Trades ({integer(b.trades.total)}
        {b.trades.items.length < b.trades.total ? `, the last ${integer(b.trades.items.length)} listed` : ''})
      </h3>
      <TradeLedger trades={b.trades.items} />
    </div>
  );
}

function GatesTable({ gates }: { gates: GateResult[] }) {
  if (gates.length === 0) return <Empty>No gate was evaluated for this run.</Empty>;
  const percentGates: ReadonlyArray<GateResult['gate']> = ['max-drawdown', 'cost-stress', 'excess-vs-best-baseline'];
  const fmt = (g: GateResult, v: number | null) => (percentGates.includes(g.gate) ? percent(v) : g.gate === 'min-trades' ? integer(v) : decimal(v, 2));
  return (
    <div class="table-wrap">
    <table data-testid="backtest-gates">
      <thead>
        <tr>
          <th>gate</th>
          <th class="num">value</th>
          <th>needs</th>
          <th>result</th>
        </tr>
      </thead>
      <tbody>
        {gates.map((g) => (
          <tr key={g.gate} title={g.description}>
            <td>{g.gate}</td>
            <td class="num">{fmt(g, g.value)}</td>
            <td>
              {g.comparator} {fmt(g, g.threshold)}
            </td>
            <td>
              <CheckBadge ok={g.passed} yes="pass" no="fail" />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    </div>
  );
}

function TradeLedger({ trades }: { trades: TradeView[] }) {
  const { zone, decimals } = useMarket();
  const [shown, setShown] = useState(TRADES_PAGE);
  if (trades.length === 0) return <Empty>The policy made no trade in this run.</Empty>;
  return (
    <>
      <div class="table-wrap tall">
        <table data-testid="trade-ledger">
          <thead>
            <tr>
              <th>side</th>
              <th>entry</th>
              <th>exit</th>
              <th class="num">entry</th>
              <th class="num">exit</th>
              <th class="num">bars</th>
              <th class="num">P&amp;L</th>
              <th class="num">return</th>
              <th class="num">costs</th>
              <th>exit reason</th>
            </tr>
          </thead>
          <tbody>
            {trades.slice(0, shown).map((t) => (
              <tr key={`${t.entryTime}-${t.side}`}>
                <td class={t.side > 0 ? 'up' : 'down'}>{t.side > 0 ? 'long' : 'short'}</td>
                <td>{zonedDateTime(zone, t.entryTime)}</td>
                <td>{zonedDateTime(zone, t.exitTime)}</td>
                <td class="num">{price(t.entryPrice, decimals)}</td>
                <td class="num">{price(t.exitPrice, decimals)}</td>
                <td class="num">{integer(t.barsHeld)}</td>
                <td class={`num ${t.pnl >= 0 ? 'up' : 'down'}`}>{`${t.pnl > 0 ? '+' : ''}${decimal(t.pnl, 4)}`}</td>
                <td class="num">{percent(t.return, 3)}</td>
                <td class="num">{decimal(t.costs, 4)}</td>
                <td>{t.exitReason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown < trades.length && (
        <button type="button" onClick={() => setShown(shown + TRADES_PAGE)}>
          Show {Math.min(TRADES_PAGE, trades.length - shown)} more of {integer(trades.length - shown)}
        </button>
      )}
    </>
  );
}
