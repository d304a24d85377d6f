/**
 * The instruments the simulator can serve, with what TwelveData reports about them and the
 * parameters of their price model: every instrument Tasa ships (USD/COP, USD/BRL, USD/MXN,
 * USD/CLP, EUR/USD), so multi-symbol clients (batch requests, several subscriptions) see them all.
 */
import { TasaError } from '../../errors.ts';
import { findInstrument } from '../../domain/symbol.ts';

/** The hours of the market a pair's volatility follows, in that market's wall time. */
export interface SimSession {
  /** IANA zone (DST included: America/Santiago and America/New_York change offset). */
  zone: string;
  /** `HH:MM`, on the 5-minute grid. */
  open: string;
  close: string;
  /** The 24-hour FX week: opens the evening before (17:00 New York); the profile follows the world's FX centres. */
  opensDayBefore: boolean;
}

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
  /** The market whose hours shape the intraday volatility and the tick rate. */
  session: SimSession;
  /** Volatility multiplier while that market is shut (offshore and NDF trading keep some pairs moving). */
  offSessionMultiplier: number;
}

/** TwelveData's `type` and the subscribe-status `exchange` for forex pairs (ws-real-time-price.md example). */
export const FOREX_TYPE = 'Physical Currency';
export const FOREX_WS_EXCHANGE = 'FOREX';
/** What /quote reports as `exchange` for a forex pair (not recorded in the protocol notes; see the report). */
export const FOREX_QUOTE_EXCHANGE = 'Forex';

/**
 * The vendor's own view of each pair. The sigmas are set so the daily move with each profile
 * (see volatility-profile.ts) is typical of the pair: USD/COP ~0.65 %, USD/BRL ~1 %, USD/MXN and
 * USD/CLP ~0.8 %, EUR/USD ~0.45 %. The hours repeat src/domain/instruments.json, and are used
 * when the configured instruments (TASA_INSTRUMENTS) do not list the pair.
 */
const CATALOG: readonly SimInstrument[] = [
  // 2-5 COP spread at ~4,000; 0.06 % per 5 minutes mid-session (about 0.65 % a day with the profile).
  {
    symbol: 'USD/COP', currencyBase: 'US Dollar', currencyQuote: 'Colombian Peso', decimals: 2, level: 4000, fiveMinuteSigma: 0.0006, spreadFraction: [0.0005, 0.00125],
    session: { zone: 'America/Bogota', open: '08:00', close: '13:00', opensDayBefore: false }, offSessionMultiplier: 0.2,
  },
  // 0.001-0.003 BRL at ~5.5; onshore spot 09:00-17:00 Sao Paulo, offshore NDFs keep it moving a little.
  {
    symbol: 'USD/BRL', currencyBase: 'US Dollar', currencyQuote: 'Brazilian Real', decimals: 4, level: 5.5, fiveMinuteSigma: 0.00078, spreadFraction: [0.0002, 0.0006],
    session: { zone: 'America/Sao_Paulo', open: '09:00', close: '17:00', opensDayBefore: false }, offSessionMultiplier: 0.3,
  },
  // 0.002-0.007 MXN at ~18.5; the peso trades round the clock in London and New York, so nights are livelier.
  {
    symbol: 'USD/MXN', currencyBase: 'US Dollar', currencyQuote: 'Mexican Peso', decimals: 4, level: 18.5, fiveMinuteSigma: 0.00063, spreadFraction: [0.00012, 0.0004],
    session: { zone: 'America/Mexico_City', open: '07:30', close: '14:00', opensDayBefore: false }, offSessionMultiplier: 0.45,
  },
  // 0.2-0.7 CLP at ~900; the formal market trades 08:30-13:30 Santiago (which has DST).
  {
    symbol: 'USD/CLP', currencyBase: 'US Dollar', currencyQuote: 'Chilean Peso', decimals: 2, level: 900, fiveMinuteSigma: 0.0007, spreadFraction: [0.0002, 0.0008],
    session: { zone: 'America/Santiago', open: '08:30', close: '13:30', opensDayBefore: false }, offSessionMultiplier: 0.2,
  },
  // 0.5-1.3 pips at ~1.10; the 24-hour week from 17:00 New York.
  {
    symbol: 'EUR/USD', currencyBase: 'Euro', currencyQuote: 'US Dollar', decimals: 5, level: 1.1, fiveMinuteSigma: 0.00028, spreadFraction: [0.00005, 0.00012],
    session: { zone: 'America/New_York', open: '17:00', close: '17:00', opensDayBefore: true }, offSessionMultiplier: 0.3,
  },
];

export const CATALOG_SYMBOLS: readonly string[] = CATALOG.map((i) => i.symbol);

/** The catalog entries for the configured symbols; throws on a symbol the simulator cannot model. */
export function resolveInstruments(symbols: readonly string[]): SimInstrument[] {
  return symbols.map((symbol) => {
    const found = CATALOG.find((i) => i.symbol === symbol.trim().toUpperCase());
    if (!found) {
      throw new TasaError('bad_argument', `The simulator cannot serve "${symbol}"; it knows ${CATALOG_SYMBOLS.join(', ')}.`, { input: symbol });
    }
    return { ...found, session: configuredSession(found) };
  });
}

/** The hours of the configured instrument of that symbol (instrumentOf(symbol).market), else the catalog's own. */
function configuredSession(entry: SimInstrument): SimSession {
  const market = findInstrument(entry.symbol)?.market;
  if (market === undefined) return entry.session;
  return { zone: market.zone, open: market.session.open, close: market.session.close, opensDayBefore: market.session.opensDayBefore === true };
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
