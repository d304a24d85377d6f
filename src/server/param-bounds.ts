/**
 * Bounds every numeric request value needs beyond its own schema. Ids are PostgreSQL bigints,
 * but a JSON number is exact only up to 2^53 - 1, so that is the largest id a request may name;
 * anything past it is a 400 from the schema, never a cast error from the database.
 *
 * The validator (ajv) coerces "Infinity" and "1e309" to Infinity and then skips `minimum` and
 * `maximum` for non-finite numbers, so `rejectNonFiniteNumbers` refuses them after validation.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { TasaError } from '../errors.ts';

const MAX_ROW_ID = Number.MAX_SAFE_INTEGER;

/** A database row id (bigint identity) in a path or query. */
export const RowId = (description: string) => Type.Integer({ minimum: 1, maximum: MAX_ROW_ID, description });

/** Any non-finite number in the validated params, query or body is a 400 naming where it is. */
export function rejectNonFiniteNumbers(app: FastifyInstance): void {
  app.addHook('preHandler', (request, _reply, done) => {
    const parts: Array<[string, unknown]> = [['params', request.params], ['querystring', request.query], ['body', request.body]];
    for (const [part, value] of parts) {
      const path = nonFinitePath(value, '');
      if (path !== null) {
        const where = `${part}${path}`;
        done(new TasaError('bad_argument', `Invalid ${where}: must be a finite number.`, { input: where }));
        return;
      }
    }
    done();
  });
}

/** The JSON-pointer-like path of the first non-finite number in `value`, or null. */
function nonFinitePath(value: unknown, path: string): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return null;
  for (const [key, child] of Object.entries(value)) {
    const found = nonFinitePath(child, `${path}/${key}`);
    if (found !== null) return found;
  }
  return null;
}
