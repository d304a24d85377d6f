/** What the trading and strategy routes share: tags, error sets, input bounds and the way to the engine's process. */
import { TasaError } from '../../errors.ts';
import { normalizeSymbol, type SymbolCode } from '../../domain/symbol.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody, HttpError } from '../http-errors.ts';

export const TRADING_TAGS = ['trading'];
export const TRADING_WRITE_ERRORS = { ...COMMON_ERRORS, 401: ErrorBody, 403: ErrorBody };
/** Far beyond any risk limit; keeps every amount well inside PostgreSQL's int8. */
export const MAX_QUANTITY_CENTS = 100_000_000_000n; // 1,000,000,000 USD

/** A part of this process's trading engine, or a 503 naming the process that runs it. */
export async function localEngine<T>(deps: ServerDeps, part: T | null): Promise<T> {
  if (part !== null) return part;
  const holder = await deps.trading.holder();
  const where = holder === null ? 'No process runs the trading engine right now' : `The trading engine runs in ${holder}, not in this server process`;
  throw new HttpError(503, `${where}, so this request cannot be served here.`, { code: 'unavailable', hint: 'Send trading writes to the server that runs the engine, or retry when it has taken over.' });
}

export function tradedSymbol(input: string, served: readonly string[]): SymbolCode {
  const symbol = normalizeSymbol(input);
  if (!served.includes(symbol)) throw new TasaError('bad_argument', `Symbol ${symbol} is not traded here; this server trades ${served.join(', ')}.`, { input: 'symbol' });
  return symbol;
}

export function bounded(value: bigint, max: bigint, name: string, maxText: string): bigint {
  if (value > max) throw new TasaError('bad_argument', `${name} is absurd: at most ${maxText}.`, { input: name });
  return value;
}
