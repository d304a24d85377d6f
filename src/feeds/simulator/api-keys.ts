/** API keys: where clients put them, which are accepted, and the only form that may be logged. */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** sha256 of the key, first 10 hex characters: enough to tell keys apart in logs and stats. */
export function keyId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 10);
}

/** WS: `?apikey=` or the `X-TD-APIKEY` header. */
export function wsApiKey(url: URL, req: IncomingMessage): string | null {
  return nonEmpty(url.searchParams.get('apikey')) ?? nonEmpty(headerValue(req, 'x-td-apikey'));
}

/** REST: `?apikey=` or `Authorization: apikey KEY`. */
export function restApiKey(url: URL, req: IncomingMessage): string | null {
  const fromQuery = nonEmpty(url.searchParams.get('apikey'));
  if (fromQuery !== null) return fromQuery;
  const match = /^apikey\s+(\S+)\s*$/i.exec(headerValue(req, 'authorization') ?? '');
  return match ? (match[1] ?? null) : null;
}

/** Accepts a key from the configured list, or (no list) any non-empty key. */
export class KeyPolicy {
  private readonly accepted: ReadonlySet<string> | null;

  constructor(keys: readonly string[] | undefined) {
    this.accepted = keys === undefined ? null : new Set(keys.filter((k) => k.length > 0));
  }

  accepts(key: string | null): key is string {
    if (key === null || key.length === 0) return false;
    return this.accepted === null || this.accepted.has(key);
  }
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

function nonEmpty(value: string | null): string | null {
  return value === null || value.trim().length === 0 ? null : value.trim();
}
