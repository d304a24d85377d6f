/**
 * The running server's HTTP API, for commands that must act through it (trading: orders go through
 * the one trading engine in the API process, never through the store from the CLI). The base URL
 * comes from `--url` or TASA_API_URL, the token from TASA_TOKEN (sent, never printed). A 4xx answer
 * becomes a TasaError (exit 2) carrying the server's sentence; a 5xx or no answer, a plain Error (exit 1).
 */
import type { Command } from 'commander';
import { TasaError, errorMessage, type TasaErrorCode } from '../errors.ts';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';
const REQUEST_TIMEOUT_MS = 30_000;

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: object): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

export interface ServerOptions {
  url?: string;
}

/** Adds `--url` to a command that talks to the server. */
export function withServerOption(cmd: Command): Command {
  return cmd.option('--url <url>', `Tasa server (default: TASA_API_URL, else ${DEFAULT_API_URL})`);
}

export function apiClient(o: ServerOptions, env: Record<string, string | undefined> = process.env): ApiClient {
  const base = (o.url ?? env['TASA_API_URL'] ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const token = env['TASA_TOKEN'];
  const send = async <T>(method: string, path: string, body?: object): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined && token !== '') headers['x-api-key'] = token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await reach(base, `${base}${path}`, {
      method,
      headers,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw failure(res.status, text, `${method} ${path}`, headers['x-api-key'] !== undefined);
    // The server validates its responses against the contract schemas, so the shape is trusted here.
    return JSON.parse(text) as T;
  };
  return {
    get: (path) => send('GET', path),
    post: (path, body) => send('POST', path, body),
    delete: (path) => send('DELETE', path),
  };
}

async function reach(base: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    throw new Error(`No Tasa server answers at ${base} (${errorMessage(cause)}): start one with \`tasa up\` or \`tasa serve\`, or pass --url or set TASA_API_URL.`, {
      cause: err,
    });
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; hint?: string };
}

const CODE_BY_STATUS: Partial<Record<number, TasaErrorCode>> = { 404: 'not_found', 409: 'conflict' };

function failure(status: number, text: string, request: string, tokenSent: boolean): Error {
  const body = parseErrorBody(text);
  const message = body?.message ?? `${request} answered ${status}.`;
  if (status >= 500) return new Error(`The server failed: ${message}`);
  const hint = status === 401 && !tokenSent ? 'Set TASA_TOKEN to a token from `tasa token create`.' : body?.hint;
  return new TasaError(CODE_BY_STATUS[status] ?? 'bad_input', message, hint === undefined ? {} : { hint });
}

function parseErrorBody(text: string): ErrorBody['error'] {
  try {
    return (JSON.parse(text) as ErrorBody).error;
  } catch {
    return undefined;
  }
}
