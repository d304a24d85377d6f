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

export const INSTRUMENTS: readonly InstrumentInfo[] = [{ symbol: 'USD/COP', base: 'USD', quote: 'COP', decimals: 2 }];

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
