/** The pipeline routes (`/api/pipeline/*`): each layer's runs, its health, and the stored manifests. */
import { Type, type Static } from 'typebox';
import { IsoTime, Nullable } from './schema-kit.ts';

/** The data layers, bottom up (pipeline/layers.ts describes each). */
export const LAYERS = ['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6'] as const;

export const LayerIdSchema = Type.Enum(LAYERS, { description: 'Data layer: L0 raw, L1 standardized, L2 indicators, L3 features, L4 RL dataset, L5 policies, L6 backtests' });

const RunStatusSchema = Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('skipped')]);

export const RunView = Type.Object({
  id: Type.Integer(),
  layer: Nullable(LayerIdSchema),
  step: Type.String({ description: 'pipeline_runs.layer as recorded: L0..L6, or backfill / failsafe / sync (L1)' }),
  symbol: Nullable(Type.String()),
  status: RunStatusSchema,
  startedAt: IsoTime('When the run started'),
  finishedAt: Nullable(IsoTime('When it finished; null while running')),
  durationMs: Nullable(Type.Integer({ description: 'finishedAt - startedAt; null while running' })),
  rowsIn: Nullable(Type.Integer()),
  rowsOut: Nullable(Type.Integer()),
  datasetHash: Nullable(Type.String({ description: 'sha256 naming the dataset the run wrote (layers with a manifest)' })),
  error: Nullable(Type.String()),
  params: Type.Record(Type.String(), Type.Unknown(), { description: 'What the run was asked to do' }),
  summary: Type.Record(Type.String(), Type.Unknown(), { description: 'What the run reported' }),
  hasManifest: Type.Boolean(),
});
export type RunView = Static<typeof RunView>;

const layerFields = {
  layer: LayerIdSchema,
  name: Type.String(),
  description: Type.String(),
  steps: Type.Array(Type.String(), { description: 'pipeline_runs.layer values counted as this layer' }),
};

export const LayerStatus = Type.Object({
  ...layerFields,
  lastRun: Nullable(RunView),
  lastSuccess: Nullable(RunView),
});
export type LayerStatus = Static<typeof LayerStatus>;

export const LayerHealth = Type.Object({
  ...layerFields,
  freshness: Type.Union([Type.Literal('on_demand'), Type.Literal('after_each_session'), Type.Literal('after_parent')], {
    description: 'on_demand: never stale by age; after_each_session: needs a successful run after the last session close (+1 h); after_parent: needs a run at least as recent as its parent layer',
  }),
  lastSuccessAt: Nullable(IsoTime('When the last completed or skipped run finished')),
  expectedAfter: Nullable(IsoTime('The layer is stale unless it succeeded after this instant')),
  stale: Type.Boolean(),
  reason: Nullable(Type.String({ description: 'Why the layer is stale' })),
});
export type LayerHealth = Static<typeof LayerHealth>;

export const PipelineHealth = Type.Object({
  healthy: Type.Boolean({ description: 'No failed run in the window and no stale layer' }),
  days: Type.Integer(),
  since: IsoTime('Start of the window of failed runs'),
  failedRuns: Type.Array(RunView, { description: 'Failed runs started in the window, newest first' }),
  failedRunsTruncated: Type.Boolean({ description: 'More failed runs exist than listed' }),
  layers: Type.Array(LayerHealth),
});
export type PipelineHealth = Static<typeof PipelineHealth>;

const NextBeforeId = Nullable(Type.Integer({ description: 'beforeId of the next (older) page; null on the last page' }));

/** `GET /api/pipeline/status`. */
export const PipelineStatusBody = Type.Object({ generatedAt: IsoTime('Server clock time of the answer'), symbol: Nullable(Type.String()), layers: Type.Array(LayerStatus) });
export type PipelineStatusBody = Static<typeof PipelineStatusBody>;

/** `GET /api/pipeline/layer/{layer}`. */
export const LayerHistory = Type.Object({ layer: LayerIdSchema, name: Type.String(), steps: Type.Array(Type.String()), runs: Type.Array(RunView), nextBeforeId: NextBeforeId });
export type LayerHistory = Static<typeof LayerHistory>;

/** `GET /api/pipeline/manifests`. */
export const ManifestList = Type.Object({
  manifests: Type.Array(Type.Object({ run: RunView, manifest: Type.Record(Type.String(), Type.Unknown(), { description: 'The manifest as stored' }) })),
  nextBeforeId: NextBeforeId,
});
export type ManifestList = Static<typeof ManifestList>;
