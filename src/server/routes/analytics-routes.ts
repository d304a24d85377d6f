/**
 * Research results: the model registry, live predictions, stored backtests (with their HTML
 * reports) and the analytics computed from them. Every figure comes from stored rows; when there
 * is nothing stored yet a route answers 404 saying how to produce it, never a made-up number.
 *
 * Default backtest of the analytics routes (no `backtest=`): the newest backtest of the symbol's
 * production model, else of its newest PPO model, else (no model registered) the symbol's newest
 * backtest of any policy.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { holdingBuckets, histogram, periodPnl, riskMetrics, tradeOutcomes } from '../../research/analytics.ts';
import { BASELINE_IDS } from '../../research/baselines.ts';
import { TasaError } from '../../errors.ts';
import { backtestReport, getBacktest, latestBacktestsOfPolicies, listBacktests, type StoredBacktest } from '../../store/backtests-repo.ts';
import { modelEvaluations, NOT_EVALUATED } from '../../research/model-evaluations.ts';
import { getModel, listModels, productionModel, type ModelSummary } from '../../store/models-repo.ts';
import { promoteGated } from '../../research/model-promotion.ts';
import { latestPredictions } from '../../store/predictions-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { Nullable } from '../../contracts/api/schema-kit.ts';
import {
  BacktestDetail,
  BacktestPage,
  BacktestRef,
  GateReportView,
  MetricsView,
  ModelDetail,
  ModelList,
  ModelView,
  PeriodView,
  PredictionList,
  Promotion,
  TailRiskView,
  TrainingCurve,
} from '../../contracts/api/research.ts';
import { backtestRef, backtestView, equityView, gateReportView, metricsView, modelView, periodView, predictionView, tradeView } from '../reports/research-views.ts';
import { principalOf, servedSymbol, TOKEN_SECURITY } from '../request-inputs.ts';
import { RowId } from '../param-bounds.ts';

const TAGS = ['research'];
const ERRORS = { ...COMMON_ERRORS, 404: ErrorBody };
const RUN_PIPELINE = 'Run `tasa pipeline run` (or POST /api/admin/pipeline/run) to train and backtest.';

const SymbolQuery = { symbol: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Instrument: `USD/COP` or `USDCOP`; default the first symbol this server serves' })) };
const BacktestQuery = {
  backtest: Type.Optional(RowId('Backtest id; default the newest backtest of the production model (else the newest PPO model)')),
  ...SymbolQuery,
};
const IdParam = Type.Object({ id: RowId('Backtest id') });
const ModelIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200, description: 'Model id' }) });

export const analyticsRoutes: FastifyPluginAsyncTypebox<ServerDeps> = async (app, deps) => {
  const symbolOf = (input: string | undefined): string => (input === undefined ? firstSymbol(deps) : servedSymbol(deps.symbols, input));
  const backtestOf = (q: { backtest?: number; symbol?: string }): Promise<StoredBacktest> => resolveBacktest(deps, q.backtest, symbolOf(q.symbol));

  // ---- models ----

  app.get(
    '/api/models',
    {
      schema: {
        tags: TAGS,
        summary: 'Registered models (without weights)',
        description: 'Trained and baseline policies, newest first; the training curve is left out (GET /api/models/{id} has it).',
        querystring: Type.Object({
          ...SymbolQuery,
          status: Type.Optional(Type.Union([Type.Literal('candidate'), Type.Literal('production'), Type.Literal('retired')])),
          kind: Type.Optional(Type.Union([Type.Literal('ppo'), Type.Literal('baseline')])),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        }),
        response: { 200: ModelList, ...ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      const symbol = q.symbol === undefined ? undefined : servedSymbol(deps.symbols, q.symbol);
      const models = await listModels(deps.db, { ...(symbol === undefined ? {} : { symbol }), ...(q.status ? { status: q.status } : {}), ...(q.kind ? { kind: q.kind } : {}), limit: q.limit });
      return { items: await modelViews(deps, models) };
    },
  );

  app.get(
    '/api/models/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'One model with its training curve (without weights)',
        params: ModelIdParam,
        response: { 200: ModelDetail, ...ERRORS },
      },
    },
    async (request) => {
      const model = await mustGetModel(deps, request.params.id);
      return { ...(await oneModelView(deps, model)), trainingCurve: model.trainingCurve };
    },
  );

  app.post(
    '/api/models/:id/promote',
    {
      preHandler: app.requireRole('admin'),
      schema: {
        tags: TAGS,
        summary: 'Put a model in production (admin)',
        description:
          'Makes the model its symbol\'s production model and demotes the previous one to candidate, with an audit entry. ' +
          'Refused (409) unless the model\'s newest backtest passed the production gates; `?force=true` promotes anyway (and says so in the audit).',
        security: TOKEN_SECURITY,
        params: ModelIdParam,
        querystring: Type.Object({ force: Type.Boolean({ default: false, description: 'Promote even without a passing gated backtest' }) }),
        response: {
          200: Promotion,
          401: ErrorBody,
          403: ErrorBody,
          409: ErrorBody,
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const promotion = await promoteGated(deps.db, request.params.id, { actor: principalOf(request).id, at: deps.clock.now(), force: request.query.force, forceHint: '?force=true' });
      // Live predictors switch to the new production model at once instead of at their next poll.
      if (promotion.changed) await deps.bus.broadcast('models', { symbol: promotion.model.symbol, id: promotion.model.id });
      return { model: await oneModelView(deps, promotion.model), previousId: promotion.previousId, changed: promotion.changed };
    },
  );

  // ---- predictions ----

  app.get(
    '/api/predictions/latest',
    {
      schema: {
        tags: TAGS,
        summary: 'The newest predictions of the production policy',
        description:
          'Decisions taken at the close of the newest final bars, newest first. An empty list while none is stored: predictions are made at each final live bar once a model is in production (POST /api/models/{id}/promote).',
        querystring: Type.Object({ ...SymbolQuery, limit: Type.Integer({ minimum: 1, maximum: 500, default: 1 }) }),
        response: { 200: PredictionList, ...ERRORS },
      },
    },
    async (request) => {
      const symbol = symbolOf(request.query.symbol);
      const predictions = await latestPredictions(deps.db, symbol, request.query.limit);
      return { symbol, items: predictions.map(predictionView) };
    },
  );

  // ---- backtests ----

  app.get(
    '/api/backtests',
    {
      schema: {
        tags: TAGS,
        summary: 'Stored backtests, newest first (without curve, trades or report)',
        querystring: Type.Object({
          policy: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Model id or baseline id' })),
          ...SymbolQuery,
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          beforeId: Type.Optional(RowId('Page: only ids below this (the previous page\'s nextBeforeId)')),
        }),
        response: { 200: BacktestPage, ...ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      const symbol = q.symbol === undefined ? undefined : servedSymbol(deps.symbols, q.symbol);
      const rows = await listBacktests(deps.db, {
        ...(q.policy === undefined ? {} : { policyId: q.policy }),
        ...(symbol === undefined ? {} : { symbol }),
        ...(q.beforeId === undefined ? {} : { beforeId: q.beforeId }),
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      return { items: page.map(backtestView), nextBeforeId: rows.length > q.limit ? page[page.length - 1]!.id : null };
    },
  );

  app.get(
    '/api/backtests/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'One backtest: metrics, gates, downsampled equity curve and trades',
        params: IdParam,
        response: { 200: BacktestDetail, ...ERRORS },
      },
    },
    async (request) => {
      const b = await mustGetBacktest(deps, request.params.id);
      return { ...backtestView(b), equity: equityView(b.equity), trades: { total: b.trades.total, items: b.trades.items.map(tradeView) } };
    },
  );

  app.get(
    '/api/backtests/:id/report',
    {
      schema: {
        tags: TAGS,
        summary: 'The backtest\'s self-contained HTML report',
        description: 'One page with inline CSS and SVG, no script and no external asset. 404 when the backtest is unknown or was stored without a report.',
        produces: ['text/html'],
        params: IdParam,
        response: { 200: Type.String({ description: 'text/html' }), ...ERRORS },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const html = await backtestReport(deps.db, id);
      if (html === null) {
        await mustGetBacktest(deps, id);
        throw new TasaError('not_found', `Backtest ${id} was stored without an HTML report.`, { input: 'id' });
      }
      // A report must not run anything even if some text slipped through unescaped.
      return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:").send(html);
    },
  );

  // ---- analytics ----

  app.get(
    '/api/analytics/rl-metrics',
    {
      schema: {
        tags: TAGS,
        summary: 'Training curve and validation metrics of a model',
        description: 'Default model: the symbol\'s production model, else its newest candidate. 404 when there is no model yet.',
        querystring: Type.Object({ model: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Model id' })), ...SymbolQuery }),
        response: { 200: Type.Object({ model: ModelView, trainingCurve: TrainingCurve, validation: ModelView.properties.metrics }), ...ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      const model = q.model === undefined ? await defaultModel(deps, symbolOf(q.symbol)) : await mustGetModel(deps, q.model);
      return { model: await oneModelView(deps, model), trainingCurve: model.trainingCurve, validation: model.metrics };
    },
  );

  app.get(
    '/api/analytics/performance-kpis',
    {
      schema: {
        tags: TAGS,
        summary: 'Headline metrics of a backtest, with the baselines run over the same dates',
        description: 'Baselines: the newest backtest of each baseline policy over exactly the same symbol and dates.',
        querystring: Type.Object(BacktestQuery),
        response: {
          200: Type.Object({
            backtest: BacktestRef,
            metrics: MetricsView,
            passed: Nullable(Type.Boolean()),
            baselines: Type.Array(Type.Object({ backtest: BacktestRef, metrics: MetricsView })),
          }),
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const b = await backtestOf(request.query);
      const baselineIds = await baselinePolicyIds(deps, b.symbol);
      const baselines = await latestBacktestsOfPolicies(deps.db, b.symbol, b.fromDate, b.toDate, baselineIds.filter((id) => id !== b.policyId));
      return {
        backtest: backtestRef(b),
        metrics: metricsView(b.metrics),
        passed: b.passed,
        baselines: baselines.map((x) => ({ backtest: backtestRef(x), metrics: metricsView(x.metrics) })),
      };
    },
  );

  app.get(
    '/api/analytics/production-gates',
    {
      schema: {
        tags: TAGS,
        summary: 'Production gates of a backtest: each check, its threshold, value and verdict',
        querystring: Type.Object(BacktestQuery),
        response: { 200: Type.Object({ backtest: BacktestRef, passed: Nullable(Type.Boolean()), gates: Nullable(GateReportView) }), ...ERRORS },
      },
    },
    async (request) => {
      const b = await backtestOf(request.query);
      return { backtest: backtestRef(b), passed: b.passed, gates: b.gates === null ? null : gateReportView(b.gates) };
    },
  );

  app.get(
    '/api/analytics/session-pnl',
    {
      schema: {
        tags: TAGS,
        summary: 'PnL per session of a backtest',
        description: 'From the stored curve\'s session closes. Very long runs are stored with several sessions per point: `sessionsPerPeriod` says how many each period spans.',
        querystring: Type.Object(BacktestQuery),
        response: {
          200: Type.Object({ backtest: BacktestRef, initialEquity: Type.Number(), sessionsPerPeriod: Type.Integer(), periods: Type.Array(PeriodView) }),
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const b = await backtestOf(request.query);
      return { backtest: backtestRef(b), initialEquity: b.equity.initialEquity, sessionsPerPeriod: b.equity.sessionsPerPoint, periods: periodPnl(b.equity, deps.calendar.of(b.symbol)).map(periodView) };
    },
  );

  app.get(
    '/api/analytics/risk-metrics',
    {
      schema: {
        tags: TAGS,
        summary: 'Volatility, drawdown, Sortino and VaR/CVaR 95% over the sessions of a backtest',
        description:
          'Computed from the stored session PnL (src/research/analytics.ts): sample volatility annualized with the run\'s sessions per year, Sortino (target 0), ' +
          'historical VaR/CVaR 95% of the session returns and PnL (k = ceil(5% of n) worst sessions; positive = loss), and the deepest drawdown over every bar.',
        querystring: Type.Object(BacktestQuery),
        response: {
          200: Type.Object({
            backtest: BacktestRef,
            periods: Type.Integer(),
            sessionsPerPeriod: Type.Integer(),
            periodsPerYear: Type.Number(),
            meanReturn: Nullable(Type.Number()),
            volatility: Nullable(Type.Number({ description: 'Sample standard deviation of the period returns' })),
            annualizedVolatility: Nullable(Type.Number()),
            sortino: Nullable(Type.Number()),
            maxDrawdown: Nullable(Type.Number({ description: 'Positive fraction of the running peak' })),
            returns: TailRiskView,
            pnl: TailRiskView,
            worstPeriod: Nullable(PeriodView),
            bestPeriod: Nullable(PeriodView),
            positiveShare: Nullable(Type.Number({ description: 'Share of periods with PnL > 0' })),
          }),
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const b = await backtestOf(request.query);
      const calendar = deps.calendar.of(b.symbol);
      const r = riskMetrics(b.equity, b.metrics.barsPerYear, calendar.nominalBarCount(), calendar);
      return {
        backtest: backtestRef(b),
        ...r,
        worstPeriod: r.worstPeriod === null ? null : periodView(r.worstPeriod),
        bestPeriod: r.bestPeriod === null ? null : periodView(r.bestPeriod),
      };
    },
  );

  app.get(
    '/api/analytics/trade-distribution',
    {
      schema: {
        tags: TAGS,
        summary: 'Distribution of the trades of a backtest: returns histogram, holding times, wins and losses',
        description: 'Over the stored trades (the last 5,000 of a longer ledger: `tradesAnalyzed` < `tradesTotal` then).',
        querystring: Type.Object({ ...BacktestQuery, bins: Type.Integer({ minimum: 1, maximum: 200, default: 20, description: 'Histogram bins' }) }),
        response: {
          200: Type.Object({
            backtest: BacktestRef,
            tradesTotal: Type.Integer(),
            tradesAnalyzed: Type.Integer(),
            returnHistogram: Type.Array(
              Type.Object({ from: Type.Number(), to: Type.Number(), count: Type.Integer() }),
              { description: 'Equal-width bins of the trade returns (pnl / equity at entry), min to max' },
            ),
            holding: Type.Array(Type.Object({ label: Type.String(), minBars: Type.Integer(), maxBars: Nullable(Type.Integer()), count: Type.Integer() })),
            outcomes: Type.Object({
              trades: Type.Integer(),
              wins: Type.Integer(),
              losses: Type.Integer(),
              breakeven: Type.Integer(),
              long: Type.Integer(),
              short: Type.Integer(),
              averageWin: Nullable(Type.Number()),
              averageLoss: Nullable(Type.Number()),
              totalPnl: Type.Number(),
            }),
          }),
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const b = await backtestOf(request.query);
      const trades = b.trades.items;
      return {
        backtest: backtestRef(b),
        tradesTotal: b.trades.total,
        tradesAnalyzed: trades.length,
        returnHistogram: histogram(trades.map((t) => t.return), request.query.bins),
        holding: holdingBuckets(trades),
        outcomes: tradeOutcomes(trades),
      };
    },
  );

  return Promise.resolve();
};

function firstSymbol(deps: ServerDeps): string {
  const symbol = deps.symbols[0];
  if (symbol === undefined) throw new TasaError('not_found', 'This server serves no symbol.', { input: 'symbol' });
  return symbol;
}

async function mustGetModel(deps: ServerDeps, id: string): Promise<ModelSummary> {
  const model = await getModel(deps.db, id);
  if (model === null) throw new TasaError('not_found', `Model ${id} does not exist.`, { input: 'id', hint: 'GET /api/models lists them.' });
  return model;
}

/** Models as the registry shows them: with their test metrics and newest gate result. */
async function modelViews(deps: ServerDeps, models: readonly ModelSummary[]): Promise<ModelView[]> {
  const evaluations = await modelEvaluations(deps.db, models.map((m) => m.id));
  return models.map((m) => modelView(m, evaluations.get(m.id) ?? NOT_EVALUATED));
}

