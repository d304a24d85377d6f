/**
 * The trading tables: open orders (each with a cancel button: DELETE /api/trading/orders/{id}
 * with the token of the top bar), positions marked at the latest price, and the fills blotter.
 * Amounts are the server's decimal strings, shown as given.
 */
import { useState } from 'preact/hooks';
import { sendJson, storedToken } from '../api.ts';
import { amount, signClass } from '../decimal-text.ts';
import { zonedDateTime } from '../format.ts';
import { useZone } from '../selected-symbol.ts';
import type { OrderJson, PositionJson } from '../../contracts/api/trading.ts';
import type { FillMessage } from '../../contracts/trading-messages.ts';
import { Empty } from './empty-state.tsx';

/** Fills listed in the blotter, newest first. */
const BLOTTER_ROWS = 50;

export function OpenOrders({ orders, onCancelled }: { orders: readonly OrderJson[]; onCancelled: () => void }) {
  const zone = useZone();
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const cancel = async (order: OrderJson) => {
    if (storedToken() === null) {
      setMessage({ text: 'Enter a trader API token in the top bar first.', error: true });
      return;
    }
    try {
      const { order: cancelled } = await sendJson<{ order: OrderJson }>('DELETE', `/api/trading/orders/${order.id}`);
      setMessage({ text: `order ${cancelled.id} ${cancelled.status}`, error: false });
    } catch (err) {
      setMessage({ text: err instanceof Error ? err.message : String(err), error: true });
    }
    onCancelled();
  };
  return (
    <>
      {orders.length === 0 ? (
        <Empty>No open orders.</Empty>
      ) : (
        <div class="table-wrap" data-testid="open-orders">
          <table>
            <thead>
              <tr>
                <th class="num">id</th>
                <th>side</th>
                <th>type</th>
                <th class="num">USD</th>
                <th class="num">filled</th>
                <th class="num">price</th>
                <th>TIF</th>
                <th>status</th>
                <th>placed</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id} data-order-id={o.id} data-status={o.status}>
                  <td class="num">{o.id}</td>
                  <td class={o.side === 'buy' ? 'up' : 'down'}>{o.side}</td>
                  <td>{o.type}</td>
                  <td class="num">{amount(o.quantity)}</td>
                  <td class="num">{amount(o.filledQuantity)}</td>
                  <td class="num">{amount(o.limitPrice ?? o.stopPrice)}</td>
                  <td>{o.timeInForce}</td>
                  <td>{o.status}</td>
                  <td>{zonedDateTime(zone, o.createdAt)}</td>
                  <td>
                    <button type="button" onClick={() => void cancel(o)} data-testid={`cancel-${o.id}`}>
                      Cancel
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {message && (
        <p role="status" class={message.error ? 'down small' : 'muted small'} data-testid="cancel-result">
          {message.text}
        </p>
      )}
    </>
  );
}

export function Positions({ positions }: { positions: readonly PositionJson[] }) {
  if (positions.length === 0) return <Empty>No positions yet.</Empty>;
  return (
    <div class="table-wrap" data-testid="positions">
      <table>
        <thead>
          <tr>
            <th>symbol</th>
            <th class="num">USD</th>
            <th class="num">avg price</th>
            <th class="num">mark</th>
            <th class="num">value COP</th>
            <th class="num">unrealized COP</th>
            <th class="num">realized COP</th>
          </tr>
        </thead>
        <tbody>
          {positions.map((p) => (
            <tr key={p.symbol} data-symbol={p.symbol} data-quantity={p.quantity}>
              <td>{p.symbol}</td>
              <td class={`num ${signClass(p.quantity)}`}>{amount(p.quantity, true)}</td>
              <td class="num">{amount(p.averagePrice)}</td>
              <td class="num">{amount(p.markPrice)}</td>
              <td class="num">{amount(p.marketValue)}</td>
              <td class={`num ${signClass(p.unrealizedPnl)}`} data-testid="unrealized-pnl">
                {amount(p.unrealizedPnl, true)}
              </td>
              <td class={`num ${signClass(p.realizedPnl)}`}>{amount(p.realizedPnl, true)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** `fills` oldest first, as the API lists them. */
export function FillsBlotter({ fills }: { fills: readonly FillMessage[] }) {
  const zone = useZone();
  if (fills.length === 0) return <Empty>No fills yet.</Empty>;
  const newest = fills.slice(-BLOTTER_ROWS).reverse();
  return (
    <div class="table-wrap tall" data-testid="fills">
      <table>
        <thead>
          <tr>
            <th>time</th>
            <th class="num">order</th>
            <th>side</th>
            <th class="num">USD</th>
            <th class="num">price</th>
            <th class="num">notional COP</th>
            <th class="num">fee COP</th>
          </tr>
        </thead>
        <tbody>
          {newest.map((f) => (
            <tr key={`${f.orderId}-${f.seq}`} data-order-id={f.orderId}>
              <td>{zonedDateTime(zone, f.time)}</td>
              <td class="num">{f.orderId}</td>
              <td class={f.side === 'buy' ? 'up' : 'down'}>{f.side}</td>
              <td class="num">{amount(f.quantity)}</td>
              <td class="num">{amount(f.price)}</td>
              <td class="num">{amount(f.notional)}</td>
              <td class="num">{amount(f.fee)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {fills.length > BLOTTER_ROWS && <p class="muted small">The {BLOTTER_ROWS} newest of {fills.length} fills are listed.</p>}
    </div>
  );
}
