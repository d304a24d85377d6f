/**
 * `GET /market/latest` (the latest price from the live cache), `GET /market/status` (open or
 * closed, next open and close, holidays) and `GET /market/session` (one session's OHLC and data
 * quality from the stored bars).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { cachedLatestPrice } from '../../bus/index.ts';
import type { Session } from '../../domain/calendar.ts';
import type { SymbolCode } from '../../domain/symbol.ts';
import { marketStatus } from '../../domain/market-status.ts';
import { toIsoUtc, toZonedText } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { latestSession, sessionOnDate, sessionSummary, type SessionSummary } from '../market-figures.ts';
import { LatestBody, MarketStatusBody, type SessionRef } from '../../contracts/api/market.ts';
import { IsoTimeUtc, Nullable } from '../../contracts/api/schema-kit.ts';
import { DateString, SymbolString } from '../market-inputs.ts';
import { calendarDate, servedOrDefault } from '../request-inputs.ts';

/** As the original system's `/market/latest`: no symbol means the default instrument (the first of TASA_SYMBOLS). */
const DefaultSymbolQuery = Type.Object({ symbol: Type.Optional(SymbolString) });

const SessionBody = Type.Object(
  {
    symbol: Type.String(),
    date: Type.String({ description: "The session's date in the market's own calendar (its trade date; Bogota for USD/COP)" }),
    open: IsoTimeUtc,
    close: IsoTimeUtc,
    inProgress: Type.Boolean({ description: 'The session is open now: figures are so far' }),
    nextDaySettlement: Type.Boolean(),
    usHoliday: Nullable(Type.String()),
    ohlc: Nullable(
      Type.Object({ open: Type.Number(), high: Type.Number(), low: Type.Number(), close: Type.Number() }),
      'From the stored 5-minute bars; null when none is stored',
    ),
    bars: Type.Object({
      present: Type.Integer(),
      expected: Type.Integer({ description: 'Bars in a full session (60)' }),
      expectedSoFar: Type.Integer({ description: 'Slots that have ended by now' }),
      missing: Type.Integer(),
      coverage: Type.Number({ description: 'present / expected' }),
      flatShare: Nullable(Type.Number(), 'Share of present bars with open = high = low = close'),
      repaired: Type.Integer({ description: 'Bars whose timestamp was repaired' }),
    }),
    status: Type.Union([Type.Literal('complete'), Type.Literal('partial'), Type.Literal('missing')]),
    lastBarAt: Nullable(IsoTimeUtc),
  },
  { description: 'One session: OHLC and data quality computed from the stored bars (the same rule as the sessions table).' },
);

export const marketRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/market/latest',
    {
      schema: {
        tags: ['market'],
        summary: 'Latest price',
        description:
          'The latest tick of the symbol (default: the first instrument this server ingests) from the live cache: price, bid/ask/spread when known, exchange time and its age. 404 while no tick has been received.',
        querystring: DefaultSymbolQuery,
        response: { ...COMMON_ERRORS, 200: LatestBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const symbol = servedOrDefault(deps.symbols, request.query.symbol);
      const latest = await cachedLatestPrice(deps.bus, symbol);
      if (latest === null) {
        throw new TasaError('not_found', `No price for ${symbol} yet: no tick has been received in the last 24 h.`, {
          input: `symbol=${symbol}`,
          hint: 'Prices arrive while the market is open and ingestion runs (tasa up or tasa ingest); GET /api/stats gives the last stored close.',
        });
      }
      return { ...latest, symbol, ageSeconds: Math.max(0, (deps.clock.now() - Date.parse(latest.timestamp)) / 1000) };
    },
  );

  app.get(
    '/market/status',
    {
      schema: {
        tags: ['market'],
        summary: 'Market open or closed',
        description:
          "The instrument's market (default: the first this server ingests): now in UTC and the market's own time, session hours, next open and close, the holiday or weekend closing today, and (USD/COP) US-holiday next-day settlement.",
        querystring: DefaultSymbolQuery,
        response: { ...COMMON_ERRORS, 200: MarketStatusBody },
      },
    },
    (request) => marketStatusBody(deps, servedOrDefault(deps.symbols, request.query.symbol)),
  );

  app.get(
    '/market/session',
    {
      schema: {
        tags: ['market'],
        summary: 'One session: OHLC and data quality',
        description:
          'The session of `date` (default: the session open now, else the latest one): OHLC from the stored 5-minute bars, bars present and expected, coverage, flat share, repaired bars, status. 404 for a weekend, a holiday (named) or a session not opened yet.',
        querystring: Type.Object({ symbol: SymbolString, date: Type.Optional(DateString) }),
        response: { ...COMMON_ERRORS, 200: SessionBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const symbol = servedOrDefault(deps.symbols, request.query.symbol);
      const now = deps.clock.now();
      const date = request.query.date;
      const calendar = deps.calendar.of(symbol);
      const session = date === undefined ? latestSession(calendar, now) : sessionOnDate(calendar, calendarDate('date', date), now);
      return sessionBody(symbol, await sessionSummary(deps, symbol, session, now));
    },
  );
  return Promise.resolve();
};

function sessionRef(s: Session): SessionRef {
  return { date: s.date, open: toIsoUtc(s.open), close: toIsoUtc(s.close), nextDaySettlement: s.nextDaySettlement, usHoliday: s.usHoliday };
}

function marketStatusBody(deps: ServerDeps, symbol: SymbolCode): MarketStatusBody {
  const calendar = deps.calendar.of(symbol);
  const m = marketStatus(calendar, deps.clock.now());
  return {
    symbol,
    time: toIsoUtc(m.now),
    localTime: toZonedText(calendar.zone, m.now),
    timeZone: calendar.zone,
    open: m.open,
    sessionHours: m.sessionHours,
    today: {
      date: m.today.date,
      tradingDay: m.today.tradingDay,
      weekend: m.weekend,
      holiday: m.today.holiday,
      usHoliday: m.today.usHoliday,
      nextDaySettlement: m.today.nextDaySettlement,
    },
    currentSession: m.current ? sessionRef(m.current) : null,
    nextSession: sessionRef(m.next),
    nextOpen: toIsoUtc(m.nextOpen),
    nextClose: toIsoUtc(m.nextClose),
    secondsToNextChange: ((m.open ? m.nextClose : m.nextOpen) - m.now) / 1000,
  };
}

function sessionBody(symbol: string, s: SessionSummary): Static<typeof SessionBody> {
  const q = s.quality;
  return {
    symbol,
    date: s.session.date,
    open: toIsoUtc(s.session.open),
    close: toIsoUtc(s.session.close),
    inProgress: s.inProgress,
    nextDaySettlement: s.session.nextDaySettlement,
    usHoliday: s.session.usHoliday,
    ohlc: s.ohlc,
    bars: { present: q.present, expected: q.expected, expectedSoFar: s.expectedSoFar, missing: q.missing, coverage: q.present / q.expected, flatShare: q.flatShare, repaired: q.repaired },
    status: q.status,
    lastBarAt: s.lastBarAt === null ? null : toIsoUtc(s.lastBarAt),
  };
}
