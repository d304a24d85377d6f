/**
 * The data of the on-demand jobs (queues `backfill` and `pipeline`): one schema each, shared by
 * whoever queues them (the admin API) and the worker that runs them, which checks the data again
 * because a queue may be fed by anything with access to the database.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { TasaError } from '../errors.ts';
import { LAYERS } from '../pipeline/layers.ts';

const IsoDateText = (description: string) => Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description });

/** `backfill`: fill the missing bars of a range of sessions from REST (see jobs/gap-fill.ts). */
export const BackfillJobData = Type.Object(
  {
    symbol: Type.String({ description: 'Normalized symbol, e.g. USD/COP' }),
    from: IsoDateText("First session date of the symbol's market calendar, inclusive"),
    to: IsoDateText("Last session date of the symbol's market calendar, inclusive"),
    maxRequests: Type.Optional(Type.Integer({ minimum: 1, description: 'Stop after this many REST requests (a later job continues)' })),
    requestedBy: Type.String({ description: 'Who asked: the API principal id (token id or JWT subject), or cli' }),
  },
  { description: 'Data of a backfill job' },
);
export type BackfillJobData = Static<typeof BackfillJobData>;

/**
 * `pipeline`: run pipeline layers. The handler runs the listed layers (all it knows, in order,
 * when `layers` is null) for each symbol over the session dates from..to of its market calendar
 * (null = all the data there is on that side).
 */
export const PipelineJobData = Type.Object(
  {
    layers: Type.Union([Type.Array(Type.Enum(LAYERS), { minItems: 1, uniqueItems: true }), Type.Null()], {
      description: 'Layers to run, in L0..L6 order; null = every layer the pipeline handler runs',
    }),
    symbols: Type.Array(Type.String(), { minItems: 1, description: 'Normalized symbols, e.g. ["USD/COP"]' }),
    from: Type.Union([IsoDateText("First session date of each symbol's market calendar, inclusive"), Type.Null()]),
    to: Type.Union([IsoDateText("Last session date of each symbol's market calendar, inclusive"), Type.Null()]),
    requestedBy: Type.String({ description: 'Who asked: the API principal id (token id or JWT subject), or cli' }),
  },
  { description: 'Data of a pipeline job' },
);
export type PipelineJobData = Static<typeof PipelineJobData>;

/** The job's data checked against its schema; anything else is a bad_input naming the queue and field. */
export function parseJobData<S extends TSchema>(queue: string, schema: S, data: unknown): Static<S> {
  if (Value.Check(schema, data)) return data;
  const first = [...Value.Errors(schema, data)][0];
  const where = first?.instancePath === undefined || first.instancePath === '' ? 'data' : first.instancePath.replace(/^\//, '');
  throw new TasaError('bad_input', `The ${queue} job's ${where} is invalid: ${first?.message ?? 'does not match its schema'}.`, { input: where });
}

/** `walk-forward-fold`: run one fold of a recorded walk-forward run (pipeline/walk-forward-fold.ts). */
export const WalkForwardFoldJobData = Type.Object(
  {
    runId: Type.Integer({ minimum: 1, description: 'The walk_forward_runs id' }),
    fold: Type.Integer({ minimum: 0, description: 'The fold, from 0' }),
  },
  { description: 'Data of a walk-forward fold job' },
);
export type WalkForwardFoldJobData = Static<typeof WalkForwardFoldJobData>;
