/**
 * The order ticket: market, limit or stop; buy or sell; a USD quantity; DAY or GTC. It sends
 * POST /api/trading/orders with the token entered in the top bar (a trader's or an admin's) and
 * shows the server's answer: the order and its status, or the sentence it refused it with
 * (denied by risk, rejected by the broker, a bad field). The account's risk limits are shown
 * beside it, as the server enforces them.
 */
import { useState } from 'preact/hooks';
import { sendJson, storedToken } from '../api.ts';
import { useMarket, type Market } from '../selected-symbol.ts';
import { amount } from '../decimal-text.ts';
import { OutcomeStatus, type Outcome } from './admin-button.tsx';
import type { AccountJson, OrderJson, PlaceOrderBody } from '../../contracts/api/trading.ts';

type Side = PlaceOrderBody['side'];
type OrderType = PlaceOrderBody['type'];
type TimeInForce = NonNullable<PlaceOrderBody['timeInForce']>;

interface Props {
  limits: AccountJson['limits'] | null;
  onPlaced: () => void;
}

interface Ticket {
  side: Side;
  type: OrderType;
  quantity: string;
  price: string;
  timeInForce: TimeInForce;
}

/** An order on the selected instrument. */
function orderBody(market: Market, t: Ticket): PlaceOrderBody {
  return {
    symbol: market.symbol,
    side: t.side,
    type: t.type,
    quantity: t.quantity.trim(),
    timeInForce: t.timeInForce,
    ...(t.type === 'limit' ? { limitPrice: t.price.trim() } : {}),
    ...(t.type === 'stop' ? { stopPrice: t.price.trim() } : {}),
  };
}

export function OrderTicket({ limits, onPlaced }: Props) {
  const market = useMarket();
  const [ticket, setTicket] = useState<Ticket>({ side: 'buy', type: 'market', quantity: '', price: '', timeInForce: 'DAY' });
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const change = (part: Partial<Ticket>) => setTicket({ ...ticket, ...part });

  const submit = async () => {
    if (storedToken() === null) {
      setOutcome({ kind: 'error', text: 'Enter a trader API token in the top bar first (tasa token create --role trader).' });
      return;
    }
    setOutcome({ kind: 'busy' });
    try {
      const { order } = await sendJson<{ order: OrderJson }>('POST', '/api/trading/orders', orderBody(market, ticket));
      setOutcome({ kind: 'ok', text: `order ${order.id} (${order.side} ${amount(order.quantity)} ${market.base} ${order.type}) ${order.status}` });
    } catch (err) {
      setOutcome({ kind: 'error', text: err instanceof Error ? err.message : String(err) });
    }
    onPlaced();
  };

  return (
    <form
      class="ticket"
      aria-label="Order ticket"
      data-testid="order-ticket"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div class="toolbar" role="group" aria-label="Side">
        {(['buy', 'sell'] as const).map((side) => (
          <button key={side} type="button" aria-pressed={ticket.side === side} onClick={() => change({ side })} data-testid={`ticket-${side}`}>
            {side === 'buy' ? 'Buy' : 'Sell'}
          </button>
        ))}
      </div>
      <label>
        Type
        <select value={ticket.type} onChange={(e) => change({ type: e.currentTarget.value as OrderType })} data-testid="ticket-type">
          <option value="market">market</option>
          <option value="limit">limit</option>
          <option value="stop">stop</option>
        </select>
      </label>
      <label>
        Quantity ({market.base})
        <input inputMode="decimal" required value={ticket.quantity} onInput={(e) => change({ quantity: e.currentTarget.value })} placeholder="1000.00" data-testid="ticket-quantity" />
      </label>
      <label>
        {ticket.type === 'stop' ? 'Stop price' : 'Limit price'} ({market.quote})
        <input
          inputMode="decimal"
          required={ticket.type !== 'market'}
          disabled={ticket.type === 'market'}
          value={ticket.type === 'market' ? '' : ticket.price}
          onInput={(e) => change({ price: e.currentTarget.value })}
          data-testid="ticket-price"
        />
      </label>
      <label>
        Time in force
        <select value={ticket.timeInForce} onChange={(e) => change({ timeInForce: e.currentTarget.value as TimeInForce })} data-testid="ticket-tif">
          <option value="DAY">DAY</option>
          <option value="GTC">GTC</option>
        </select>
      </label>
      <div class="toolbar">
        <button type="submit" disabled={outcome.kind === 'busy'} data-testid="ticket-submit">
          Place {ticket.side} order
        </button>
        <OutcomeStatus outcome={outcome} testId="ticket-result" />
      </div>
      {limits && <RiskLimits limits={limits} />}
    </form>
  );
}

function RiskLimits({ limits }: { limits: AccountJson['limits'] }) {
  return (
    <p class="muted small wrap" data-testid="risk-limits">
      Risk limits: order at most {amount(limits.maxOrderUsd)} USD · position at most {amount(limits.maxPositionUsd)} USD · {limits.maxOrdersPerMinute} orders a minute · daily loss limit{' '}
      {amount(limits.dailyLossLimitCop)} COP (then trading halts) · limit and stop prices within {limits.priceBandBps} bps of the market
    </p>
  );
}
