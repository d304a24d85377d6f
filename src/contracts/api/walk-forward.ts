/**
 * The walk-forward routes (`/api/research/walk-forward…`): the stored runs and, for one run, each
 * policy's aggregate over the out-of-sample folds with its per-fold rows. Policies are listed as
 * the report has them (baselines, PPO, …), never a fixed set. Returns are fractions; times on the
 * wire are UTC ISO 8601 with Z.
 */
import { Type, type Static } from 'typebox';
import { IsoDateText, IsoTime, Nullable } from './schema-kit.ts';

const NullableNumber = (description: string) => Nullable(Type.Number({ description }));

export const WalkForwardStatus = Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]);

/** One run as listed (no per-policy figures). */
export const WalkForwardRunItem = Type.Object({
  id: Type.Integer(),
  symbol: Type.String(),
  status: WalkForwardStatus,
  folds: Type.Integer({ description: 'Folds planned' }),
  fingerprint: Type.String({ description: 'sha256 of the inputs; an identical rerun reuses the report' }),
  datasetHash: Nullable(Type.String({ description: 'sha256 of the L4 dataset' })),
  researchHash: Nullable(Type.String({ description: 'sha256 of the research config' })),
  verdict: Nullable(Type.String({ description: "The report's one-sentence verdict; null until the run completed" })),
  error: Nullable(Type.String({ description: 'Why the run failed; null otherwise' })),
  hasReport: Type.Boolean({ description: 'Whether GET …/{id}/report serves an HTML report' }),
  createdAt: IsoTime('Started'),
  finishedAt: Nullable(IsoTime('Completed or failed')),
});
export type WalkForwardRunItem = Static<typeof WalkForwardRunItem>;

/** `GET /api/research/walk-forward`. */
export const WalkForwardRunPage = Type.Object({
  items: Type.Array(WalkForwardRunItem),
  nextBeforeId: Nullable(Type.Integer({ description: 'beforeId of the next page; null on the last page' })),
});
export type WalkForwardRunPage = Static<typeof WalkForwardRunPage>;

/** One policy on one fold's test window. */
export const WalkForwardFoldRow = Type.Object({
  fold: Type.Integer({ description: 'Fold index, from 0' }),
  testFrom: IsoDateText('First test session'),
  testTo: IsoDateText('Last test session'),
  totalReturn: NullableNumber('Net return after costs on the test window'),
  sharpe: NullableNumber('Annualized Sharpe ratio on the test window'),
  trades: Type.Integer(),
  passed: Type.Boolean({ description: 'Whether it passed the production gates on this fold' }),
});
export type WalkForwardFoldRow = Static<typeof WalkForwardFoldRow>;

/** One policy over every fold. */
export const WalkForwardPolicyView = Type.Object({
  policyId: Type.String(),
  kind: Type.String({ description: 'Policy kind as the report records it (baseline, ppo, …)' }),
  folds: Type.Integer({ description: 'Folds it was evaluated on' }),
  meanSharpe: NullableNumber('Mean of the per-fold Sharpe ratios'),
  medianSharpe: NullableNumber('Median of the per-fold Sharpe ratios'),
  sharpeStdev: NullableNumber('Sample standard deviation of the per-fold Sharpe ratios (null with fewer than two)'),
  positiveFolds: Type.Integer({ description: 'Folds with a positive net return' }),
  beatBestBaselineFolds: Type.Integer({ description: "Folds where its net return beat the best other baseline's" }),
  passedFolds: Type.Integer({ description: 'Folds where it passed the production gates' }),
  stitchedReturn: Type.Number({ description: 'Net return of every test window chained' }),
  psr: NullableNumber('Probabilistic Sharpe ratio of the pooled out-of-sample returns'),
  dsr: NullableNumber('Deflated Sharpe ratio of the pooled out-of-sample returns (for the trials tried)'),
  verdict: Type.String(),
  perFold: Type.Array(WalkForwardFoldRow, { description: 'In fold order' }),
});
export type WalkForwardPolicyView = Static<typeof WalkForwardPolicyView>;

/** `GET /api/research/walk-forward/{id}`: the run and, once completed, its report's figures. */
export const WalkForwardRunDetail = Type.Object({
  ...WalkForwardRunItem.properties,
  report: Nullable(
    Type.Object({
      mode: Type.String({ description: 'expanding or rolling training window' }),
      confidence: Type.Number({ description: "The gates' PSR/DSR threshold" }),
      trials: Type.Integer({ description: 'Trials the DSR deflates for' }),
      policies: Type.Array(WalkForwardPolicyView),
    }),
    'null until the run completed',
  ),
});
export type WalkForwardRunDetail = Static<typeof WalkForwardRunDetail>;