async function oneModelView(deps: ServerDeps, model: ModelSummary): Promise<ModelView> {
  const evaluations = await modelEvaluations(deps.db, [model.id]);
  return modelView(model, evaluations.get(model.id) ?? NOT_EVALUATED);
}

async function mustGetBacktest(deps: ServerDeps, id: number): Promise<StoredBacktest> {
  const b = await getBacktest(deps.db, id);
  if (b === null) throw new TasaError('not_found', `Backtest ${id} does not exist.`, { input: 'id', hint: 'GET /api/backtests lists them.' });
  return b;
}

/** The symbol's production model, else its newest candidate (PPO first); 404 when none. */
async function defaultModel(deps: ServerDeps, symbol: string): Promise<ModelSummary> {
  const model =
    (await productionModel(deps.db, symbol)) ??
    (await listModels(deps.db, { symbol, status: 'candidate', kind: 'ppo', limit: 1 }))[0] ??
    (await listModels(deps.db, { symbol, status: 'candidate', limit: 1 }))[0];
  if (model === undefined) throw new TasaError('not_found', `No model yet for ${symbol}: ${RUN_PIPELINE}`, { input: 'model' });
  return model;
}

/** See the module header; 404 when there is nothing to show. */
async function resolveBacktest(deps: ServerDeps, id: number | undefined, symbol: string): Promise<StoredBacktest> {
  if (id !== undefined) return mustGetBacktest(deps, id);
  const policy = (await productionModel(deps.db, symbol)) ?? (await listModels(deps.db, { symbol, kind: 'ppo', limit: 1 }))[0] ?? null;
  const [latest] = await listBacktests(deps.db, { symbol, limit: 1, ...(policy === null ? {} : { policyId: policy.id }) });
  if (latest === undefined) {
    const whose = policy === null ? symbol : `model ${policy.id} (${symbol})`;
    throw new TasaError('not_found', `No backtest yet for ${whose}: ${RUN_PIPELINE}`, { input: 'backtest' });
  }
  return mustGetBacktest(deps, latest.id);
}

/** Baseline policy ids: the built-in ones and any registered as baseline models of the symbol. */
async function baselinePolicyIds(deps: ServerDeps, symbol: string): Promise<string[]> {
  const registered = await listModels(deps.db, { symbol, kind: 'baseline', limit: 500 });
  return [...new Set([...BASELINE_IDS, ...registered.map((m) => m.id)])];
}

/** Why the model may not be promoted without force (its newest backtest did not pass the gates), or null. */
