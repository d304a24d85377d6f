/**
 * Administration, admin tokens only: queue backfills and pipeline runs for the workers, see the
 * TwelveData key pool, and manage API tokens. Every change is appended to the audit log with the
 * principal's id (token id or JWT subject) as actor; a token's secret appears only in the
 * response that creates it, never in the log.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import type { BackfillJobData, PipelineJobData } from '../../jobs/job-payloads.ts';
import { LAYERS } from '../../pipeline/layers.ts';
import { listApiKeys, minuteStartOf, utcDateOf, windowUsage, type ApiKeyState } from '../../store/api-keys-repo.ts';
import { createTokenWithAudit, listApiTokens, revokeTokenWithAudit, type ApiToken } from '../../store/api-tokens-repo.ts';
import { appendAudit } from '../../store/audit-repo.ts';
import type { JobQueue, ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { IsoTime, Nullable } from '../../contracts/api/schema-kit.ts';
import { QueuedJob } from '../../contracts/api/admin.ts';
import { LayerIdSchema } from '../../contracts/api/pipeline.ts';
import { datePeriod, principalOf, servedSymbol, TOKEN_SECURITY } from '../request-inputs.ts';

const TAGS = ['admin'];
/** Longest range of one backfill request (about ten years of sessions). */
export const MAX_BACKFILL_DAYS = 3700;
/** A cap on maxRequests far above any key budget (about 800 credits a day per free key). */
const MAX_BACKFILL_REQUESTS = 1_000_000;

const ERRORS = { ...COMMON_ERRORS, 401: ErrorBody, 403: ErrorBody };

const DateText = (description: string) =>
  Type.String({ format: 'date', description: `${description}, YYYY-MM-DD, of each symbol's market calendar (Bogota for USD/COP; EUR/USD's opens 17:00 New York the day before)` });

const TokenView = Type.Object({
  id: Type.String({ description: 't_ + 12 hex digits; never the secret' }),
  name: Type.String(),
  role: Type.Union([Type.Literal('reader'), Type.Literal('trader'), Type.Literal('admin')]),
  active: Type.Boolean(),
  createdAt: IsoTime('Created'),
  lastUsedAt: Nullable(IsoTime('Last request with it')),
  revokedAt: Nullable(IsoTime('Revoked')),
});

const CreditWindow = Type.Object({
  limit: Type.Integer(),
  used: Type.Integer({ description: 'Credits used in the current window' }),
  left: Type.Integer(),
});

const KeyView = Type.Object({
  id: Type.String({ description: 'k_ + first 10 hex digits of the key\'s sha256; the key itself is never stored' }),
  status: Type.Union([Type.Literal('ok'), Type.Literal('bad')]),
  badReason: Nullable(Type.String()),
  minute: Type.Object({ ...CreditWindow.properties, windowStart: IsoTime('Start of the current UTC minute') }),
  day: Type.Object({ ...CreditWindow.properties, date: Type.String({ description: 'Current UTC date' }) }),
  creditsTotal: Type.Integer({ description: 'Credits taken since the key was registered' }),
  lastTakenAt: Nullable(IsoTime('Last time credits were taken')),
});

const TOKEN_ID = '^t_[0-9a-f]{12}$';

