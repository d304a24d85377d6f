/**
 * The research routes (models, predictions, backtests, analytics), and the shapes research and
 * the backtests table share with them: performance metrics, gate reports, trades and the stored
 * equity curve are declared here once. Times on the wire are UTC ISO 8601 with Z; stored and
 * computed ones are epoch ms UTC.
 */
import { Type, type Static } from 'typebox';
import { IsoDateText, IsoTime, Nullable } from './schema-kit.ts';

const NullableNumber = (description: string) => Nullable(Type.Number({ description }));
const JsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

// ---- models ----

/** The model's newest pipeline (L6) backtest, which runs on the test split; null when it has none. */
export const ModelTestMetrics = Type.Object(
  {
    backtestId: Type.Integer(),
    fromDate: IsoDateText('First session of the backtest'),
    toDate: IsoDateText('Last session of the backtest'),
    totalReturn: NullableNumber('Net total return after costs (fraction)'),
    sharpe: NullableNumber('Annualized Sharpe ratio'),
    tradeCount: Type.Integer(),
  },
  { description: "Test-split metrics: the model's newest backtest stored by a pipeline run (L6)" },
);
export type ModelTestMetrics = Static<typeof ModelTestMetrics>;

/** The gate result of the model's newest backtest (the one promotion checks); null when it has none. */
export const ModelGateResult = Type.Object(
  {
    backtestId: Type.Integer(),
    passed: Nullable(Type.Boolean({ description: 'null when that backtest was not gated' })),
    failedGates: Type.Array(Type.String(), { description: 'Names of the gates it failed' }),
    verdict: Nullable(Type.String({ description: 'The gates\' one-sentence verdict; null for backtests stored before verdicts existed' })),
  },
  { description: "The production gates' result on the model's newest backtest" },
);
export type ModelGateResult = Static<typeof ModelGateResult>;

export const ModelView = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('ppo'), Type.Literal('baseline')]),
  symbol: Type.String(),
  status: Type.Union([Type.Literal('candidate'), Type.Literal('production'), Type.Literal('retired')]),
  datasetHash: Nullable(Type.String({ description: 'sha256 of the RL dataset it was trained on' })),
  config: JsonObject('Training configuration'),
  metrics: JsonObject('Validation metrics recorded at training'),
  trainingIterations: Type.Integer({ description: 'Entries in its training curve' }),
  weightsBytes: Nullable(Type.Integer({ description: 'Size of the stored weights; null for baselines' })),
  createdAt: IsoTime('Registered'),
  promotedAt: Nullable(IsoTime('Last put in production')),
  test: Nullable(ModelTestMetrics),
  gateResult: Nullable(ModelGateResult),
});
export type ModelView = Static<typeof ModelView>;

/** `GET /api/models`. */
export const ModelList = Type.Object({ items: Type.Array(ModelView) });
export type ModelList = Static<typeof ModelList>;

/** `POST /api/models/{id}/promote`. */
export const Promotion = Type.Object({
  model: ModelView,
  previousId: Nullable(Type.String({ description: 'The production model it replaced' })),
  changed: Type.Boolean({ description: 'False when it already was in production' }),
});
export type Promotion = Static<typeof Promotion>;

export const TrainingCurve = Type.Array(Type.Unknown(), { description: 'One entry per training iteration (mean episode reward, losses, entropy, KL...), as the trainer recorded it' });

export const ModelDetail = Type.Object({ ...ModelView.properties, trainingCurve: TrainingCurve });

// ---- predictions ----

export const PredictionView = Type.Object({
  symbol: Type.String(),
  barTime: IsoTime('Open time of the bar whose close the decision was taken at'),
  modelId: Type.String(),
  position: Type.Union([Type.Literal(-1), Type.Literal(0), Type.Literal(1)], { description: '-1 short, 0 flat, 1 long' }),
  probabilities: Type.Object({ short: Type.Number(), flat: Type.Number(), long: Type.Number() }),
  latencyMs: Type.Number({ description: 'From the bar\'s final event to the decision' }),
  createdAt: IsoTime('Stored'),
});
export type PredictionView = Static<typeof PredictionView>;

/** `GET /api/predictions/latest`. */
export const PredictionList = Type.Object({ symbol: Type.String(), items: Type.Array(PredictionView) });
export type PredictionList = Static<typeof PredictionList>;

// ---- backtests ----

