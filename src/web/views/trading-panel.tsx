/**
 * Paper trading in the terminal, under the chart its fills are drawn on: the trading state
 * (ACTIVE, REDUCING, HALTED), the day's P&L and the account, the order ticket with the risk
 * limits, open orders with cancel, positions with their unrealized P&L at the latest price, and
 * the fills blotter, and the strategies with their live parity. The data comes from `useTrading` (trading-data.ts), which the terminal's
 * socket keeps current.
 */
import { Loaded } from '../components/empty-state.tsx';
import { OrderTicket } from '../components/order-ticket.tsx';
import { StrategyTable } from '../components/strategy-table.tsx';
import { FillsBlotter, OpenOrders, Positions } from '../components/trading-tables.tsx';
import { amount, signClass } from '../decimal-text.ts';
import { zonedDateTime } from '../format.ts';
import { useZone } from '../selected-symbol.ts';
import type { AccountJson, PnlSeries, TradingStateJson } from '../../contracts/api/trading.ts';
import type { TradingData } from './trading-data.ts';

const STATE_BADGE: Record<TradingStateJson['mode'], string> = { ACTIVE: 'ok', REDUCING: 'warn', HALTED: 'bad' };

export function TradingPanel({ trading }: { trading: TradingData }) {
  const account = trading.account.data;
  return (
    <>
      <section class="panel" aria-labelledby="trading-title">
        <div class="toolbar">
          <h2 id="trading-title">Paper trading</h2>
          {account && <TradingStateBadge state={account.tradingState} />}
          {account && account.tradingState.reason !== null && <span class="muted small wrap">{account.tradingState.reason}</span>}
          {account?.engine.running === false && (
            <span class="badge warn">{account.engine.holder === null ? 'no process runs the trading engine' : `orders go to ${account.engine.holder}`}</span>
          )}
        </div>
        <Loaded resource={trading.account}>{(a) => <AccountFigures account={a} pnl={trading.pnl.data} />}</Loaded>
        <div class="grid-2">
          <div>
            <h3>Order ticket</h3>
            <OrderTicket limits={account?.limits ?? null} onPlaced={trading.reload} />
          </div>
          <div>
            <h3>Open orders</h3>
            <Loaded resource={trading.openOrders}>{(list) => <OpenOrders orders={list.orders} onCancelled={trading.reload} />}</Loaded>
            <h3>Positions</h3>
            <Loaded resource={trading.positions}>{(list) => <Positions positions={list.positions} />}</Loaded>
          </div>
        </div>
      </section>
      <section class="panel" aria-labelledby="fills-title">
        <h2 id="fills-title">Fills</h2>
        <Loaded resource={trading.fills}>{(list) => <FillsBlotter fills={list.fills} />}</Loaded>
      </section>
      <section class="panel" aria-labelledby="strategies-title">
        <h2 id="strategies-title">Strategies and live parity</h2>
        <Loaded resource={trading.strategies}>
          {(list) => <StrategyTable strategies={list.strategies} parity={trading.parity.data?.strategies ?? []} />}
        </Loaded>
      </section>
    </>
  );
}

function TradingStateBadge({ state }: { state: TradingStateJson }) {
  const zone = useZone();
  return (
    <span class={`badge ${STATE_BADGE[state.mode]}`} data-testid="trading-state" data-mode={state.mode} title={`Since ${zonedDateTime(zone, state.since)}, set by ${state.actor}`}>
      {state.mode}
    </span>
  );
}

function AccountFigures({ account, pnl }: { account: AccountJson; pnl: PnlSeries | null }) {
  const today = pnl?.days.at(-1) ?? null;
  return (
    <dl class="figures" data-testid="account">
      <Figure label={`P&L ${today?.date ?? 'today'}`} value={today?.pnl ?? null} signed testId="day-pnl" />
      <Figure label="Equity" value={account.equity} />
      <Figure label="Cash" value={account.cash} />
      <Figure label="Realized" value={account.realizedPnl} signed />
      <Figure label="Unrealized" value={account.unrealizedPnl} signed />
      <Figure label="Fees" value={account.fees} />
    </dl>
  );
}

function Figure({ label, value, signed = false, testId }: { label: string; value: string | null; signed?: boolean; testId?: string }) {
  return (
    <div>
      <dt>{label} (COP)</dt>
      <dd class={`num ${signed ? signClass(value) : ''}`} data-testid={testId}>
        {amount(value, signed)}
      </dd>
    </div>
  );
}
