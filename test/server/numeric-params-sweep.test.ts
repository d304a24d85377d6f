/**
 * Every path and query parameter (and numeric body field) of every route in the OpenAPI document,
 * given hostile values: the answer is never a 5xx, and for a numeric one a value no schema can
 * accept (Infinity, 1e309, NaN, past 2^53 or 2^63) is a 400 naming the parameter. Routes are read from /openapi.json, so a route added later
 * is swept without touching this test. Runs on every database target: ids past 2^63 used to
 * reach PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
}

interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
}

/** Values that no bounded numeric schema may accept; each must be a 400 naming the parameter. */
const NEVER_VALID = ['1e309', '-1e309', 'Infinity', '-Infinity', 'NaN', '99999999999999999999', '9223372036854775808', '-9223372036854775809', '9007199254740993'];
/** Values a schema may accept or refuse; either way no 5xx. */
const EDGE = ['-1', '0', '1.5', '1e3', '0x10', '', ' ', '1_000', '2147483648', '9007199254740991', 'abc'];

/** A value `schema` accepts, for the parameters that are not under test. */
function sampleValue(name: string, schema: JsonSchema): unknown {
  if (schema.default !== undefined) return schema.default;
  if (schema.enum !== undefined) return schema.enum[0];
  if (schema.anyOf !== undefined) return sampleValue(name, schema.anyOf[0] ?? {});
  if (schema.type === 'integer' || schema.type === 'number') return schema.minimum ?? 1;
  if (schema.type === 'boolean') return false;
  // As few items as the schema allows, each valid, so that only the target parameter is wrong.
  if (schema.type === 'array') return Array.from({ length: schema.minItems ?? 0 }, () => sampleValue(name, schema.items ?? {}));
  if (schema.format === 'date' || name === 'from' || name === 'to' || name === 'date') return '2024-01-02';
  if (/symbol/i.test(name)) return 'USD/COP';
  return 'x';
}

const isNumeric = (schema: JsonSchema): boolean =>
  schema.type === 'integer' || schema.type === 'number' || (schema.anyOf ?? []).some((s) => s.type === 'integer' || s.type === 'number');

interface Target {
  method: string;
  path: string;
  where: 'path' | 'query' | 'body';
  name: string;
  /** Numeric: values no schema accepts must be a 400 naming it. Others (string ids...): no 5xx. */
  numeric: boolean;
  op: Operation;
}

/** Every path and query parameter and every numeric JSON body field of every documented route. */
function numericTargets(doc: OpenApi): Target[] {
  const targets: Target[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const p of op.parameters ?? []) if (p.in === 'path' || p.in === 'query') targets.push({ method, path, where: p.in, name: p.name, numeric: isNumeric(p.schema), op });
      for (const [name, schema] of Object.entries(bodySchema(op)?.properties ?? {})) if (isNumeric(schema)) targets.push({ method, path, where: 'body', name, numeric: true, op });
    }
  }
  return targets;
}

const bodySchema = (op: Operation): JsonSchema | undefined => op.requestBody?.content?.['application/json']?.schema;

/** The request with `value` (raw text) in the target parameter and valid values in the required others. */
function hostileRequest(t: Target, value: string): { method: string; url: string; body?: string } {
  let path = t.path;
  const query = new URLSearchParams();
  for (const p of t.op.parameters ?? []) {
    const text = p.name === t.name && p.in === t.where ? value : String(sampleValue(p.name, p.schema));
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(text));
    else if (p.in === 'query' && (p.required === true || p.name === t.name)) query.set(p.name, text);
  }
  const schema = bodySchema(t.op);
  const url = `${path}${query.size > 0 ? `?${query.toString()}` : ''}`;
  if (schema === undefined) return { method: t.method.toUpperCase(), url };
  // Raw JSON text: 1e309 and the like must reach the parser as written, not as JSON.stringify's null.
  const fields = (schema.required ?? []).filter((n) => n !== t.name).map((n) => `${JSON.stringify(n)}:${JSON.stringify(sampleValue(n, schema.properties?.[n] ?? {}))}`);
  if (t.where === 'body') fields.push(`${JSON.stringify(t.name)}:${/^-?[\d.]+(e\d+)?$/i.test(value) ? value : JSON.stringify(value)}`);
  return { method: t.method.toUpperCase(), url, body: `{${fields.join(',')}}` };
}

for (const target of databaseTargets()) {
  describe(`numeric parameters of every route on ${target.name}`, () => {
    let db: Db;
    let ts: TestServer;
    let admin: string;
    let targets: Target[];

    before(async () => {
      db = await target.open();
      ts = await startTestServer({ db });
      admin = await ts.token('admin');
      targets = numericTargets((await ts.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApi>());
    });
    after(async () => {
      await ts?.close();
      await db?.close();
    });

    it('finds the numeric parameters in the OpenAPI document', () => {
      const names = new Set(targets.filter((t) => t.numeric).map((t) => `${t.method.toUpperCase()} ${t.path} ${t.where}:${t.name}`));
      // A sample of known ones, so that a broken document cannot make the sweep pass empty.
      for (const known of ['GET /api/candlesticks/{symbol} query:limit', 'GET /api/backtests/{id} path:id', 'POST /api/alerts/{id}/resolve path:id', 'POST /api/admin/backfill body:maxRequests']) {
        assert.ok(names.has(known), `${known} in ${[...names].join(', ')}`);
      }
    });

    it('answers 400 naming a numeric parameter for values no schema accepts, and never 5xx for any parameter', async () => {
      const failures: string[] = [];
      for (const t of targets) {
        for (const value of [...NEVER_VALID, ...EDGE]) {
          const req = hostileRequest(t, value);
          const res = await ts.app.inject({
            method: req.method as 'GET',
            url: req.url,
            headers: { 'x-api-key': admin, ...(req.body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(req.body === undefined ? {} : { payload: req.body }),
          });
          const what = `${req.method} ${req.url}${req.body === undefined ? '' : ` ${req.body}`} -> ${res.statusCode} ${res.body.slice(0, 200)}`;
          // This server has no job queue: a valid backfill is refused as jobs_unavailable (503), by design.
          const noQueue = res.statusCode === 503 && res.json<{ error?: { code?: string } }>().error?.code === 'jobs_unavailable';
          if (res.statusCode >= 500 && !noQueue) failures.push(what);
          else if (t.numeric && NEVER_VALID.includes(value) && (res.statusCode !== 400 || !res.body.includes(t.name))) failures.push(`expected a 400 naming ${t.name}: ${what}`);
        }
      }
      assert.deepEqual(failures, []);
    });
  });
}
