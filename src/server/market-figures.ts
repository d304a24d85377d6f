/**
 * Figures the market routes serve, from stored bars and the latest-price cache: a session's
 * OHLC and quality, the latest price, and session statistics. A figure that is not there is
 * null (or a 404 when the whole answer would be empty), never a made-up value.
 */
import { BAR_MS, isSimulatedSource, type Bar } from '../domain/bar.ts';
import type { MarketCalendar, Session } from '../domain/calendar.ts';
import { sessionQuality, type SessionQuality } from '../domain/session-quality.ts';
import { adjacentLogReturns, annualizedRealizedVolatility, sessionOhlc, tradingDaysInYear } from '../domain/session-stats.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { toIsoUtc, type IsoDate } from '../domain/time.ts';
import type { Ohlc } from '../domain/bar.ts';
import { TasaError } from '../errors.ts';
import { cachedLatestPrice } from '../bus/index.ts';
import { barsBetween, lastBarBefore } from '../store/bars-repo.ts';
import type { ServerDeps } from './deps.ts';

const WEEKDAY_NAMES = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The session open at `now`, else the latest one that has closed. */
export function latestSession(calendar: MarketCalendar, now: number): Session {
  return calendar.sessionAt(now) ?? calendar.previousSession(now);
}

/** The session on `date`; a 404 naming the holiday or weekend when there is none, or when it has not opened yet. */
export function sessionOnDate(calendar: MarketCalendar, date: IsoDate, now: number): Session {
  const day = calendar.dayInfo(date);
  const session = calendar.sessionFor(date);
  if (session === null) {
    const { name, weekdays } = calendar.instrument.market;
    const days = weekdays.map((d) => WEEKDAY_NAMES[d]).join(', ');
    const why = day.holiday !== null ? `a holiday of ${name} (${day.holiday})` : `a ${WEEKDAY_NAMES[day.weekday] ?? 'weekend day'}; ${name} has sessions dated ${days}`;
    throw new TasaError('not_found', `${date} is not a trading day: ${why}.`, { input: `date=${date}` });
  }
  if (session.open > now) {
    throw new TasaError('not_found', `The session of ${date} has not opened yet (it opens at ${toIsoUtc(session.open)}).`, { input: `date=${date}` });
  }
  return session;
}

export interface SessionSummary {
  session: Session;
  inProgress: boolean;
  /** Grid slots whose 5 minutes have passed (the whole session once closed). */
  expectedSoFar: number;
  ohlc: Ohlc | null;
  quality: SessionQuality;
  lastBarAt: number | null;
  bars: Bar[];
}

/** The session's figures from its bars stored so far (open time before `now`). */
export async function sessionSummary(deps: Pick<ServerDeps, 'db'>, symbol: SymbolCode, session: Session, now: number): Promise<SessionSummary> {
  return summaryOf(symbol, session, now, await barsBetween(deps.db, symbol, session.open, Math.min(session.close, now)));
}

function summaryOf(symbol: SymbolCode, session: Session, now: number, bars: Bar[]): SessionSummary {
  return {
    session,
    inProgress: now >= session.open && now < session.close,
    expectedSoFar: Math.max(0, Math.min(session.barCount, Math.floor((now - session.open) / BAR_MS))),
    ohlc: sessionOhlc(bars),
    quality: sessionQuality(symbol, session, bars),
    lastBarAt: bars.at(-1)?.time ?? null,
    bars,
  };
}

export interface MarketStats {
  last: number | null;
  lastSource: 'latest_price' | 'stored_bar' | null;
  lastAt: number | null;
  previousSession: Session;
  previousClose: number | null;
  change: number | null;
  changePct: number | null;
  current: SessionSummary;
  realizedVolatility: number | null;
  returns: number;
  tradingDaysPerYear: number;
  provenance: StatsProvenance;
}

/**
 * Stats are figures of one provenance class (see `isSimulatedSource`): that of the latest price
 * (the live cache's tick source, else the last stored bar's). Bars of the other class are left
 * out of the session range, the volatility and the previous close, and counted here, so that a
 * simulated price is never compared with a real close (or the other way round).
 */
export interface StatsProvenance {
  /** The class of every figure; null when there is no price at all. */
  simulated: boolean | null;
  /** Bars of the other class left out (this session's so far, and the previous session's). */
  excludedBars: number;
}

/** Last price, change vs the previous session's close, the latest session's range and realized volatility. */
export async function marketStats(deps: Pick<ServerDeps, 'db' | 'bus' | 'calendar'>, symbol: SymbolCode, now: number): Promise<MarketStats> {
  const calendar = deps.calendar.of(symbol);
  const session = latestSession(calendar, now);
  const previousSession = calendar.previousSession(session.open);
  const [sessionBars, cached, stored, previousBars] = await Promise.all([
    barsBetween(deps.db, symbol, session.open, Math.min(session.close, now)),
    cachedLatestPrice(deps.bus, symbol),
    lastBarBefore(deps.db, symbol, now),
    barsBetween(deps.db, symbol, previousSession.open, previousSession.close),
  ]);
  // A cached tick from anything but TwelveData's stream makes simulated bars (the aggregator's barSourceOf).
  const simulated = cached ? cached.source !== 'twelvedata_ws' : stored ? isSimulatedSource(stored.source) : null;
  const own = (b: Bar): boolean => simulated === null || isSimulatedSource(b.source) === simulated;
  const current = summaryOf(symbol, session, now, sessionBars.filter(own));
  // The previous session's close is its own last bar (of the same class): an older bar would be another day's close.
  const previousClose = previousBars.filter(own).at(-1)?.close ?? null;
  const excludedBars = sessionBars.length - current.bars.length + previousBars.filter((b) => !own(b)).length;
  const last = cached ? { value: cached.price, source: 'latest_price' as const, at: Date.parse(cached.timestamp) } : stored ? { value: stored.close, source: 'stored_bar' as const, at: stored.time } : null;
  const returns = adjacentLogReturns(current.bars);
  const tradingDaysPerYear = tradingDaysInYear(calendar, Number(session.date.slice(0, 4)));
  // Prices carry at most a few decimals: drop the binary-subtraction noise (4146.49 - 4149.32 = -2.8299999999999272).
  const change = last !== null && previousClose !== null ? Math.round((last.value - previousClose) * 1e6) / 1e6 : null;
  return {
    last: last?.value ?? null,
    lastSource: last?.source ?? null,
    lastAt: last?.at ?? null,
    previousSession,
    previousClose,
    change,
    changePct: change !== null && previousClose !== null ? (change / previousClose) * 100 : null,
    current,
    realizedVolatility: annualizedRealizedVolatility(returns, session.barCount, tradingDaysPerYear),
    returns: returns.length,
    tradingDaysPerYear,
    provenance: { simulated, excludedBars },
  };
}
