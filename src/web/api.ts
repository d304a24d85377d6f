/** The dashboard's REST client: same-origin JSON, the API token (admin or trader, if entered) as X-API-Key. */
const TOKEN_KEY = 'tasa.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server's error code (not_found, bad_argument, unauthorized, ...) when it gave one. */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export function storedToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

/** Dispatched on window when the token is saved or removed (actions clear a "token needed" notice). */
export const TOKEN_EVENT = 'tasa-token';

export function storeToken(token: string | null): void {
  if (token === null || token === '') localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, token);
  window.dispatchEvent(new Event(TOKEN_EVENT));
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json' };
  if (json) h['content-type'] = 'application/json';
  const token = storedToken();
  if (token !== null) h['x-api-key'] = token;
  return h;
}

async function parse<T>(response: Response, acceptStatus: readonly number[] = []): Promise<T> {
  const body = (await response.json().catch(() => null)) as { error?: { message?: string; code?: string } } | null;
  if (!response.ok && !acceptStatus.includes(response.status)) throw new ApiError(response.status, body?.error?.message ?? `${response.status} ${response.statusText}`, body?.error?.code ?? null);
  return body as T;
}

/** `acceptStatus`: error statuses whose body is the answer too (/health answers 503 with its report). */
export async function getJson<T>(path: string, acceptStatus: readonly number[] = []): Promise<T> {
  return parse<T>(await fetch(path, { headers: headers(false) }), acceptStatus);
}

/** A text resource (the Prometheus exposition at /metrics). */
export async function getText(path: string): Promise<string> {
  const response = await fetch(path, { headers: { ...headers(false), accept: 'text/plain' } });
  if (!response.ok) throw new ApiError(response.status, `${response.status} ${response.statusText}`);
  return response.text();
}

export async function sendJson<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return parse<T>(await fetch(path, { method, headers: headers(body !== undefined), ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
}

