/**
 * The only form of a TwelveData API key that may leave memory: `k_` + the first 10 hex digits of its
 * sha256. Logs, errors, the database and status reports carry this id, never the key.
 */
import { createHash } from 'node:crypto';

const ID_HEX_DIGITS = 10;

export function apiKeyId(key: string): string {
  return `k_${createHash('sha256').update(key).digest('hex').slice(0, ID_HEX_DIGITS)}`;
}

/** Replaces every occurrence of a key in `text` by its id (server messages, error texts). */
export function redactKeys(text: string, keys: Iterable<string>): string {
  let out = text;
  for (const key of keys) if (key.length > 0 && out.includes(key)) out = out.split(key).join(apiKeyId(key));
  return out;
}
