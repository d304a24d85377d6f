/**
 * One error shape for every route: `{ error: { code, message, input?, hint? } }`, with the HTTP
 * status derived from the TasaError code. Validation failures name the field at fault.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { TasaError, type TasaErrorCode } from '../errors.ts';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      input: Type.Optional(Type.String()),
      hint: Type.Optional(Type.String()),
    }),
  },
  { $id: 'Error', description: 'What went wrong, the input at fault, and what to do' },
);

const STATUS: Record<TasaErrorCode, number> = {
  bad_argument: 400,
  bad_input: 400,
  not_found: 404,
  unreadable_file: 400,
  database_unreachable: 503,
  conflict: 409,
  internal: 500,
};

/** Responses every route may give besides its own: documents them in OpenAPI. */
export const COMMON_ERRORS = {
  400: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
  503: ErrorBody,
} as const;

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | TasaError, request, reply) => {
    if (err instanceof TasaError) {
      const status = STATUS[err.code];
      if (status >= 500) request.log.error({ err: err.message, code: err.code }, 'request failed');
      return reply.status(status).send({ error: { code: err.code, message: err.message, ...(err.input ? { input: err.input } : {}), ...(err.hint ? { hint: err.hint } : {}) } });
    }
    if (err instanceof HttpError && err.code !== undefined) {
      return reply.status(err.statusCode).send({ error: { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) } });
    }
    if (err.validation) {
      const first = err.validation[0];
      const where = `${err.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
      const allowed = allowedValues(err.validation, first?.instancePath ?? '');
      const why = allowed.length > 0 ? `must be one of ${allowed.join(', ')}` : (first?.message ?? err.message);
      return reply.status(400).send({ error: { code: 'bad_argument', message: `Invalid ${where}: ${why}.`, input: where } });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: err.message }, 'request failed');
    const code = status === 429 ? 'rate_limited' : status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not_found' : status >= 500 ? 'internal' : 'bad_request';
    // Internal details stay in the log: a 5xx says only that it failed.
    const message = status >= 500 ? 'Internal error; the server log has the details.' : typeof err.message === 'string' && err.message !== '' ? err.message : `Request failed (HTTP ${status}).`;
    return reply.status(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}.` } }),
  );
}

/** The values an enum or a union of constants allows at `path` (the validator reports one error per constant), in schema order. */
function allowedValues(validation: NonNullable<FastifyError['validation']>, path: string): string[] {
  const values: unknown[] = [];
  for (const e of validation) {
    if (e.instancePath !== path) continue;
    const params = e.params as { allowedValue?: unknown; allowedValues?: unknown };
    if (params.allowedValue !== undefined) values.push(params.allowedValue);
    if (Array.isArray(params.allowedValues)) values.push(...(params.allowedValues as unknown[]));
  }
  return [...new Set(values.map(String))];
}

/** An HTTP error that is not one of TasaError's codes (401, 403; with `code`, any status, its message shown even for a 5xx). */
export class HttpError extends Error {
  readonly code: string | undefined;
  readonly hint: string | undefined;

  constructor(
    readonly statusCode: number,
    message: string,
    opts: { code?: string; hint?: string } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.code = opts.code;
    this.hint = opts.hint;
  }
}
