/**
 * The paper trading figures the terminal shows, over REST: the account (cash, P&L, trading state,
 * risk limits), the daily P&L, open orders, positions and the fills since `fillsFrom`. An order,
 * fill or position message reloads them all (one reload for a burst: a fill comes with its order
 * and position); a new price reloads what it moves (positions marked
 * at it, the account, the day's P&L), at most every PRICE_RELOAD_GAP_MS and only while a position
 * is open. The server computes every amount (exact decimals): the page never adds money up.
 *
 * The strategies and their live parity record load once (the parity monitor runs after the close).
 *
 * Routes: GET /api/trading/account, /api/trading/pnl, /api/trading/orders?status=open,
 * /api/trading/positions, /api/trading/fills, /api/trading/strategies, /api/trading/parity.
 */
import { useEffect, useRef } from 'preact/hooks';
import { browserNow } from '../clock.ts';
import { isZero } from '../decimal-text.ts';
import { useApi, type Resource } from '../use-api.ts';
import type { AccountJson, FillList, OrderList, ParityList, PnlSeries, PositionList, StrategyList } from '../../contracts/api/trading.ts';

const PRICE_RELOAD_GAP_MS = 2000;
const BURST_MS = 150;

export interface TradingData {
  account: Resource<AccountJson>;
  pnl: Resource<PnlSeries>;
  openOrders: Resource<OrderList>;
  positions: Resource<PositionList>;
  fills: Resource<FillList>;
  strategies: Resource<StrategyList>;
  parity: Resource<ParityList>;
  /** An order, fill or position changed: reload everything. */
  reload: () => void;
  /** A new price: reload the marked figures (throttled). */
  onPrice: () => void;
}

/** `fillsFrom`: ISO time of the first fill wanted (the chart's first candle); null = the oldest ones. */
export function useTrading(symbolPath: string, fillsFrom: string | null): TradingData {
  const account = useApi<AccountJson>('/api/trading/account');
  const pnl = useApi<PnlSeries>('/api/trading/pnl');
  const openOrders = useApi<OrderList>(`/api/trading/orders?status=open&symbol=${symbolPath}`);
  const positions = useApi<PositionList>('/api/trading/positions');
  const fills = useApi<FillList>(`/api/trading/fills${fillsFrom === null ? '' : `?from=${encodeURIComponent(fillsFrom)}`}`);
  const strategies = useApi<StrategyList>('/api/trading/strategies');
  const parity = useApi<ParityList>('/api/trading/parity');
  const lastPriceReload = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (pending.current !== null) clearTimeout(pending.current);
  }, []);
  const reloadMarked = () => {
    positions.reload();
    account.reload();
    pnl.reload();
  };
  return {
    account,
    pnl,
    openOrders,
    positions,
    fills,
    strategies,
    parity,
    reload: () => {
      pending.current ??= setTimeout(() => {
        pending.current = null;
        reloadMarked();
        openOrders.reload();
        fills.reload();
      }, BURST_MS);
    },
    onPrice: () => {
      const open = positions.data?.positions.some((p) => !isZero(p.quantity)) === true;
      if (!open || browserNow() - lastPriceReload.current < PRICE_RELOAD_GAP_MS) return;
      lastPriceReload.current = browserNow();
      reloadMarked();
    },
  };
}
