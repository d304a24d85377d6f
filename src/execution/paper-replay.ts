/**
 * `tasa paper replay`: a policy traded by the strategy runner through the order service and a
 * bar-replay broker over stored bars, on a manual clock moved bar by bar, and its trades compared
 * one for one with L6's backtest of the same bars (evaluatePolicy: the same decisions, runBacktest,
 * the policy's costs).
 *
 * The replay, per bar: the clock at the bar's open, its open printed (the previous decision's
 * order fills there); the clock at its close (the flatten timer fires here at a session's end); the
 * final bar published on the bus (the runner decides and sends its order). After a session's last
 * bar: the clock at the session's close (working DAY orders expire), then the session's closing
 * price printed at its last bar's close (the flatten order fills there, as the backtest's
 * session-end exit). The broker charges the backtest's spread + fee as a fee and no slippage.
 *
 * `db` must hold the bars and should be a scratch store: the replay writes its orders, fills and
 * strategy there.
 */
import { performance } from 'node:perf_hooks';
import { createMemoryBus, type Bus } from '../bus/index.ts';
import { ManualClock } from '../clock.ts';
import type { Trade } from '../contracts/api/research.ts';
import type { BarUpdate } from '../contracts/bus-messages.ts';
import { BAR_MS } from '../domain/bar.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { toIsoUtc, type IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { withoutHourlySpread } from '../research/execution-model.ts';
import { computeFeatures } from '../research/features.ts';
import { DEFAULT_GATE_THRESHOLDS } from '../research/gates.ts';
import { computeIndicators } from '../research/indicators.ts';
import { sessionBarsPerYear } from '../research/performance.ts';
import { evaluatePolicy, rowsOfSessions, type PolicyUnderTest } from '../research/policy-evaluation.ts';
import { sessionRanges, toSeries } from '../research/series.ts';
import type { SeriesBar, TradingCosts } from '../research/types.ts';
import { isBaselineId } from '../research/baselines.ts';
import { loadPolicy, policyCosts, unknownPolicy } from '../research/policy-loading.ts';
import { barsBetween, streamBars, upsertBars } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { getModel, insertModel } from '../store/models-repo.ts';
import { openPglite } from '../store/pglite-driver.ts';
import { listFills } from '../store/trading-repo.ts';
import type { Fill, FillModelConfig } from '../trading/fill-model.ts';
import { parseBps, type UsdCents } from '../trading/money.ts';
import { BarReplayBroker } from './bar-replay-broker.ts';
import { OrderService, type OrderServiceConfig } from './order-service.ts';
import { backtestParityTrades, compareTrades, fillParityTrades, type ParityReport, type ParityTrade } from './parity.ts';
import { StrategyRunner } from './strategy-runner.ts';

export interface PaperReplayOptions {
  db: Db;
  calendar: Calendars;
  logger: Logger;
  symbol: SymbolCode;
  policyId: string;
  from: IsoDate;
  to: IsoDate;
  /** USD a full position aims at (default 10,000 USD). */
  targetNotional?: UsdCents;
  /** The costs the backtest charges and the broker takes as its fee; default the policy's own (`policyCosts`). */
  costs?: TradingCosts;
}

export interface PaperReplayResult {
  bars: number;
  sessions: number;
  costs: TradingCosts;
  /** The backtest's trades, and the replay's. */
  expected: ParityTrade[];
  actual: ParityTrade[];
  report: ParityReport;
  /** Wall time of the replay itself (not the backtest). */
  replayMs: number;
}

const REPLAY_STRATEGY_ID = 'replay';
/** The replay's own store is a scratch copy: its audit entries name the replay. */
const REPLAY_ACTOR = 'paper-replay';
const DEFAULT_NOTIONAL: UsdCents = 1_000_000n;
/** Under one bar, so the flatten order goes out after the last bar's open print and before the closing one. */
const REPLAY_FLATTEN_LEAD_MS = 1_000;

/**
 * A scratch store for a replay from `source`: in memory, migrated, holding the symbol's bars up to
 * the end of session date `to` in the symbol's market (`calendars`) and the policy's model (a
 * baseline needs none). The caller closes it.
 */
export async function openReplayStore(source: Db, calendars: Calendars, symbol: SymbolCode, policyId: string, to: IsoDate): Promise<Db> {
  const model = isBaselineId(policyId) ? null : await getModel(source, policyId);
  if (model === null && !isBaselineId(policyId)) throw unknownPolicy(policyId);
  const scratch = await openPglite({});
  try {
    await migrate(scratch);
    for await (const batch of streamBars(source, symbol, 0, endOfSessionDate(calendars, symbol, to))) await upsertBars(scratch, batch);
    if (model !== null) await insertModel(scratch, model);
    return scratch;
  } catch (err) {
    await scratch.close();
    throw err;
  }
}

export async function runPaperReplay(o: PaperReplayOptions): Promise<PaperReplayResult> {
  const under = await loadPolicy(o.db, o.policyId);
  // The paper broker takes one fee figure: a per-hour spread (from stored quotes) is replayed, on both sides, as its one overall figure.
  const costs = withoutHourlySpread(o.costs ?? policyCosts(under));
  const bars = await barsBetween(o.db, o.symbol, 0, endOfSessionDate(o.calendar, o.symbol, o.to));
  const series = toSeries(bars, o.calendar.of(o.symbol));
  const { start, end } = rowsOfSessions(series, o.from, o.to);
  const expected = backtestParityTrades(backtestTrades(o, series, start, end, under, costs));
  const began = performance.now();
  const fills = await replay(o, series.slice(start, end), costs);
  const actual = fillParityTrades(fills);
  return { bars: end - start, sessions: sessionRanges(series.slice(start, end)).length, costs, expected, actual, report: compareTrades(expected, actual), replayMs: performance.now() - began };
}

