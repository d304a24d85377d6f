/**
 * The selected instrument: which symbol every view shows (terminal, quality, pipeline, research),
 * kept in this browser (localStorage) so a reload keeps it, with a `?symbol=USD/BRL` in the page
 * URL taking precedence (a link to one market). The shell loads GET /api/instruments once and
 * provides the selected instrument's `Market` (symbol, decimals, zone, session rules) to the
 * views through a context: they read it with `useMarket()`, never a constant symbol or zone.
 */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { InstrumentView } from '../contracts/api/instruments.ts';
import type { SessionRules } from './market-time.ts';

const SYMBOL_KEY = 'tasa.symbol';
/** Dispatched on window when the selection changes. */
const SYMBOL_EVENT = 'tasa-symbol';

export interface Market {
  symbol: string;
  /** The symbol as a path segment or query value (`USD%2FCOP`). */
  path: string;
  base: string;
  quote: string;
  decimals: number;
  /** The market's name, e.g. `SET-FX spot (T+0)`. */
  name: string;
  /** The market's IANA zone: every time shown for it is in this zone, named. */
  zone: string;
  session: SessionRules;
}

export function marketOf(i: InstrumentView): Market {
  const s = i.market.session;
  return {
    symbol: i.symbol,
    path: encodeURIComponent(i.symbol),
    base: i.base,
    quote: i.quote,
    decimals: i.decimals,
    name: i.market.name,
    zone: i.market.zone,
    session: { zone: i.market.zone, open: s.open, close: s.close, opensDayBefore: s.opensDayBefore, weekdays: s.weekdays },
  };
}

/** The symbol asked for: the page URL's `?symbol=`, else the stored choice, else null (the server's first). */
export function requestedSymbol(): string | null {
  return new URLSearchParams(location.search).get('symbol') ?? localStorage.getItem(SYMBOL_KEY);
}

export function selectSymbol(symbol: string): void {
  localStorage.setItem(SYMBOL_KEY, symbol);
  // A `?symbol=` in the URL would win over the new choice on reload: keep the URL in step.
  if (new URLSearchParams(location.search).has('symbol')) {
    const url = new URL(location.href);
    url.searchParams.set('symbol', symbol);
    history.replaceState(null, '', url);
  }
  window.dispatchEvent(new Event(SYMBOL_EVENT));
}

/** The requested symbol, re-read whenever the selection changes. */
export function useRequestedSymbol(): string | null {
  const [symbol, setSymbol] = useState(requestedSymbol());
  useEffect(() => {
    const onChange = () => setSymbol(requestedSymbol());
    addEventListener(SYMBOL_EVENT, onChange);
    return () => removeEventListener(SYMBOL_EVENT, onChange);
  }, []);
  return symbol;
}

/** The served instrument to show: the requested one when the server serves it, else the first. */
export function pickInstrument(served: readonly InstrumentView[], requested: string | null): InstrumentView | null {
  return served.find((i) => i.symbol === requested) ?? served[0] ?? null;
}

export const MarketContext = createContext<Market | null>(null);

/** The selected instrument's market; only under the shell's provider (it renders views once the instruments are known). */
export function useMarket(): Market {
  const market = useContext(MarketContext);
  if (market === null) throw new Error('useMarket() outside the MarketContext provider');
  return market;
}

/** The selected market's zone: every time on the page is shown in it, named. */
export function useZone(): string {
  return useMarket().zone;
}
