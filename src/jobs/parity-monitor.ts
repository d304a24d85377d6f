/**
 * The live parity monitor (job `parity`, after the close): for each strategy that traded the
 * session that closed last, L6's backtest of that session's stored bars under the strategy's
 * policy and costs (every stored bar before the session warms the policy up, as in
 * `tasa paper replay`) is compared with the round trips of the strategy's own paper fills (its
 * orders, `s.<id>.<bar time>`, and any other order placed for it) in that session.
 *
 * The rule: live fills happen on ticks, the backtest's at bar opens and at the session's close.
 * What must agree is compared exactly: the number of round trips, their sides, and the bar of each
 * entry and exit (a time's bar is the session's 5-minute slot holding it; the close counts in the
 * last bar, where the runner's flatten fills). Prices are not compared: their difference, as the
 * mean absolute bps of the backtest's price over the trades whose bars agree, is a figure.
 *
 * A difference raises (or refreshes) one open `parity_mismatch` alert per strategy, naming the
 * session and the first differing trade; a later run that agrees resolves it. Each run is recorded
 * in `pipeline_runs` (layer `parity`): the record the API and /metrics read (store/parity-repo.ts),
 * so they show it whichever process ran the job.
 */
import type { Clock } from '../clock.ts';
import { barOpenTime } from '../domain/bar.ts';
import type { Calendars, Session } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import { backtestTrades } from '../execution/paper-replay.ts';
import { backtestParityTrades, compareTrades, fillParityTrades, formatParityTrade, type ParityField, type ParityReport, type ParityTrade } from '../execution/parity.ts';
import { rowsOfSessions } from '../research/policy-evaluation.ts';
import { loadPolicy, policyCosts } from '../research/policy-loading.ts';
import { toSeries } from '../research/series.ts';
import { raiseAlert, resolveAlert } from '../store/alerts-repo.ts';
import { barsBetween } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { recordedRun, type RunOutcome } from '../store/recorded-run.ts';
import { listStrategies, type Strategy } from '../store/strategies-repo.ts';
import { listFills, type StoredFill } from '../store/trading-repo.ts';

export const PARITY_ALERT_KIND = 'parity_mismatch';

export interface ParityMonitorOptions {
  db: Db;
  calendar: Calendars;
  clock: Clock;
}

export interface StrategyParity {
  strategy: string;
  symbol: string;
  policyId: string;
  /** Round trips compared (the longer of the two lists) and those that agree. */
  compared: number;
  matched: number;
  /** The first trade that differs, in words; null when all agree. */
  firstDifference: { index: number; fields: ParityField[]; backtest: string; live: string } | null;
  /** Mean absolute entry and exit price difference of the trades whose bars agree, bps; null when none do. */
  priceDiffBps: number | null;
  alert: 'raised' | 'repeated' | 'resolved' | null;
}

export interface ParityMonitorResult {
  session: IsoDate;
  runId: number;
  strategies: StrategyParity[];
}

/** What must agree exactly; the prices are a figure. */
const TIMING: readonly ParityField[] = ['side', 'entryTime', 'exitTime'];
/** Far above a session's fills for one strategy (two orders a bar at most). */
const MAX_SESSION_FILLS = 100_000;
const BPS = 10_000;

/** Each strategy is compared on its own market's last closed session; `session` is the latest of those dates. */
export async function runParityMonitor(o: ParityMonitorOptions): Promise<ParityMonitorResult> {
  const now = o.clock.now();
  const all = await listStrategies(o.db);
  const sessionOf = (symbol: SymbolCode) => o.calendar.of(symbol).previousSession(now);
  const dates = o.calendar.all().map((c) => c.previousSession(now).date);
  const latest = dates.reduce((a, b) => (b > a ? b : a));
  const header = { layer: 'parity', symbol: null, params: { session: latest } };
  return recordedRun(o.db, o.clock, header, (runId) => compareSessions(o, all, sessionOf, latest, runId), runOutcome);
}

async function compareSessions(o: ParityMonitorOptions, all: readonly Strategy[], sessionOf: (symbol: SymbolCode) => Session, latest: IsoDate, runId: number): Promise<ParityMonitorResult> {
  const strategies: StrategyParity[] = [];
  for (const strategy of all) {
    const session = sessionOf(strategy.symbol);
    const fills = await listFills(o.db, { from: session.open, to: session.close + 1, strategyId: strategy.id, limit: MAX_SESSION_FILLS });
    if (fills.length > 0) strategies.push(await compareStrategy(o, session, strategy, fills));
  }
  return { session: latest, runId, strategies };
}

