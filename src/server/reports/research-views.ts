/**
 * The JSON shapes of the research routes (models, predictions, backtests, analytics): one TypeBox
 * schema per shape, for validation and OpenAPI, and the functions that turn stored rows into them.
 * Times are UTC ISO 8601 with Z.
 */
import { Type, type Static } from 'typebox';
import { toIsoUtc } from '../../domain/time.ts';
import type { Trade } from '../../research/backtest.ts';
import type { GateReport } from '../../research/gates.ts';
import type { PerformanceMetrics } from '../../research/performance.ts';
import type { PeriodPnl } from '../../research/analytics.ts';
import type { BacktestSummary, StoredEquity } from '../../store/backtests-repo.ts';
import type { ModelSummary } from '../../store/models-repo.ts';
import type { Prediction } from '../../store/predictions-repo.ts';
import { IsoTime, Nullable } from './data-quality.ts';

const NullableNumber = (description: string) => Nullable(Type.Number({ description }));
const JsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

// ---- models ----

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
});
export type ModelView = Static<typeof ModelView>;

export function modelView(m: ModelSummary): ModelView {
  return {
    id: m.id,
    kind: m.kind,
    symbol: m.symbol,
    status: m.status,
    datasetHash: m.datasetHash,
    config: m.config,
    metrics: m.metrics,
    trainingIterations: m.trainingCurve.length,
    weightsBytes: m.weightsBytes,
    createdAt: toIsoUtc(m.createdAt),
    promotedAt: m.promotedAt === null ? null : toIsoUtc(m.promotedAt),
  };
}

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

export function predictionView(p: Prediction): Static<typeof PredictionView> {
  const [short, flat, long] = p.probabilities;
  return {
    symbol: p.symbol,
    barTime: toIsoUtc(p.barTime),
    modelId: p.modelId,
    position: p.position,
    probabilities: { short, flat, long },
    latencyMs: p.latencyMs,
    createdAt: toIsoUtc(p.createdAt),
  };
}

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
  },
  { description: 'Performance metrics of the run; an undefined metric is null (src/research/performance.ts)' },
);

export const GateReportView = Type.Object(
  {
    passed: Type.Boolean(),
    gates: Type.Array(
      Type.Object({
        gate: Type.String({ description: 'sortino, max-drawdown, cost-stress or min-trades' }),
        comparator: Type.Union([Type.Literal('>='), Type.Literal('<='), Type.Literal('>')]),
        threshold: Type.Number(),
        value: NullableNumber('null when undefined (the gate then fails)'),
        passed: Type.Boolean(),
        description: Type.String(),
      }),
    ),
    stressedCosts: Type.Object({ spreadBps: Type.Number(), feeBps: Type.Number() }, { description: 'Costs of the stress rerun' }),
  },
  { description: 'Production gates (src/research/gates.ts)' },
);

export const BacktestRef = Type.Object(
  {
    id: Type.Integer(),
    policyId: Type.String({ description: 'Model id or baseline id' }),
    symbol: Type.String(),
    fromDate: Type.String({ description: 'First session, YYYY-MM-DD (Bogota)' }),
    toDate: Type.String({ description: 'Last session, inclusive' }),
    createdAt: IsoTime('Stored'),
  },
  { description: 'The backtest the figures come from' },
);
export type BacktestRef = Static<typeof BacktestRef>;

export function backtestRef(b: BacktestSummary): BacktestRef {
  return { id: b.id, policyId: b.policyId, symbol: b.symbol, fromDate: b.fromDate, toDate: b.toDate, createdAt: toIsoUtc(b.createdAt) };
}

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

export function backtestView(b: BacktestSummary): BacktestView {
  return {
    ...backtestRef(b),
    config: b.config,
    metrics: metricsView(b.metrics),
    gates: b.gates === null ? null : gateReportView(b.gates),
    passed: b.passed,
    datasetHash: b.datasetHash,
    pipelineRunId: b.pipelineRunId,
    hasReport: b.hasReport,
  };
}

export function metricsView(m: PerformanceMetrics): Static<typeof MetricsView> {
  return { ...m };
}

export function gateReportView(g: GateReport): Static<typeof GateReportView> {
  return { passed: g.passed, gates: g.gates.map((x) => ({ ...x })), stressedCosts: { ...g.stressedCosts } };
}

export const EquityView = Type.Object({
  initialEquity: Type.Number(),
  bars: Type.Integer({ description: 'Bars in the full curve' }),
  sessions: Type.Integer(),
  sessionsPerPoint: Type.Integer({ description: '1 when the last point of each session is its close' }),
  points: Type.Array(
    Type.Object({
      time: IsoTime('Open time of the last bar of the bucket (equity marked at its close)'),
      equity: Type.Number(),
      drawdown: Type.Number({ description: 'Deepest drawdown inside the bucket, positive fraction of the running peak' }),
    }),
    { description: 'Downsampled curve (at most ~2,000 points)' },
  ),
});

export function equityView(e: StoredEquity): Static<typeof EquityView> {
  return { ...e, points: e.points.map(([time, equity, drawdown]) => ({ time: toIsoUtc(time), equity, drawdown })) };
}

export const TradeView = Type.Object({
  side: Type.Union([Type.Literal(1), Type.Literal(-1)]),
  entryTime: IsoTime('Entry fill'),
  exitTime: IsoTime('Exit fill'),
  entryPrice: Type.Number(),
  exitPrice: Type.Number(),
  barsHeld: Type.Integer(),
  pnl: Type.Number({ description: 'Net of costs, account currency' }),
  return: Type.Number({ description: 'pnl / equity before entry' }),
  costs: Type.Number(),
  exitReason: Type.Union([Type.Literal('signal'), Type.Literal('session-end'), Type.Literal('series-end')]),
});

export function tradeView(t: Trade): Static<typeof TradeView> {
  return {
    side: t.side,
    entryTime: toIsoUtc(t.entryTime),
    exitTime: toIsoUtc(t.exitTime),
    entryPrice: t.entryPrice,
    exitPrice: t.exitPrice,
    barsHeld: t.barsHeld,
    pnl: t.pnl,
    return: t.return,
    costs: t.costs,
    exitReason: t.exitReason,
  };
}

export const BacktestDetail = Type.Object({
  ...BacktestView.properties,
  equity: EquityView,
  trades: Type.Object({
    total: Type.Integer({ description: 'Trades in the run' }),
    items: Type.Array(TradeView, { description: 'The last ones (at most 5,000), in time order' }),
  }),
});

// ---- analytics ----

export const PeriodView = Type.Object({
  date: Type.String({ description: 'Bogota date of the (last) session of the period' }),
  time: IsoTime('Open time of its last bar (the equity mark is at that bar\'s close)'),
  equity: Type.Number({ description: 'Equity at the period\'s close' }),
  pnl: Type.Number({ description: 'Account currency' }),
  return: Type.Number({ description: 'pnl / previous close' }),
});

export function periodView(p: PeriodPnl): Static<typeof PeriodView> {
  return { date: p.date, time: toIsoUtc(p.time), equity: p.equity, pnl: p.pnl, return: p.return };
}

export const TailRiskView = Type.Object({
  var95: NullableNumber('Historical value at risk 95%: positive = loss'),
  cvar95: NullableNumber('Mean loss of the worst 5%'),
});