export const MetricsView = Type.Object(
  {
    bars: Type.Integer(),
    barsPerYear: Type.Number({ description: 'Session bars per calendar year used to annualize' }),
    years: Type.Number(),
    totalReturn: NullableNumber('Final equity / initial - 1'),
    cagr: NullableNumber('Compound annual growth rate'),
    annualizedVolatility: NullableNumber('Of the bar returns'),
    sharpe: NullableNumber('Risk-free rate 0'),
    sortino: NullableNumber('Target 0'),
    maxDrawdown: NullableNumber('Positive fraction of the running peak'),
    maxDrawdownBars: Nullable(Type.Integer()),
    maxDrawdownMs: NullableNumber('Peak to recovery (or to the end)'),
    maxDrawdownRecovered: Nullable(Type.Boolean()),
    calmar: NullableNumber('CAGR / max drawdown'),
    winRate: NullableNumber('Share of trades with PnL > 0'),
    profitFactor: NullableNumber('Gross profit / gross loss'),
    exposure: NullableNumber('Mean |position|'),
    tradeCount: Type.Integer(),
    averageHoldingBars: NullableNumber('Bars'),
    averageHoldingMinutes: NullableNumber('Entry fill to exit fill'),
    // Optional: backtests stored before these were computed have none.
    turnover: Type.Optional(NullableNumber('Position changes per year in units of equity (a round trip counts 2)')),
    expectancy: Type.Optional(NullableNumber('Mean net return per trade (fraction of the equity at entry)')),
    averageWin: Type.Optional(NullableNumber('Mean return of the trades with P&L > 0')),
    averageLoss: Type.Optional(NullableNumber('Mean return of the trades with P&L < 0 (negative)')),
    grossReturn: Type.Optional(NullableNumber('Total return of the same positions without costs')),
    costSensitivity: Type.Optional(
      Type.Array(
        Type.Object({
          factor: Type.Number({ description: 'Multiple of the run costs' }),
          spreadBps: Type.Number(),
          feeBps: Type.Number(),
          slippageBps: Type.Optional(Type.Number()),
          totalReturn: NullableNumber('Net total return at these costs'),
          sharpe: NullableNumber('At these costs'),
        }),
        { description: 'The same positions rerun with scaled costs' },
      ),
    ),
  },
  { description: 'Performance metrics of the run; an undefined metric is null (src/research/performance.ts)' },
);
/** Every metric of one run (research/performance.ts computes them; years = bars / barsPerYear). */
export type PerformanceMetrics = Static<typeof MetricsView>;

export const GateReportView = Type.Object(
  {
    passed: Type.Boolean(),
    gates: Type.Array(
      Type.Object({
        gate: Type.Union([
          Type.Literal('sortino'),
          Type.Literal('max-drawdown'),
          Type.Literal('cost-stress'),
          Type.Literal('min-trades'),
          Type.Literal('sharpe-vs-flat'),
          Type.Literal('excess-vs-best-baseline'),
          Type.Literal('probabilistic-sharpe'),
          Type.Literal('deflated-sharpe'),
        ]),
        comparator: Type.Union([Type.Literal('>='), Type.Literal('<='), Type.Literal('>')]),
        threshold: Type.Number(),
        value: NullableNumber('null when undefined (the gate then fails)'),
        passed: Type.Boolean(),
        description: Type.String(),
      }),
    ),
    stressedCosts: Type.Object({ spreadBps: Type.Number(), feeBps: Type.Number(), slippageBps: Type.Optional(Type.Number()) }, { description: 'Costs of the stress rerun' }),
    // Optional: backtests stored before the relative and significance gates have none.
    verdict: Type.Optional(Type.String({ description: 'Whether the run shows an edge, in one sentence' })),
    bestBaseline: Type.Optional(
      Nullable(Type.Object({ policyId: Type.String(), totalReturn: Type.Number() }, { description: 'The baseline with the highest net return over the same span; null when none ran' })),
    ),
    significance: Type.Optional(
      Nullable(
        Type.Object(
          {
            bars: Type.Integer({ description: 'Bar returns T' }),
            perBarSharpe: Type.Number({ description: 'Not annualized' }),
            skewness: Type.Number(),
            kurtosis: Type.Number({ description: 'Not excess: 3 for a normal law' }),
            trials: Type.Integer({ description: 'Configurations tried (policies, seeds)' }),
            trialSharpeVariance: Type.Number({ description: "Variance of the trials' per-bar Sharpe ratios" }),
            expectedMaxSharpe: Type.Number({ description: 'SR0: the per-bar Sharpe the best of the trials shows by luck' }),
            psr: NullableNumber('P(true Sharpe > 0)'),
            dsr: NullableNumber('P(true Sharpe > SR0)'),
          },
          { description: 'Probabilistic and deflated Sharpe ratios (src/research/significance.ts); null when the returns have no variance' },
        ),
      ),
    ),
  },
  { description: 'Production gates (src/research/gates.ts)' },
);
/** The production gates of a run (research/gates.ts evaluates them). */
export type GateReport = Static<typeof GateReportView>;
export type GateResult = GateReport['gates'][number];
export type GateName = GateResult['gate'];

export const BacktestRef = Type.Object(
  {
    id: Type.Integer(),
    policyId: Type.String({ description: 'Model id or baseline id' }),
    symbol: Type.String(),
    fromDate: Type.String({ description: "First session, YYYY-MM-DD of the market's own calendar (Bogota for USD/COP)" }),
    toDate: Type.String({ description: 'Last session, inclusive' }),
    createdAt: IsoTime('Stored'),
  },
  { description: 'The backtest the figures come from' },
);
export type BacktestRef = Static<typeof BacktestRef>;