async function compareStrategy(o: ParityMonitorOptions, session: Session, strategy: Strategy, fills: readonly StoredFill[]): Promise<StrategyParity> {
  const expected = onSessionBars(await sessionBacktest(o, session, strategy), session);
  const actual = onSessionBars(fillParityTrades(fills), session);
  const report = compareTrades(expected, actual, TIMING);
  const parity = {
    strategy: strategy.id,
    symbol: strategy.symbol,
    policyId: strategy.policyId,
    compared: report.total,
    matched: report.matched,
    firstDifference: describeDifference(report),
    priceDiffBps: meanPriceDiffBps(expected, actual),
  };
  return { ...parity, alert: await reconcileAlert(o, session, parity) };
}

/** L6's trades on the session's stored bars, with the strategy's policy and costs. */
async function sessionBacktest(o: ParityMonitorOptions, session: Session, strategy: Strategy): Promise<ParityTrade[]> {
  const under = await loadPolicy(o.db, strategy.policyId);
  const series = toSeries(await barsBetween(o.db, strategy.symbol, 0, session.close), o.calendar.of(strategy.symbol));
  const { start, end } = rowsOfSessions(series, session.date, session.date);
  const span = { symbol: strategy.symbol, calendar: o.calendar, from: session.date, to: session.date };
  return backtestParityTrades(backtestTrades(span, series, start, end, under, policyCosts(under)));
}

/** Each entry and exit time as the open of the session bar holding it; the close counts in the last bar. */
function onSessionBars(trades: readonly ParityTrade[], session: Session): ParityTrade[] {
  const bar = (time: number) => barOpenTime(Math.min(time, session.close - 1));
  return trades.map((t) => ({ ...t, entryTime: bar(t.entryTime), exitTime: bar(t.exitTime) }));
}

function describeDifference(report: ParityReport): StrategyParity['firstDifference'] {
  const d = report.firstDifference;
  if (d === null) return null;
  return { index: d.index, fields: d.fields, backtest: formatParityTrade(d.expected), live: formatParityTrade(d.actual) };
}

function meanPriceDiffBps(expected: readonly ParityTrade[], actual: readonly ParityTrade[]): number | null {
  const diffs: number[] = [];
  const bps = (live: bigint, backtest: bigint) => Math.abs((Number(live - backtest) / Number(backtest)) * BPS);
  expected.forEach((e, i) => {
    const a = actual[i];
    if (a === undefined || TIMING.some((f) => e[f] !== a[f])) return;
    diffs.push(bps(a.entryPrice, e.entryPrice), bps(a.exitPrice, e.exitPrice));
  });
  return diffs.length === 0 ? null : diffs.reduce((sum, d) => sum + d, 0) / diffs.length;
}

async function reconcileAlert(o: ParityMonitorOptions, session: Session, p: Omit<StrategyParity, 'alert'>): Promise<StrategyParity['alert']> {
  const dedupeKey = `${PARITY_ALERT_KIND}:${p.strategy}`;
  const at = o.clock.now();
  if (p.firstDifference === null) return (await resolveAlert(o.db, dedupeKey, at)) ? 'resolved' : null;
  const d = p.firstDifference;
  const message =
    `Strategy ${p.strategy} (${p.symbol}, ${p.policyId}) ${session.date}: ${p.matched} of ${p.compared} paper trades agree with the backtest; ` +
    `first difference at trade ${d.index + 1} (${d.fields.join(', ')}): backtest ${d.backtest}, live ${d.live}.`;
  const { created } = await raiseAlert(o.db, { kind: PARITY_ALERT_KIND, severity: 'warning', symbol: p.symbol, message, details: { session: session.date, ...p }, dedupeKey, at });
  return created ? 'raised' : 'repeated';
}

/** A mismatch is a finding, not a failed run: the alert carries it. */
function runOutcome(r: ParityMonitorResult): RunOutcome {
  const sum = (pick: (s: StrategyParity) => number) => r.strategies.reduce((total, s) => total + pick(s), 0);
  return { status: 'completed', error: null, rowsIn: sum((s) => s.compared), rowsOut: sum((s) => s.matched), summary: { session: r.session, strategies: r.strategies } };
}