export const adminRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  const admin = app.requireRole('admin');

  app.post(
    '/api/admin/backfill',
    {
      preHandler: admin,
      schema: {
        tags: TAGS,
        summary: 'Queue a backfill of missing bars from REST',
        description:
          'Queues a `backfill` job: a worker fills the empty 5-minute slots of the sessions from..to from TwelveData REST (never overwriting a stored bar), within the key budget. 503 when this process has no job queue.',
        security: TOKEN_SECURITY,
        body: Type.Object({
          symbol: Type.String({ description: 'USD/COP or USDCOP' }),
          from: DateText('First session date'),
          to: DateText('Last session date, inclusive'),
          maxRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BACKFILL_REQUESTS, description: 'Stop after this many REST requests (queue again to continue)' })),
        }),
        response: { 202: QueuedJob, 404: ErrorBody, ...ERRORS },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const principal = principalOf(request);
      const symbol = servedSymbol(deps.symbols, body.symbol);
      const period = datePeriod(body.from, body.to, MAX_BACKFILL_DAYS, deps.calendar.of(symbol));
      const data: BackfillJobData = { symbol, from: period.from, to: period.to, ...(body.maxRequests === undefined ? {} : { maxRequests: body.maxRequests }), requestedBy: principal.id };
      return queueJob(reply, deps, { queue: 'backfill', data, action: 'admin.backfill', actor: principal.id });
    },
  );

  app.post(
    '/api/admin/pipeline/run',
    {
      preHandler: admin,
      schema: {
        tags: TAGS,
        summary: 'Queue a pipeline run',
        description:
          "Queues a `pipeline` job with data {layers: L0..L6 in order, or null for every layer the pipeline handler runs; symbols; from/to: session dates of each symbol's market calendar, or null; requestedBy}. A worker without a pipeline handler fails the job. 503 when this process has no job queue.",
        security: TOKEN_SECURITY,
        body: Type.Object({
          layers: Type.Optional(Type.Array(LayerIdSchema, { minItems: 1, uniqueItems: true, description: 'Layers to run; default all' })),
          symbol: Type.Optional(Type.String({ description: 'One symbol; default every symbol this server serves' })),
          from: Type.Optional(DateText('First session date')),
          to: Type.Optional(DateText('Last session date, inclusive')),
        }),
        response: { 202: QueuedJob, 404: ErrorBody, ...ERRORS },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const principal = principalOf(request);
      const symbols = body.symbol === undefined ? deps.symbols : [servedSymbol(deps.symbols, body.symbol)];
      if (body.from !== undefined && body.to !== undefined && body.to < body.from) {
        throw new TasaError('bad_argument', `to ${body.to} is before from ${body.from}.`, { input: 'to' });
      }
      const layers = body.layers === undefined ? null : LAYERS.filter((l) => body.layers?.includes(l));
      const data: PipelineJobData = { layers, symbols, from: body.from ?? null, to: body.to ?? null, requestedBy: principal.id };
      return queueJob(reply, deps, { queue: 'pipeline', data, action: 'admin.pipeline.run', actor: principal.id });
    },
  );

  app.get(
    '/api/admin/keys',
    {
      preHandler: admin,
      schema: {
        tags: TAGS,
        summary: 'TwelveData key pool: status and credits per key',
        description: 'Per key (by hashed id): ok or bad, and credits used and left in the current UTC minute and day, shared by every worker on this database.',
        security: TOKEN_SECURITY,
        response: {
          200: Type.Object({
            now: IsoTime('Server clock time the windows are read at'),
            keys: Type.Array(KeyView),
            totals: Type.Object({ keys: Type.Integer(), ok: Type.Integer(), minuteLeft: Type.Integer({ description: 'Credits left this minute on ok keys' }), dayLeft: Type.Integer({ description: 'Credits left today on ok keys' }) }),
          }),
          ...ERRORS,
        },
      },
    },
    async () => {
      const now = deps.clock.now();
      const keys = (await listApiKeys(deps.db)).map((k) => keyView(k, now));
      const ok = keys.filter((k) => k.status === 'ok');
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      return { now: toIsoUtc(now), keys, totals: { keys: keys.length, ok: ok.length, minuteLeft: sum(ok.map((k) => k.minute.left)), dayLeft: sum(ok.map((k) => k.day.left)) } };
    },
  );

  app.get(
    '/api/admin/tokens',
    {
      preHandler: admin,
      schema: { tags: TAGS, summary: 'API tokens (never their secrets)', security: TOKEN_SECURITY, response: { 200: Type.Object({ tokens: Type.Array(TokenView) }), ...ERRORS } },
    },
    async () => ({ tokens: (await listApiTokens(deps.db)).map(tokenView) }),
  );

  app.post(
    '/api/admin/tokens',
    {
      preHandler: admin,
      schema: {
        tags: TAGS,
        summary: 'Create an API token',
        description: 'The response is the only time the token\'s secret is shown: store it. Only its sha256 is kept. Audited as token.create.',
        security: TOKEN_SECURITY,
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'What the token is for' }),
          role: Type.Union([Type.Literal('reader'), Type.Literal('trader'), Type.Literal('admin')], {
            description: 'reader: token-only reads and reports; trader: also places and cancels orders and starts and stops strategies; admin: everything',
          }),
        }),
        response: { 201: Type.Object({ ...TokenView.properties, token: Type.String({ description: 'The secret (tasa_...), shown once' }) }), ...ERRORS },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { token, info } = await createTokenWithAudit(deps.db, { name: request.body.name.trim(), role: request.body.role, actor: principal.id, at: deps.clock.now() });
      return reply.code(201).send({ ...tokenView(info), token });
    },
  );

  app.delete(
    '/api/admin/tokens/:id',
    {
      preHandler: admin,
      schema: {
        tags: TAGS,
        summary: 'Revoke an API token',
        description: 'The token stops working at once. 404 for an unknown id, 409 when already revoked. Audited as token.revoke.',
        security: TOKEN_SECURITY,
        params: Type.Object({ id: Type.String({ pattern: TOKEN_ID, description: 'Token id, t_ + 12 hex digits' }) }),
        response: { 200: TokenView, 404: ErrorBody, 409: ErrorBody, ...ERRORS },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return tokenView(await revokeTokenWithAudit(deps.db, { id: request.params.id, actor: principal.id, at: deps.clock.now() }));
    },
  );
  return Promise.resolve();
};