/** L6's evaluation of the policy over rows [start, end) of the series, as `tasa backtest` runs it (also the live parity monitor's). */
export function backtestTrades(
  o: Pick<PaperReplayOptions, 'symbol' | 'calendar' | 'from' | 'to'>,
  series: readonly SeriesBar[],
  start: number,
  end: number,
  under: PolicyUnderTest,
  costs: TradingCosts,
): Trade[] {
  const indicators = computeIndicators(series);
  const features = computeFeatures(series, indicators, under.inputs?.featureOptions ?? {});
  const evaluation = evaluatePolicy({ symbol: o.symbol, series, indicators, features, start, end }, under, {
    costs,
    initialEquity: 1,
    flatAtSessionEnd: true,
    thresholds: DEFAULT_GATE_THRESHOLDS,
    barsPerYear: sessionBarsPerYear(o.calendar.of(o.symbol), o.from, o.to),
    calendar: o.calendar.of(o.symbol),
    generatedAt: 0,
    datasetHash: null,
    reportConfig: { source: 'tasa paper replay' },
  });
  return evaluation.result.trades;
}

interface ReplayRig {
  clock: ManualClock;
  bus: Bus;
  broker: BarReplayBroker;
  service: OrderService;
  runner: StrategyRunner;
}

async function replay(o: PaperReplayOptions, bars: readonly SeriesBar[], costs: TradingCosts): Promise<Fill[]> {
  const session = o.calendar.of(o.symbol).sessionFor(bars[0]!.session);
  if (session === null) throw new TasaError('internal', `No calendar session for ${bars[0]!.session}.`);
  const rig = await startReplayRig(o, session.open - 1, costs);
  try {
    const settle = async () => {
      for (let i = 0; i < 2; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        await rig.runner.idle();
        await rig.service.idle();
      }
    };
    for (const range of sessionRanges(bars)) {
      for (let i = range.start; i < range.end; i++) await replayBar(rig, o.symbol, bars[i]!, settle);
      await closeSession(rig, o, bars[range.end - 1]!, settle);
    }
    return (await listFills(o.db, { limit: 10_000_000 })).filter((f) => f.symbol === o.symbol);
  } finally {
    await rig.runner.stop();
    await rig.service.stop();
    await rig.bus.close();
  }
}

async function startReplayRig(o: PaperReplayOptions, startAt: number, costs: TradingCosts): Promise<ReplayRig> {
  const clock = new ManualClock(startAt);
  const logger = o.logger;
  const bus = createMemoryBus({ clock, logger });
  const broker = new BarReplayBroker(clock, replayFillModel(costs));
  const notional = o.targetNotional ?? DEFAULT_NOTIONAL;
  const service = new OrderService({ db: o.db, broker, clock, calendar: o.calendar, logger, publish: () => undefined }, replayServiceConfig(o.symbol, notional));
  const runner = new StrategyRunner({ db: o.db, bus, clock, calendar: o.calendar, logger, orders: service }, { flattenLeadMs: REPLAY_FLATTEN_LEAD_MS });
  await service.start();
  await runner.start();
  await runner.enable({ id: REPLAY_STRATEGY_ID, symbol: o.symbol, policyId: o.policyId, targetNotional: notional }, REPLAY_ACTOR);
  return { clock, bus, broker, service, runner };
}

async function replayBar(rig: ReplayRig, symbol: SymbolCode, bar: SeriesBar, settle: () => Promise<void>): Promise<void> {
  await rig.clock.advanceTo(bar.time);
  rig.broker.print(symbol, bar.time, bar.open);
  await settle();
  await rig.clock.advanceTo(bar.time + BAR_MS);
  await settle();
  await rig.bus.publish('bars', symbol, finalBarEvent(bar));
  await settle();
}

async function closeSession(rig: ReplayRig, o: PaperReplayOptions, last: SeriesBar, settle: () => Promise<void>): Promise<void> {
  const session = o.calendar.of(o.symbol).sessionFor(last.session);
  if (session !== null) await rig.clock.advanceTo(session.close);
  await settle();
  rig.broker.print(o.symbol, last.time + BAR_MS, last.close);
  await settle();
}

/** The end of session date `date` in the symbol's market (`MarketCalendar.instantsOfDates`): its session's close, or its local midnight unless the next session opens before it. */
function endOfSessionDate(calendars: Calendars, symbol: SymbolCode, date: IsoDate): number {
  return calendars.of(symbol).instantsOfDates(date, date).to;
}

function finalBarEvent(bar: SeriesBar): BarUpdate {
  return { time: toIsoUtc(bar.time), open: bar.open, high: bar.high, low: bar.low, close: bar.close, tickCount: null, revision: 1, final: true, source: 'import' };
}

/** The backtest's cost model: the fill at the printed price, spread + fee + slippage bps charged as the fee. */
function replayFillModel(costs: TradingCosts): FillModelConfig {
  return { slippageBps: 0n, feeBps: parseBps(costs.spreadBps + costs.feeBps + (costs.slippageBps ?? 0), 'replay cost bps'), fixedFee: 0n, maxFillPerTick: null };
}

/** Limits that let every decision through: a reversal is twice the notional; the loss limit is out of reach. */
function replayServiceConfig(symbol: SymbolCode, notional: UsdCents): OrderServiceConfig {
  return {
    symbols: [symbol],
    initialCash: 10n ** 15n,
    limits: { maxPosition: notional, maxOrderSize: 2n * notional, maxOrdersPerMinute: 1_000_000, dailyLossLimit: 10n ** 15n, reduceOnlyLoss: null, flattenOnHalt: false },
    band: { maxDeviationBps: 1_000_000n },
  };
}
