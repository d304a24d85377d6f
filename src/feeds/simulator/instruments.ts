/**
 * The instruments the simulator can serve, with what TwelveData reports about them and the
 * parameters of their price model. USD/COP is the one that matters; a few other forex pairs
 * exist so multi-symbol clients (batch requests, several subscriptions) can be exercised.
 */
import { TasaError } from '../../errors.ts';

export interface SimInstrument {
  symbol: string;
  currencyBase: string;
  currencyQuote: string;
  /** Decimals of a tick price (USD/COP trades in hundredths of a peso). */
  decimals: number;
  /** Long-run level the daily walk starts at and is pulled back to. */
  level: number;
  /** Log standard deviation of a 5-minute move at volatility multiplier 1 (mid-session). */
  fiveMinuteSigma: number;
  /** Bid/ask spread as a fraction of the price: [narrowest, widest]. */
  spreadFraction: readonly [number, number];
}

/** TwelveData's `type` and the subscribe-status `exchange` for forex pairs (ws-real-time-price.md example). */
export const FOREX_TYPE = 'Physical Currency';
export const FOREX_WS_EXCHANGE = 'FOREX';
/** What /quote reports as `exchange` for a forex pair (not recorded in the protocol notes; see the report). */
export const FOREX_QUOTE_EXCHANGE = 'Forex';

const CATALOG: readonly SimInstrument[] = [
  // 2-5 COP spread at ~4,000; 0.06 % per 5 minutes mid-session (about 0.65 % a day with the profile).
  { symbol: 'USD/COP', currencyBase: 'US Dollar', currencyQuote: 'Colombian Peso', decimals: 2, level: 4000, fiveMinuteSigma: 0.0006, spreadFraction: [0.0005, 0.00125] },
  { symbol: 'EUR/USD', currencyBase: 'Euro', currencyQuote: 'US Dollar', decimals: 5, level: 1.1, fiveMinuteSigma: 0.00025, spreadFraction: [0.00005, 0.00012] },
  { symbol: 'USD/MXN', currencyBase: 'US Dollar', currencyQuote: 'Mexican Peso', decimals: 4, level: 18, fiveMinuteSigma: 0.0005, spreadFraction: [0.0002, 0.0005] },
  { symbol: 'USD/BRL', currencyBase: 'US Dollar', currencyQuote: 'Brazilian Real', decimals: 4, level: 5.2, fiveMinuteSigma: 0.0005, spreadFraction: [0.0002, 0.0006] },
];

export const CATALOG_SYMBOLS: readonly string[] = CATALOG.map((i) => i.symbol);

/** The catalog entries for the configured symbols; throws on a symbol the simulator cannot model. */
export function resolveInstruments(symbols: readonly string[]): SimInstrument[] {
  return symbols.map((symbol) => {
    const found = CATALOG.find((i) => i.symbol === symbol.trim().toUpperCase());
    if (!found) {
      throw new TasaError('bad_argument', `The simulator cannot serve "${symbol}"; it knows ${CATALOG_SYMBOLS.join(', ')}.`, { input: symbol });
    }
    return found;
  });
}

/**
 * A symbol as a client wrote it (`usd/cop`, `USD/COP:FOREX`) in canonical form. The `:EXCHANGE`
 * suffix is accepted and ignored: every served symbol has one venue.
 */
export function canonicalSymbol(input: string): string {
  const colon = input.indexOf(':');
  return (colon === -1 ? input : input.slice(0, colon)).trim().toUpperCase();
}

export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
