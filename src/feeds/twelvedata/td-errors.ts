/**
 * TwelveData failures: the error body `{"code":N,"message":"...","status":"error"}` is recognised
 * whatever the HTTP status (real responses carry it with 200 as well as with 4xx/5xx), and turned
 * into one classification the REST client acts on. Errors name the endpoint, never the key.
 */
import { TasaError, type TasaErrorCode } from '../../errors.ts';

export type TwelveDataErrorKind =
  | 'rate_limited'
  | 'auth'
  | 'forbidden'
  | 'bad_request'
  | 'not_found'
  | 'server'
  | 'network'
  | 'bad_response';

export class TwelveDataError extends TasaError {
  /** e.g. `/time_series`. */
  readonly endpoint: string;
  readonly kind: TwelveDataErrorKind;
  /** TwelveData's `code` (or the HTTP status when the body had none); null for network failures. */
  readonly status: number | null;

  constructor(kind: TwelveDataErrorKind, endpoint: string, status: number | null, message: string, opts: { cause?: unknown } = {}) {
    super(tasaCode(kind), `TwelveData ${endpoint}: ${message}`, { input: endpoint, hint: hintFor(kind), ...opts });
    this.name = 'TwelveDataError';
    this.endpoint = endpoint;
    this.kind = kind;
    this.status = status;
  }
}

/** What one HTTP answer means for the client. */
export type ResponseVerdict =
  | { kind: 'ok'; body: Record<string, unknown> }
  | { kind: 'no_data'; message: string }
  | { kind: 'rate_limited'; scope: 'minute' | 'day'; status: number; message: string }
  /** The key itself was refused: mark it bad and use another. */
  | { kind: 'bad_key'; status: number; message: string }
  /** Worth retrying after a pause: 5xx, an unreadable body. */
  | { kind: 'retryable'; status: number; message: string }
  /** The request is at fault: retrying cannot help. */
  | { kind: 'fatal'; error: 'bad_request' | 'not_found' | 'forbidden'; status: number; message: string };

const NO_DATA = /no data is available/i;
const DAY_SCOPE = /for the day|next day/i;
/** 403/404 for a symbol the plan does not include: the key is fine, the request is not. */
const PLAN_GATED_SYMBOL = /not available with your plan/i;

export function classifyResponse(httpStatus: number, text: string): ResponseVerdict {
  const body = parseJsonObject(text);
  const code = errorCode(body, httpStatus);
  if (code === null && body !== null) return { kind: 'ok', body };
  const status = code ?? httpStatus;
  const message = errorText(body, text, status);
  if (code === null) return { kind: 'retryable', status, message: `unreadable response body (HTTP ${httpStatus}): ${message}` };
  return classifyError(status, message);
}

function classifyError(status: number, message: string): ResponseVerdict {
  if (NO_DATA.test(message)) return { kind: 'no_data', message };
  if (status === 429) return { kind: 'rate_limited', scope: DAY_SCOPE.test(message) ? 'day' : 'minute', status, message };
  if (status === 401) return { kind: 'bad_key', status, message };
  if (status === 403) return PLAN_GATED_SYMBOL.test(message) ? { kind: 'fatal', error: 'forbidden', status, message } : { kind: 'bad_key', status, message };
  if (status === 404) return { kind: 'fatal', error: 'not_found', status, message };
  if (status >= 500) return { kind: 'retryable', status, message };
  return { kind: 'fatal', error: 'bad_request', status, message };
}

/** The error code in the body, or the HTTP status for a non-2xx answer; null for a success. */
function errorCode(body: Record<string, unknown> | null, httpStatus: number): number | null {
  if (body !== null && (body['status'] === 'error' || (typeof body['code'] === 'number' && body['code'] >= 400))) {
    return typeof body['code'] === 'number' ? body['code'] : httpStatus >= 400 ? httpStatus : 500;
  }
  return httpStatus >= 400 ? httpStatus : null;
}

function errorText(body: Record<string, unknown> | null, text: string, status: number): string {
  if (body !== null && typeof body['message'] === 'string') return body['message'];
  const excerpt = text.trim().slice(0, 200);
  return excerpt === '' ? `HTTP ${status} with an empty body` : excerpt;
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function tasaCode(kind: TwelveDataErrorKind): TasaErrorCode {
  switch (kind) {
    case 'bad_request':
    case 'auth':
    case 'forbidden':
      return 'bad_argument';
    case 'not_found':
      return 'not_found';
    default:
      // errors.ts has no "upstream unavailable" code yet.
      return 'internal';
  }
}

function hintFor(kind: TwelveDataErrorKind): string | undefined {
  switch (kind) {
    case 'auth':
      return 'Check TWELVEDATA_API_KEYS: every configured key was refused.';
    case 'forbidden':
      return 'The plan of the key does not include this symbol or endpoint.';
    case 'rate_limited':
      return 'Out of API credits; add keys or wait for the next minute or day.';
    case 'server':
    case 'network':
      return 'TwelveData did not answer properly; retry later.';
    default:
      return undefined;
  }
}
