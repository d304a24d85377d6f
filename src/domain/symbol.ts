/** Instrument symbols. The canonical form is TwelveData's `BASE/QUOTE`, e.g. `USD/COP`. */
import { TasaError } from '../errors.ts';

export type SymbolCode = string;

export interface InstrumentInfo {
  symbol: SymbolCode;
  base: string;
  quote: string;
  /** Smallest price increment shown; USD/COP quotes in hundredths of a peso. */
  decimals: number;
}

/** What the code knows about an instrument besides its stored metadata. */
export interface Instrument extends InstrumentInfo {
  /**
   * Prices outside [min, max] (quote units per base unit) are not this instrument's: a unit
   * error, a corrupt field, a wrong symbol. Imports reject such rows and live validation such
   * ticks. Wide on purpose: USD/COP traded 1,700-5,100 in 2010-2025.
   */
  priceBand: { min: number; max: number };
}

export const INSTRUMENTS: readonly Instrument[] = [{ symbol: 'USD/COP', base: 'USD', quote: 'COP', decimals: 2, priceBand: { min: 1_000, max: 10_000 } }];

/** Why `price` cannot be a price of `symbol` (outside its band), or null; null for an unknown symbol. */
export function priceBandViolation(symbol: SymbolCode, price: number): string | null {
  const band = INSTRUMENTS.find((i) => i.symbol === symbol)?.priceBand;
  if (band === undefined || (price >= band.min && price <= band.max)) return null;
  const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 6 });
  return `${price} is outside the plausible band of ${symbol}, ${n(band.min)}-${n(band.max)}`;
}

/** Accepts `USD/COP`, `USDCOP`, `usd-cop`, `USD_COP`; returns the canonical `USD/COP` or throws. */
export function normalizeSymbol(input: string): SymbolCode {
  const letters = input.trim().toUpperCase().replace(/[/_\-\s]/g, '');
  const match = INSTRUMENTS.find((i) => i.base + i.quote === letters);
  if (!match) {
    throw new TasaError('bad_argument', `Unknown symbol "${input}"; known symbols: ${INSTRUMENTS.map((i) => i.symbol).join(', ')}.`, {
      input,
    });
  }
  return match.symbol;
}