interface JobRequest {
  queue: 'backfill' | 'pipeline';
  data: BackfillJobData | PipelineJobData;
  action: string;
  actor: string;
}

/** Sends the job and audits it; 503 (not a TasaError: its message must reach the client) when no queue is reachable. */
async function queueJob(reply: FastifyReply, deps: ServerDeps, job: JobRequest): Promise<FastifyReply> {
  const jobs: JobQueue | null = deps.jobs;
  if (jobs === null) {
    return reply.code(503).send({
      error: {
        code: 'jobs_unavailable',
        message: `No job queue is reachable from this server process, so the ${job.queue} job cannot be queued.`,
        hint: 'Run the API where the workers run (`tasa up`), or give this process a job queue on the shared DATABASE_URL.',
      },
    });
  }
  const jobId = await jobs.send(job.queue, job.data);
  if (jobId === null) throw new TasaError('conflict', `The ${job.queue} queue refused the job (an identical one may be queued already).`, { input: job.queue });
  const { requestedBy: _who, ...details } = job.data;
  await appendAudit(deps.db, [{ actor: job.actor, action: job.action, entity: `job:${job.queue}:${jobId}`, details, at: deps.clock.now() }]);
  return reply.code(202).send({ jobId, queue: job.queue, data: job.data });
}

function tokenView(t: ApiToken): Static<typeof TokenView> {
  const iso = (ms: number | null) => (ms === null ? null : toIsoUtc(ms));
  return { id: t.id, name: t.name, role: t.role, active: t.revokedAt === null, createdAt: toIsoUtc(t.createdAt), lastUsedAt: iso(t.lastUsedAt), revokedAt: iso(t.revokedAt) };
}

function keyView(k: ApiKeyState, now: number): Static<typeof KeyView> {
  const usage = windowUsage(k, now);
  return {
    id: k.id,
    status: k.status,
    badReason: k.badReason,
    minute: { limit: k.minuteLimit, used: usage.minuteUsed, left: Math.max(0, k.minuteLimit - usage.minuteUsed), windowStart: toIsoUtc(minuteStartOf(now)) },
    day: { limit: k.dayLimit, used: usage.dayUsed, left: Math.max(0, k.dayLimit - usage.dayUsed), date: utcDateOf(now) },
    creditsTotal: k.creditsTotal,
    lastTakenAt: k.lastTakenAt === null ? null : toIsoUtc(k.lastTakenAt),
  };
}
