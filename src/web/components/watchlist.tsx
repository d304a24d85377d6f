/**
 * The watchlist: every instrument the server serves (GET /api/instruments) with its last price,
 * the change against the previous session's close and its market's status (open until when, or
 * closed until when, in that market's own zone). Prices move live from one WebSocket subscribed to
 * the ticks of every symbol; a market opening or closing reloads the list. Clicking a row selects
 * the instrument every view shows. A price the server has not seen is "no price yet", never a guess.
 */
import { useEffect, useState } from 'preact/hooks';
import type { InstrumentView } from '../../contracts/api/instruments.ts';
import type { ServerMessage } from '../../contracts/ws-protocol.ts';
import { percent, price, signed, zonedMinute } from '../format.ts';
import { LiveSocket } from '../live-socket.ts';
import { selectSymbol } from '../selected-symbol.ts';

interface LivePrice {
  price: number;
  at: number;
}

/** The latest tick price of each symbol since the socket opened. */
function useLivePrices(symbols: readonly string[], onMarketStatus: () => void): ReadonlyMap<string, LivePrice> {
  const [prices, setPrices] = useState<ReadonlyMap<string, LivePrice>>(new Map());
  const key = symbols.join(',');
  useEffect(() => {
    if (symbols.length === 0) return;
    const onMessage = (m: ServerMessage) => {
      if (m.type === 'market_status') onMarketStatus();
      if (m.type !== 'market_data' || m.data.price === null) return;
      const tick = { price: m.data.price, at: Date.parse(m.timestamp) };
      setPrices((old) => (old.get(m.symbol)?.at ?? -Infinity) > tick.at ? old : new Map(old).set(m.symbol, tick));
    };
    const live = new LiveSocket({ symbols: [...symbols], channels: ['ticks', 'status'], onMessage, onState: () => {}, onRefetch: onMarketStatus });
    return () => live.close();
  }, [key]);
  return prices;
}

export function Watchlist({ instruments, selected, onMarketStatus }: { instruments: readonly InstrumentView[]; selected: string; onMarketStatus: () => void }) {
  const live = useLivePrices(instruments.map((i) => i.symbol), onMarketStatus);
  return (
    <section class="panel watchlist" aria-labelledby="watchlist-title">
      <h2 id="watchlist-title">Watchlist</h2>
      <div class="table-wrap">
        <table data-testid="watchlist">
          <thead>
            <tr>
              <th scope="col">Instrument</th>
              <th scope="col" class="num">
                Last
              </th>
              <th scope="col" class="num">
                Change
              </th>
              <th scope="col">Market</th>
            </tr>
          </thead>
          <tbody>
            {instruments.map((i) => (
              <Row key={i.symbol} instrument={i} live={live.get(i.symbol) ?? null} selected={i.symbol === selected} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Row({ instrument: i, live, selected }: { instrument: InstrumentView; live: LivePrice | null; selected: boolean }) {
  // The newer of the list's cached tick and the socket's.
  const cachedAt = i.last === null ? -Infinity : Date.parse(i.last.time);
  const last = live !== null && live.at >= cachedAt ? live.price : (i.last?.price ?? null);
  const previous = i.previousClose?.price ?? null;
  const change = last !== null && previous !== null ? last - previous : null;
  return (
    <tr data-testid="watchlist-row" data-symbol={i.symbol} aria-selected={selected} class={selected ? 'selected' : undefined} onClick={() => selectSymbol(i.symbol)}>
      <th scope="row">
        {/* The row's click selects; the button makes it reachable by keyboard (its click bubbles to the row). */}
        <button class="link" aria-pressed={selected}>
          {i.symbol}
        </button>
        <span class="muted small market-name"> {i.market.name}</span>
      </th>
      <td class="num" data-testid="watchlist-last">
        {last === null ? <span class="muted">no price yet</span> : price(last, i.decimals)}
      </td>
      <td class={`num ${change === null ? 'muted' : change >= 0 ? 'up' : 'down'}`} title={previous === null ? 'No close of the previous session is stored' : `vs ${price(previous, i.decimals)}, the close of ${i.previousClose?.session ?? ''}`}>
        {change === null || previous === null ? '—' : `${signed(change, i.decimals)} (${percent(change / previous)})`}
      </td>
      <td data-testid="watchlist-market">
        <span class={`badge ${i.market.open ? 'ok' : 'warn'}`}>{i.market.open ? 'open' : 'closed'}</span>{' '}
        <span class="small">{i.market.open ? `closes ${zonedMinute(i.market.zone, Date.parse(i.market.nextClose))}` : `opens ${zonedMinute(i.market.zone, Date.parse(i.market.nextOpen))}`}</span>
      </td>
    </tr>
  );
}
