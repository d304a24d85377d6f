/**
 * Symbol inputs of the realtime routes and the gateway: `USD/COP`, `USDCOP` or URL-encoded
 * `USD%2FCOP`; a symbol this server does not serve is a 404 (HTTP) or a `bad_symbol` error (WS).
 */
import { Type } from 'typebox';
import { normalizeSymbol, type SymbolCode } from '../../domain/symbol.ts';
import { TasaError } from '../../errors.ts';

export const SymbolParam = Type.String({ minLength: 1, maxLength: 32, description: 'Instrument: `USD/COP` (URL-encoded `USD%2FCOP` in a path) or `USDCOP`' });

/** The canonical symbol if this server serves it; else a not_found TasaError naming it. */
export function servedSymbol(served: readonly string[], input: string): SymbolCode {
  let symbol: SymbolCode | null;
  try {
    symbol = normalizeSymbol(input);
  } catch {
    symbol = null;
  }
  if (symbol === null || !served.includes(symbol)) {
    throw new TasaError('not_found', `Unknown symbol "${input}"; this server serves ${served.join(', ')}.`, { input: `symbol=${input}` });
  }
  return symbol;
}
