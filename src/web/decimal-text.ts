/**
 * Money as the trading API sends it: decimal strings at a fixed scale (`"-1234567.50"`). They are
 * shown as given, with thousands separators added to the text: never parsed into floats, so a
 * total is exactly the server's.
 */
import { MISSING } from './format.ts';

const DECIMAL_TEXT = /^(-?)(\d+)(\.\d+)?$/;

/** `-1234567.50` -> `-1,234,567.50`; `+` before a positive amount when `signed`. Null or malformed -> an em dash. */
export function amount(text: string | null | undefined, signed = false): string {
  const parts = text === null || text === undefined ? null : DECIMAL_TEXT.exec(text);
  if (parts === null) return MISSING;
  const [, minus = '', whole = '', fraction = ''] = parts;
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  const zero = isZero(whole + fraction);
  const sign = zero ? '' : minus !== '' ? '-' : signed ? '+' : '';
  return `${sign}${grouped}${fraction}`;
}

/** `0.00`, `-0.0000`: no amount at all. */
export function isZero(text: string): boolean {
  return /^-?[0.]+$/.test(text);
}

/** The colour class of a signed amount: `up`, `down`, or '' for zero or unknown. */
export function signClass(text: string | null | undefined): string {
  if (text === null || text === undefined || isZero(text)) return '';
  return text.startsWith('-') ? 'down' : 'up';
}
