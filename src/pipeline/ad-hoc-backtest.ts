/**
 * `tasa backtest`: one policy (a registered model or a baseline) over any range of sessions,
 * outside the pipeline's splits. Indicators and features are computed over every stored bar up
 * to the range's end, so their values inside the range are exactly the pipeline's. A model sees
 * its features normalized as in its training dataset and pays that dataset's costs (the research
 * config's when `chargeResearchCosts`, i.e. cost flags were given); a baseline pays the research
 * config's costs (the default dataset costs without one). Gates and trials come from the research
 * config, whose hash is recorded with the run. The run is stored in `backtests` (no pipeline run, no dataset hash).
 * One provenance per backtest: a range holding both simulated (source simulator) and real bars
 * is refused, and the warm-up before the range stops at the last bar of the other provenance.
 */
import type { Clock } from '../clock.ts';
import { isSimulatedSource, type Bar } from '../domain/bar.ts';
import { sessionDateOf, type Calendars } from '../domain/calendar.ts';
import { instrumentOf, normalizeSymbol } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { computeFeatures } from '../research/features.ts';
import { computeIndicators } from '../research/indicators.ts';
import { sessionBarsPerYear } from '../research/performance.ts';
import { evaluatePolicy, rowsOfSessions, type PolicyEvaluation } from '../research/policy-evaluation.ts';
import { loadPolicy, policyCosts, type LoadedPolicy } from '../research/policy-loading.ts';
import { researchConfigFor, type ResolvedResearchConfig } from '../research/research-config.ts';
import { chooseSpread, tradingCostsOf, type SpreadChoice } from '../research/spread-estimate.ts';
import { toSeries } from '../research/series.ts';
import type { FeatureTable, SeriesBar, TradingCosts } from '../research/types.ts';
import { storedBarsSummary } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { loadBars, timeRange } from './layers/l1-standardized.ts';
import { resolveBacktestConfig, storeBacktests, type BacktestConfig } from './layers/l6-backtest.ts';

export interface AdHocBacktestOptions {
  db: Db;
  calendar: Calendars;
  clock: Clock;
  symbol: string;
  policyId: string;
  from: IsoDate;
  to: IsoDate;
  backtest?: Omit<BacktestConfig, 'split' | 'baselines'>;
  /** Costs (the spread possibly from stored quotes), gates and trials; see the file comment. */
  research?: ResolvedResearchConfig;
  /** Charge a model the research config's costs instead of its training costs. */
  chargeResearchCosts?: boolean;
}

export interface AdHocBacktest {
  evaluation: PolicyEvaluation;
  backtestId: number;
  costs: TradingCosts;
  /** Where the costs came from, in words. */
  costSource: string;
}

export async function backtestOverRange(o: AdHocBacktestOptions): Promise<AdHocBacktest> {
  const loaded = await loadPolicy(o.db, o.policyId);
  const config = resolveBacktestConfig({ ...o.backtest, ...researchBacktest(o.research), gates: { ...o.research?.config.gates, ...o.backtest?.gates } });
  const stored = await storedBarsSummary(o.db, o.symbol);
  if (stored.first === null) throw new TasaError('not_found', `No bars of ${o.symbol} are stored; import history first (tasa import).`, { input: o.symbol });
  const calendar = o.calendar.of(o.symbol);
  const first = sessionDateOf(calendar, stored.first);
  if (o.to < first) throw new TasaError('not_found', `The stored bars of ${o.symbol} start on ${first}, after --to ${o.to}.`, { input: o.to });
  const bars = oneProvenance(await loadBars(o.db, o.symbol, timeRange(calendar, first, o.to)), timeRange(calendar, o.from, o.to).fromMs, o);
  const series = toSeries(bars, calendar);
  const indicators = computeIndicators(series);
  // Only a model reads features; the baselines read the bar, their indicators and their position.
  const features = loaded.inputs === null ? noFeatures(series) : computeFeatures(series, indicators, loaded.inputs.featureOptions);
  const { start, end } = rowsOfSessions(series, o.from, o.to);
  const { costs, costSource, spread } = await costsOf(o, loaded);
  const evaluation = evaluatePolicy({ symbol: o.symbol, series, indicators, features, start, end }, loaded, {
    costs,
    initialEquity: config.initialEquity,
    flatAtSessionEnd: config.flatAtSessionEnd,
    thresholds: config.gates,
    barsPerYear: sessionBarsPerYear(calendar, o.from, o.to),
    calendar,
    generatedAt: o.clock.now(),
    datasetHash: null,
    reportConfig: { range: `${o.from}..${o.to}`, source: 'tasa backtest', costs: costSource },
    ...(config.trials === null ? {} : { trials: config.trials }),
  });
  const lineage = o.research === undefined ? {} : { research: { hash: o.research.hash, source: o.research.source }, ...(spread === null ? {} : { spread: spread.note }) };
  const [backtestId] = await storeBacktests(o.db, o.clock, o.symbol, [evaluation], { pipelineRunId: null, datasetHash: null, config: { gates: config.gates, source: 'tasa backtest', ...lineage } }, calendar);
  return { evaluation, backtestId: backtestId!, costs, costSource };
}

/** A feature table without features, aligned with `series`. */
function noFeatures(series: readonly SeriesBar[]): FeatureTable {
  return { names: [], times: Float64Array.from(series, (b) => b.time), sessions: series.map((b) => b.session), columns: [] };
}

function researchBacktest(research: ResolvedResearchConfig | undefined): Pick<BacktestConfig, 'trials'> {
  const trials = research?.config.trials;
  return trials === undefined || trials === null ? {} : { trials };
}

/** The costs charged to `loaded` and where they come from (see the file comment). */
async function costsOf(o: AdHocBacktestOptions, loaded: LoadedPolicy): Promise<{ costs: TradingCosts; costSource: string; spread: SpreadChoice | null }> {
  const research = o.research;
  if (research === undefined || (loaded.kind === 'ppo' && o.chargeResearchCosts !== true)) {
    return { costs: policyCosts(loaded), costSource: loaded.kind === 'ppo' ? "the model's training costs" : 'the default costs', spread: null };
  }
  const symbol = normalizeSymbol(o.symbol);
  const costsConfig = researchConfigFor(research, instrumentOf(symbol).costs).config.costs;
  const spread = await chooseSpread(o.db, symbol, costsConfig, o.calendar.of(symbol));
  return { costs: tradingCostsOf(costsConfig, spread), costSource: `research config (${research.source}): ${spread.note}`, spread };
}

/**
 * The bars a backtest may use: a range holding simulated and real bars is refused (a result over
 * both would describe neither market); before the range, only bars back to the last one of the
 * other provenance, so that indicators and features never run across the change.
 */
function oneProvenance(bars: readonly Bar[], fromMs: number, o: AdHocBacktestOptions): Bar[] {
  const inRange = bars.filter((b) => b.time >= fromMs);
  const simulated = inRange.filter((b) => isSimulatedSource(b.source)).length;
  if (simulated > 0 && simulated < inRange.length) {
    throw new TasaError(
      'bad_argument',
      `${o.from}..${o.to} of ${o.symbol} holds ${simulated} simulated bars (source simulator) and ${inRange.length - simulated} real ones; a backtest runs over one of the two.`,
      { input: `${o.from}..${o.to}`, hint: `Choose a range of one provenance: the segments of GET /api/candlesticks/${o.symbol}?interval=1day show where it changes.` },
    );
  }
  const simulatedRange = simulated > 0;
  const cut = bars.findLastIndex((b) => b.time < fromMs && isSimulatedSource(b.source) !== simulatedRange);
  return bars.slice(cut + 1);
}
