/**
 * The data pipeline as recorded (`pipeline_runs`, `sessions`, `bars`): per-layer status and run
 * history, failed runs and stale layers, data quality of a period, and the stored manifests.
 * Read-only; public unless TASA_AUTH=all. Layers and the recorded step names they cover are
 * defined once in pipeline/layers.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toIsoUtc } from '../../domain/time.ts';
import { layerInfo } from '../../pipeline/layers.ts';
import { listRuns } from '../../store/pipeline-runs-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { DataQualityReport } from '../../contracts/api/data-quality.ts';
import { LayerHistory, LayerIdSchema, ManifestList, PipelineHealth, PipelineStatusBody } from '../../contracts/api/pipeline.ts';
import { dataQuality } from '../reports/data-quality.ts';
import { pipelineHealth, pipelineStatus, runView } from '../reports/pipeline-status.ts';
import { datePeriod, servedOrDefault, servedSymbol } from '../request-inputs.ts';
import { RowId } from '../param-bounds.ts';

const TAGS = ['pipeline'];
/** Longest period one data-quality request may cover (about ten years of sessions). */
export const MAX_QUALITY_DAYS = 3700;

const ERRORS = { ...COMMON_ERRORS, 404: ErrorBody };

const SymbolFilter = Type.String({ description: 'Only runs of this symbol: USD/COP, USD%2FCOP or USDCOP; unknown symbols are 404' });
const BeforeId = RowId('Keyset paging: only runs with a smaller id (pass the previous page\'s nextBeforeId)');

export const pipelineRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  const symbolOf = (input: string | undefined) => (input === undefined ? undefined : servedSymbol(deps.symbols, input));

  app.get(
    '/api/pipeline/status',
    {
      schema: {
        tags: TAGS,
        summary: 'Last run of each layer L0..L6',
        description: 'Per layer: the newest run (any status) and the newest successful one (completed or skipped), with timings, rows in/out and dataset hash. A layer that never ran has lastRun null.',
        querystring: Type.Object({ symbol: Type.Optional(SymbolFilter) }),
        response: { 200: PipelineStatusBody, ...ERRORS },
      },
    },
    async (request) => {
      const symbol = symbolOf(request.query.symbol);
      return { generatedAt: toIsoUtc(deps.clock.now()), symbol: symbol ?? null, layers: await pipelineStatus(deps.db, symbol) };
    },
  );

  app.get(
    '/api/pipeline/layer/:layer',
    {
      schema: {
        tags: TAGS,
        summary: 'Run history of one layer, newest first',
        description: 'Every recorded run of the layer\'s steps (see /api/pipeline/status for the steps of each layer), paged with beforeId.',
        params: Type.Object({ layer: LayerIdSchema }),
        querystring: Type.Object({
          symbol: Type.Optional(SymbolFilter),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Runs per page' }),
          beforeId: Type.Optional(BeforeId),
        }),
        response: { 200: LayerHistory, ...ERRORS },
      },
    },
    async (request) => {
      const info = layerInfo(request.params.layer);
      const { limit, beforeId } = request.query;
      const runs = await listRuns(deps.db, { layers: info.steps, symbol: symbolOf(request.query.symbol), limit, beforeId });
      return { layer: info.id, name: info.name, steps: [...info.steps], runs: runs.map(runView), nextBeforeId: nextBeforeId(runs, limit) };
    },
  );

  app.get(
    '/api/pipeline/health',
    {
      schema: {
        tags: TAGS,
        summary: 'Failed runs and stale layers',
        description:
          'Failed runs started in the last `days` days, and per layer whether it is stale: L1 needs a successful run after the last session close (+1 h); L2..L6 need a run started after their parent layer last changed; L0 (file imports) is never stale by age.',
        querystring: Type.Object({
          days: Type.Integer({ minimum: 1, maximum: 365, default: 7, description: 'Window of failed runs, in days back from now' }),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'Most failed runs to list' }),
          symbol: Type.Optional(SymbolFilter),
        }),
        response: { 200: PipelineHealth, ...ERRORS },
      },
    },
    async (request) => {
      const { days, limit } = request.query;
      const symbol = symbolOf(request.query.symbol);
      // Staleness follows the session closes of the symbol asked for, else of the first served one.
      const calendar = deps.calendar.of(symbol ?? servedOrDefault(deps.symbols, undefined));
      return pipelineHealth(deps.db, { calendar, clock: deps.clock, days, limit, symbol });
    },
  );

  app.get(
    '/api/pipeline/data-quality',
    {
      schema: {
        tags: TAGS,
        summary: 'Data quality of a period: coverage, flat share, repairs, gaps',
        description: `From the stored bars (L1) and the session quality table, per session date and per hour of the session, in the market's own zone (Bogota for USD/COP). At most ${MAX_QUALITY_DAYS} days per request.`,
        querystring: Type.Object({
          symbol: Type.String({ description: 'USD/COP, USD%2FCOP or USDCOP; unknown symbols are 404' }),
          from: Type.String({ format: 'date', description: "First session date of the market's own calendar, YYYY-MM-DD (Bogota for USD/COP), inclusive" }),
          to: Type.String({ format: 'date', description: "Last session date of the market's own calendar, YYYY-MM-DD (Bogota for USD/COP), inclusive" }),
        }),
        response: { 200: DataQualityReport, ...ERRORS },
      },
    },
    async (request) => {
      const symbol = servedSymbol(deps.symbols, request.query.symbol);
      return dataQuality(deps.db, deps.calendar.of(symbol), symbol, datePeriod(request.query.from, request.query.to, MAX_QUALITY_DAYS, deps.calendar.of(symbol)));
    },
  );

  app.get(
    '/api/pipeline/manifests',
    {
      schema: {
        tags: TAGS,
        summary: 'Stored dataset manifests, newest first',
        description: 'The manifest each run stored in pipeline_runs.manifest (files with sha256 and rows, parent runs, code version, config), with its run.',
        querystring: Type.Object({
          layer: Type.Optional(LayerIdSchema),
          symbol: Type.Optional(SymbolFilter),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Manifests per page' }),
          beforeId: Type.Optional(BeforeId),
        }),
        response: { 200: ManifestList, ...ERRORS },
      },
    },
    async (request) => {
      const { layer, limit, beforeId } = request.query;
      const steps = layer === undefined ? undefined : layerInfo(layer).steps;
      const runs = await listRuns(deps.db, { layers: steps, symbol: symbolOf(request.query.symbol), withManifest: true, limit, beforeId });
      return { manifests: runs.map((run) => ({ run: runView(run), manifest: run.manifest ?? {} })), nextBeforeId: nextBeforeId(runs, limit) };
    },
  );
  return Promise.resolve();
};

function nextBeforeId(rows: ReadonlyArray<{ id: number }>, limit: number): number | null {
  return rows.length === limit ? (rows.at(-1)?.id ?? null) : null;
}
