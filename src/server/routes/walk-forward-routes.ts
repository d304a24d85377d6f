/**
 * Walk-forward evaluations as stored (`walk_forward_runs`): the runs newest first, one run with
 * each policy's out-of-sample aggregate and per-fold rows, and its self-contained HTML report.
 * Read-only; public unless TASA_AUTH=all. Runs are produced by `tasa pipeline run` (after L6).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TasaError } from '../../errors.ts';
import { getWalkForwardRun, listWalkForwardRuns, walkForwardReportHtml, type StoredWalkForwardRun } from '../../store/walk-forward-repo.ts';
import { WalkForwardRunDetail, WalkForwardRunPage, WalkForwardStatus } from '../../contracts/api/walk-forward.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { RowId } from '../param-bounds.ts';
import { walkForwardRunDetail, walkForwardRunItem } from '../reports/walk-forward-views.ts';
import { servedSymbol } from '../request-inputs.ts';

const TAGS = ['research'];
const ERRORS = { ...COMMON_ERRORS, 404: ErrorBody };
const IdParam = Type.Object({ id: RowId('Walk-forward run id') });
const HOW_TO_RUN = 'Run `npx tasa pipeline run` to evaluate the policies walk-forward.';

export const walkForwardRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/api/research/walk-forward',
    {
      schema: {
        tags: TAGS,
        summary: 'Walk-forward runs, newest first',
        description: 'Each run with its status and, once completed, its verdict; paged with beforeId.',
        querystring: Type.Object({
          symbol: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Only runs of this symbol: USD/COP or USDCOP; unknown symbols are 404' })),
          status: Type.Optional(WalkForwardStatus),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Runs per page' }),
          beforeId: Type.Optional(RowId("Keyset paging: only runs with a smaller id (pass the previous page's nextBeforeId)")),
        }),
        response: { 200: WalkForwardRunPage, ...ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await listWalkForwardRuns(deps.db, {
        ...(q.symbol === undefined ? {} : { symbol: servedSymbol(deps.symbols, q.symbol) }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.beforeId === undefined ? {} : { beforeId: q.beforeId }),
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      return { items: page.map(walkForwardRunItem), nextBeforeId: rows.length > q.limit ? page[page.length - 1]!.id : null };
    },
  );

  app.get(
    '/api/research/walk-forward/:id',
    {
      schema: {
        tags: TAGS,
        summary: "One walk-forward run: each policy's aggregate over the folds and its per-fold rows",
        description: 'report is null while the run is running or after it failed (error says why).',
        params: IdParam,
        response: { 200: WalkForwardRunDetail, ...ERRORS },
      },
    },
    async (request) => walkForwardRunDetail(await mustGetRun(deps, request.params.id)),
  );

  app.get(
    '/api/research/walk-forward/:id/report',
    {
      schema: {
        tags: TAGS,
        summary: "The walk-forward run's self-contained HTML report",
        description: 'One page with inline CSS and SVG, no script and no external asset. 404 when the run is unknown or has not completed.',
        produces: ['text/html'],
        params: IdParam,
        response: { 200: Type.String({ description: 'text/html' }), ...ERRORS },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const html = await walkForwardReportHtml(deps.db, id);
      if (html === null) {
        const run = await mustGetRun(deps, id);
        throw new TasaError('not_found', `Walk-forward run ${id} has no report: it is ${run.status}.`, { input: 'id' });
      }
      // A report must not run anything even if some text slipped through unescaped.
      return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:").send(html);
    },
  );
  return Promise.resolve();
};

async function mustGetRun(deps: ServerDeps, id: number): Promise<StoredWalkForwardRun> {
  const run = await getWalkForwardRun(deps.db, id);
  if (run === null) throw new TasaError('not_found', `No walk-forward run ${id}. ${HOW_TO_RUN}`, { input: 'id' });
  return run;
}
