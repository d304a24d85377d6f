/** Validation of command-line values: one clear sentence for anything wrong. */
import { normalizeSymbol, type SymbolCode } from '../domain/symbol.ts';
import { isIsoDate, type IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';

export interface DateRange {
  from: IsoDate;
  to: IsoDate;
}

export function parseIsoDateArg(flag: string, value: string): IsoDate {
  if (!isIsoDate(value)) {
    throw new TasaError('bad_argument', `${flag} must be a date as YYYY-MM-DD, not "${value}".`, { input: `${flag}=${value}` });
  }
  return value;
}

/** Inclusive session dates of a symbol's market, as the caller reads them; `to` defaults to `from`. */
export function parseDateRange(from: string, to: string | undefined): DateRange {
  const range = { from: parseIsoDateArg('--from', from), to: parseIsoDateArg('--to', to ?? from) };
  if (range.to < range.from) {
    throw new TasaError('bad_argument', `--to ${range.to} is before --from ${range.from}.`, { input: `--to=${range.to}` });
  }
  return range;
}

export function parseSymbolArg(value: string): SymbolCode {
  return normalizeSymbol(value);
}

/** A flag value that must be one of `choices`; the error lists them all. */
export function parseChoiceArg<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value);
  if (found === undefined) throw new TasaError('bad_argument', `${flag} must be one of ${choices.join(', ')}, not "${value}".`, { input: `${flag}=${value}` });
  return found;
}

/** A whole-number flag value of at least `min` (default 1). */
export function parseIntegerArg(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new TasaError('bad_argument', `${flag} must be a whole number >= ${min}, not "${value}".`, { input: `${flag}=${value}` });
  return n;
}

/** A decimal flag value within [min, max] (`max` excluded when `maxExcluded`). */
export function parseDecimalArg(flag: string, value: string, range: { min: number; max: number; maxExcluded?: boolean }): number {
  const n = value.trim() === '' ? NaN : Number(value);
  const above = range.maxExcluded === true ? n >= range.max : n > range.max;
  if (!Number.isFinite(n) || n < range.min || above) {
    const upper = range.maxExcluded === true ? `below ${range.max}` : `at most ${range.max}`;
    throw new TasaError('bad_argument', `${flag} must be a number from ${range.min} ${upper}, not "${value}".`, { input: `${flag}=${value}` });
  }
  return n;
}
