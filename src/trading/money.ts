/**
 * Exact money for trading, all in integer minor units (bigint), never floats:
 * - quantities: USD notional in cents (`UsdCents`, 2 decimals);
 * - prices: COP per USD in ten-thousandths of a peso (`Price`, 4 decimals). Quotes have 2
 *   decimals; the finer scale keeps slippage-adjusted fill prices exact enough;
 * - cash, fees and P&L: COP in centavos (`Centavos`, 2 decimals);
 * - rates: basis points in hundredths (`Bps`, 2 decimals: 150n is 1.5 bps).
 * Every conversion that can leave a remainder rounds half to even (banker's rounding), once, at
 * the conversion; nothing else rounds.
 */
import { TasaError } from '../errors.ts';

export type UsdCents = bigint;
export type Price = bigint;
export type Centavos = bigint;
export type Bps = bigint;

/** The paper account's currencies: quantities are USD notional, cash and P&L COP; only USD/COP books into it. */
export const NOTIONAL_CURRENCY = 'USD';
export const ACCOUNT_CURRENCY = 'COP';
export const USD_DECIMALS = 2;
export const PRICE_DECIMALS = 4;
export const COP_DECIMALS = 2;
export const BPS_DECIMALS = 2;

/** COP centavos per (USD cent x price unit): cents/100 x units/1e4 pesos = cents x units / 1e4 centavos. */
const NOTIONAL_DIVISOR = 10n ** BigInt(USD_DECIMALS + PRICE_DECIMALS - COP_DECIMALS);
/** One whole (100 %) in `Bps` units: 10,000 bps x 100. */
export const BPS_WHOLE = 10_000n * 10n ** BigInt(BPS_DECIMALS);
/** Exponents beyond this are refused rather than expanded (`1e999999` would be a megabyte of digits). */
const MAX_EXPONENT = 30;

export type Rounding = 'reject' | 'half_even';

export interface ParseOptions {
  /** Names the input in errors, e.g. `quantity` or `limit price`. */
  name: string;
  allowNegative?: boolean;
  /** More decimals than the scale: refused (the default) or rounded half to even. */
  rounding?: Rounding;
}

/** numerator / denominator rounded to the nearest integer, ties to the even one. */
export function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new TasaError('internal', `divideHalfEven needs a positive denominator, got ${denominator}.`);
  const quotient = numerator / denominator;
  const twiceRemainder = 2n * abs(numerator % denominator);
  if (twiceRemainder < denominator) return quotient;
  const away = numerator < 0n ? quotient - 1n : quotient + 1n;
  if (twiceRemainder > denominator) return away;
  return quotient % 2n === 0n ? quotient : away;
}

export function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

const DECIMAL_TEXT = /^([+-])?(\d+)?(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A decimal string or number as an integer count of 10^-scale units. Numbers go through their
 * shortest round-trip text (`String(4000.1)` is `4000.1`), so a float that prints exactly parses
 * exactly. Errors are TasaError `bad_argument` naming the input.
 */
export function parseDecimal(input: string | number, scale: number, opts: ParseOptions): bigint {
  const text = typeof input === 'number' ? numberText(input, opts.name) : input.trim();
  const match = DECIMAL_TEXT.exec(text);
  const whole = match?.[2] ?? '';
  const fraction = match?.[3] ?? '';
  const exponent = Number(match?.[4] ?? '0');
  if (!match || whole + fraction === '' || Math.abs(exponent) > MAX_EXPONENT) throw badDecimal(opts.name, text, 'is not a decimal number');
  const negative = match[1] === '-';
  const units = scaleDigits(whole + fraction, fraction.length - exponent, scale, opts, text);
  if (negative && units !== 0n && opts.allowNegative !== true) throw badDecimal(opts.name, text, 'must not be negative');
  return negative ? -units : units;
}

function numberText(input: number, name: string): string {
  if (!Number.isFinite(input)) throw badDecimal(name, String(input), 'must be a finite number');
  return String(input);
}

/** `digits` carrying `decimals` decimals (negative: that many trailing zeros implied) as units of 10^-scale. */
function scaleDigits(digits: string, decimals: number, scale: number, opts: ParseOptions, text: string): bigint {
  const value = BigInt(digits);
  if (decimals <= scale) return value * 10n ** BigInt(scale - decimals);
  const divisor = 10n ** BigInt(decimals - scale);
  if (value % divisor === 0n) return value / divisor;
  if (opts.rounding === 'half_even') return divideHalfEven(value, divisor);
  throw badDecimal(opts.name, text, `has more than ${scale} decimals`);
}

function badDecimal(name: string, text: string, problem: string): TasaError {
  return new TasaError('bad_argument', `${name} ${problem}: "${text}".`, { input: `${name}=${text}` });
}

/** Units of 10^-scale as a decimal string with exactly `scale` decimals, e.g. (-1505n, 2) -> `-15.05`. */
export function formatDecimal(units: bigint, scale: number): string {
  const digits = abs(units).toString().padStart(scale + 1, '0');
  const sign = units < 0n ? '-' : '';
  if (scale === 0) return sign + digits;
  return `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

export const parseUsd = (input: string | number, name = 'quantity'): UsdCents => parseDecimal(input, USD_DECIMALS, { name });
export const parsePrice = (input: string | number, name = 'price', rounding: Rounding = 'reject'): Price =>
  parseDecimal(input, PRICE_DECIMALS, { name, rounding });
export const parseCop = (input: string | number, name: string, allowNegative = false): Centavos =>
  parseDecimal(input, COP_DECIMALS, { name, allowNegative });
export const parseBps = (input: string | number, name: string): Bps => parseDecimal(input, BPS_DECIMALS, { name });

export const formatUsd = (cents: UsdCents): string => formatDecimal(cents, USD_DECIMALS);
export const formatPrice = (price: Price): string => formatDecimal(price, PRICE_DECIMALS);
export const formatCop = (centavos: Centavos): string => formatDecimal(centavos, COP_DECIMALS);
export const formatBps = (bps: Bps): string => formatDecimal(bps, BPS_DECIMALS);

/** The COP value of a (signed) USD quantity at a price, in centavos, rounded half to even. */
export function notional(quantity: UsdCents, price: Price): Centavos {
  return divideHalfEven(quantity * price, NOTIONAL_DIVISOR);
}

/** The price at which `quantity` is worth `value` (the inverse of `notional`), rounded half to even; quantity != 0. */
export function unitPrice(value: Centavos, quantity: UsdCents): Price {
  return divideHalfEven(abs(value) * NOTIONAL_DIVISOR, abs(quantity));
}

/** `bps` of an amount in the amount's own units, rounded half to even (fees, slippage). */
export function bpsOf(amount: bigint, bps: Bps): bigint {
  return divideHalfEven(amount * bps, BPS_WHOLE);
}
