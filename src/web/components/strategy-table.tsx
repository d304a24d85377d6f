/**
 * The strategies and their live parity: each strategy's policy, whether it is on and traded now,
 * and what the parity monitor found when it compared the strategy's paper trades with the
 * backtest of each session it traded (sessions, trades matched, the last session's outcome).
 */
import type { ParityJson, StrategyJson } from '../../contracts/api/trading.ts';
import { Empty } from './empty-state.tsx';

export function StrategyTable({ strategies, parity }: { strategies: readonly StrategyJson[]; parity: readonly ParityJson[] }) {
  const ids = [...new Set([...strategies.map((s) => s.id), ...parity.map((p) => p.strategy)])].sort();
  if (ids.length === 0) return <Empty>No strategy yet: `tasa strategy start` switches one on.</Empty>;
  return (
    <div class="table-wrap" data-testid="strategies">
      <table>
        <thead>
          <tr>
            <th>strategy</th>
            <th>policy</th>
            <th>state</th>
            <th class="num">sessions compared</th>
            <th class="num">trades matched</th>
            <th>last session</th>
          </tr>
        </thead>
        <tbody>
          {ids.map((id) => (
            <StrategyRow key={id} id={id} strategy={strategies.find((s) => s.id === id) ?? null} parity={parity.find((p) => p.strategy === id) ?? null} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function StrategyRow({ id, strategy, parity }: { id: string; strategy: StrategyJson | null; parity: ParityJson | null }) {
  return (
    <tr data-strategy={id}>
      <td>{id}</td>
      <td>{strategy?.policyId ?? '—'}</td>
      <td>{strategyState(strategy)}</td>
      <td class="num">{parity === null ? '—' : `${parity.sessions} (${parity.sessionsMismatched} differ)`}</td>
      <td class="num" data-testid="parity-trades">
        {parity === null ? '—' : `${parity.tradesMatched} of ${parity.tradesCompared}`}
      </td>
      <td>{parity === null ? <span class="muted">not compared yet</span> : <LastSession parity={parity} />}</td>
    </tr>
  );
}

function LastSession({ parity }: { parity: ParityJson }) {
  const diff = parity.lastPriceDiffBps === null ? '' : `, price ${parity.lastPriceDiffBps.toFixed(1)} bps off`;
  return (
    <span class={`badge ${parity.lastSessionMatched ? 'ok' : 'bad'}`} data-testid="parity-last" data-matched={String(parity.lastSessionMatched)}>
      {parity.lastSession} {parity.lastSessionMatched ? 'matches the backtest' : 'differs from the backtest'}
      {diff}
    </span>
  );
}

function strategyState(strategy: StrategyJson | null): string {
  if (strategy === null) return 'removed';
  if (!strategy.enabled) return 'off';
  if (strategy.running === null) return 'on (engine elsewhere)';
  return strategy.running ? 'on, trading' : 'on, not attached';
}