export const BacktestView = Type.Object({
  ...BacktestRef.properties,
  config: JsonObject('What defines the run: costs, split, options'),
  metrics: MetricsView,
  gates: Nullable(GateReportView),
  passed: Nullable(Type.Boolean({ description: 'Gates passed; null when not gated' })),
  datasetHash: Nullable(Type.String()),
  pipelineRunId: Nullable(Type.Integer()),
  hasReport: Type.Boolean({ description: 'GET /api/backtests/{id}/report serves it' }),
});
export type BacktestView = Static<typeof BacktestView>;

/** `GET /api/backtests`. */
export const BacktestPage = Type.Object({ items: Type.Array(BacktestView), nextBeforeId: Nullable(Type.Integer({ description: 'beforeId of the next page; null on the last page' })) });
export type BacktestPage = Static<typeof BacktestPage>;

const equitySummary = {
  initialEquity: Type.Number(),
  bars: Type.Integer({ description: 'Bars in the full curve' }),
  sessions: Type.Integer(),
  sessionsPerPoint: Type.Integer({ description: '1 when the last point of each session is its close' }),
};

export const EquityView = Type.Object({
  ...equitySummary,
  points: Type.Array(
    Type.Object({
      time: IsoTime('Open time of the last bar of the bucket (equity marked at its close)'),
      equity: Type.Number(),
      drawdown: Type.Number({ description: 'Deepest drawdown inside the bucket, positive fraction of the running peak' }),
    }),
    { description: 'Downsampled curve (at most ~2,000 points)' },
  ),
});
export type EquityView = Static<typeof EquityView>;

/** A point of the stored curve: [bar open time (epoch ms UTC), equity at its close, deepest drawdown of its bucket]. */
export const EquityPoint = Type.Tuple([Type.Number(), Type.Number(), Type.Number()]);
export type EquityPoint = Static<typeof EquityPoint>;

/** The downsampled curve as the backtests table stores it (research/equity-curve.ts makes it). */
export const StoredEquity = Type.Object({ ...equitySummary, points: Type.Array(EquityPoint) });
export type StoredEquity = Static<typeof StoredEquity>;

const tradeSide = Type.Union([Type.Literal(1), Type.Literal(-1)]);
const tradeFigures = {
  entryPrice: Type.Number(),
  exitPrice: Type.Number(),
  barsHeld: Type.Integer(),
  pnl: Type.Number({ description: 'Net of costs, account currency' }),
  return: Type.Number({ description: 'pnl / equity before entry' }),
  costs: Type.Number(),
  exitReason: Type.Union([Type.Literal('signal'), Type.Literal('session-end'), Type.Literal('series-end')]),
};

export const TradeView = Type.Object({ side: tradeSide, entryTime: IsoTime('Entry fill'), exitTime: IsoTime('Exit fill'), ...tradeFigures });
export type TradeView = Static<typeof TradeView>;

/** A trade as research/backtest.ts records it and the backtests table stores it. */
export const Trade = Type.Object({
  side: tradeSide,
  entryIndex: Type.Integer({ description: 'Index of the bar whose open filled the entry' }),
  exitIndex: Type.Integer({ description: 'Index of the bar whose open (or, for a session-end exit, close) filled the exit' }),
  entryTime: Type.Number({ description: 'Fill instant, epoch ms UTC: a bar\'s open time, or its open + 5 min for a close fill' }),
  exitTime: Type.Number({ description: 'Fill instant, epoch ms UTC' }),
  ...tradeFigures,
});
export type Trade = Static<typeof Trade>;

export const BacktestDetail = Type.Object({
  ...BacktestView.properties,
  equity: EquityView,
  trades: Type.Object({
    total: Type.Integer({ description: 'Trades in the run' }),
    items: Type.Array(TradeView, { description: 'The last ones (at most 5,000), in time order' }),
  }),
});
export type BacktestDetail = Static<typeof BacktestDetail>;

// ---- analytics ----

export const PeriodView = Type.Object({
  date: Type.String({ description: "Trade date of the (last) session of the period in the market's own calendar (Bogota for USD/COP)" }),
  time: IsoTime('Open time of its last bar (the equity mark is at that bar\'s close)'),
  equity: Type.Number({ description: 'Equity at the period\'s close' }),
  pnl: Type.Number({ description: 'Account currency' }),
  return: Type.Number({ description: 'pnl / previous close' }),
});
export type PeriodView = Static<typeof PeriodView>;

export const TailRiskView = Type.Object({
  var95: NullableNumber('Historical value at risk 95%: positive = loss'),
  cvar95: NullableNumber('Mean loss of the worst 5%'),
});
