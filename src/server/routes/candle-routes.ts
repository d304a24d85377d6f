/**
 * `GET /api/candlesticks/{symbol}` (candles resampled from the stored 5-minute bars inside
 * sessions, 1min built from the stored ticks, optionally with indicators) and `GET /api/stats/{symbol}` (last price, change,
 * session range, realized volatility).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CANDLESTICK_INTERVALS } from '../../contracts/candle-intervals.ts';
import { MINUTE_CANDLES_TEXT } from '../../domain/minute-candles.ts';
import { CANDLE_INTERVALS_TEXT, provenanceSegments, type Candle, type ProvenanceSegment } from '../../domain/resample.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { INDICATOR_NAMES } from '../../research/types.ts';
import { indicatorValues, parseIndicatorNames } from '../candle-indicators.ts';
import { loadCandles } from '../candle-query.ts';
import { CandleWindows } from '../candle-window.ts';
import { RecentBodies, sendJson } from '../recent-bodies.ts';
import { firstTickTime } from '../../store/ticks-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { marketStats, type MarketStats } from '../market-figures.ts';
import { CandlesResponse, StatsResponse, VOLATILITY_FORMULA, type CandleBody } from '../../contracts/api/candles.ts';
import { SymbolString, calendarInstant } from '../market-inputs.ts';
import { servedSymbol } from '../request-inputs.ts';

const DEFAULT_LIMIT = 300;
/** Serialized candle bodies kept (the latest pages charts ask for; keys change when the store does). */
const BODY_CACHE_SIZE = 64;
const MAX_LIMIT = 5000;

const SymbolPath = Type.Object({ symbol: SymbolString });

const CandleQuerystring = Type.Object({
  interval: Type.Union(
    CANDLESTICK_INTERVALS.map((i) => Type.Literal(i)),
    { default: '5min', description: `Bucket size. ${CANDLE_INTERVALS_TEXT} ${MINUTE_CANDLES_TEXT}` },
  ),
  from: Type.Optional(Type.String({ description: "First bucket open: a session date of the market's own calendar (YYYY-MM-DD; Bogota for USD/COP, EUR/USD's opens 17:00 New York the day before) or an ISO 8601 time with Z/offset. With it, the first `limit` candles from there.", examples: ['2024-01-02', '2024-01-02T13:00:00Z'] })),
  to: Type.Optional(Type.String({ description: "Buckets opening before this (a date means through that session date of the market's own calendar; Bogota for USD/COP). Default: now.", examples: ['2024-01-31'] })),
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'Most candles returned; without `from`, the latest ones' }),
  indicators: Type.Optional(
    Type.String({
      description: `Comma-separated, at every interval: ${INDICATOR_NAMES.join(', ')}. Computed over the returned candles, warmed up on earlier candles of the same interval and provenance exactly as GET /api/candlesticks/{symbol}/indicators; null until warmed up.`,
      examples: ['ema20,rsi14'],
    }),
  ),
});

export const candleRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  const windows = new CandleWindows(deps.db, deps.calendar);
  app.addHook('onClose', () => windows.close());
  const bodies = new RecentBodies(BODY_CACHE_SIZE);
  app.get(
    '/api/candlesticks/:symbol',
    {
      schema: {
        tags: ['market'],
        summary: 'Candles (OHLC) from the stored 5-minute bars (1min: from the stored ticks)',
        description:
          "Resampled inside sessions, in the market's own zone: buckets open at the session open (USD/COP: 08:00 Bogota) and never span two sessions; USD/COP's 4h is 08:00-12:00 and 12:00-13:00, 1day is the session, 1w the market's trading week (Monday start; see interval)." +
          ' 1min is built from the stored ticks, so it exists only where ticks are kept (ticksFrom: the oldest), one candle per minute with ticks (gaps stay gaps). Each candle says how many 5-minute bars it holds and whether it is complete. Without `from`: the latest `limit` candles before `to`. Provenance: a candle holds only simulated (source simulator) or only real bars; a bucket where the provenance changes is split at the change (the second candle opens at its first bar), `segments` lists the runs of each, and indicators restart at each change (warm-up only from bars of the same provenance).',
        params: SymbolPath,
        querystring: CandleQuerystring,
        response: { ...COMMON_ERRORS, 200: CandlesResponse, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const symbol = servedSymbol(deps.symbols, request.params.symbol);
      const q = request.query;
      const indicators = q.indicators === undefined || q.indicators.trim() === '' ? [] : parseIndicatorNames(q.indicators);
      const to = q.to === undefined ? deps.clock.now() : calendarInstant('to', q.to, 'end', deps.calendar.of(symbol));
      const from = q.from === undefined ? null : calendarInstant('from', q.from, 'start', deps.calendar.of(symbol));
      if (from !== null && from >= to) throw new TasaError('bad_argument', `from ${q.from} is not before to ${q.to ?? 'now'}.`, { input: `from=${q.from}` });
      const interval = q.interval;
      // 1min is built from ticks, not from the window's bars: always from the store.
      const recent = from === null && interval !== '1min' ? await windows.latest(symbol, interval, to, q.limit) : null;
      // Without indicators, the body depends only on the window's answer: serialized once per answer.
      const bodyKey = recent !== null && indicators.length === 0 ? `${symbol}|${recent.key}` : null;
      const cached = bodyKey === null ? undefined : bodies.get(bodyKey);
      if (cached !== undefined) return sendJson(reply, cached);
      const { candles, truncated } = recent ?? (await loadCandles(deps.db, deps.calendar.of(symbol), { symbol, interval, from, to, limit: q.limit, now: deps.clock.now() }));
      const values = indicators.length === 0 ? null : await indicatorValues(deps.db, deps.calendar.of(symbol), symbol, interval, candles, indicators);
      const ticksFrom = interval === '1min' ? await firstTickTime(deps.db, symbol) : undefined;
      const body: CandlesResponse = {
        symbol,
        interval,
        count: candles.length,
        truncated,
        ...(ticksFrom === undefined ? {} : { ticksFrom: ticksFrom === null ? null : toIsoUtc(ticksFrom) }),
        candles: candles.map((c, i) => ({ ...candleBody(c), ...(values ? { indicators: values[i] ?? {} } : {}) })),
        segments: provenanceSegments(candles).map(segmentBody),
      };
      if (bodyKey === null) return body;
      const serialized = reply.serialize(body);
      const json = typeof serialized === 'string' ? Buffer.from(serialized) : Buffer.from(serialized as ArrayBuffer);
      bodies.set(bodyKey, json);
      return sendJson(reply, json);
    },
  );

  app.get(
    '/api/stats/:symbol',
    {
      schema: {
        tags: ['market'],
        summary: 'Last price, change, session range, realized volatility',
        description: `Last price (live cache, else the last stored close: see source), change vs the previous session's close, the latest session's open/high/low so far, and realized volatility: ${VOLATILITY_FORMULA}. Missing figures are null.`,
        params: SymbolPath,
        response: { ...COMMON_ERRORS, 200: StatsResponse, 404: ErrorBody },
      },
    },
    async (request) => {
      const symbol = servedSymbol(deps.symbols, request.params.symbol);
      const now = deps.clock.now();
      return statsBody(symbol, now, await marketStats(deps, symbol, now));
    },
  );
  return Promise.resolve();
};

function segmentBody(g: ProvenanceSegment) {
  return { from: toIsoUtc(g.from), to: toIsoUtc(g.to), simulated: g.simulated, candles: g.candles };
}

function candleBody(c: Candle): CandleBody {
  return {
    time: toIsoUtc(c.time),
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    bars: c.bars,
    expected: c.expected,
    complete: c.complete,
    ...(c.ticks === undefined ? {} : { ticks: c.ticks }),
    simulated: c.simulated,
    sources: c.sources,
  };
}

function statsBody(symbol: string, now: number, s: MarketStats): StatsResponse {
  return {
    symbol,
    time: toIsoUtc(now),
    last: s.last,
    source: s.lastSource,
    lastAt: s.lastAt === null ? null : toIsoUtc(s.lastAt),
    previousClose: s.previousClose,
    previousSession: s.previousSession.date,
    change: s.change,
    changePct: s.changePct,
    session: {
      date: s.current.session.date,
      inProgress: s.current.inProgress,
      open: s.current.ohlc?.open ?? null,
      high: s.current.ohlc?.high ?? null,
      low: s.current.ohlc?.low ?? null,
      bars: s.current.quality.present,
    },
    provenance: s.provenance,
    realizedVolatility: {
      value: s.realizedVolatility,
      returns: s.returns,
      barsPerSession: s.current.session.barCount,
      tradingDaysPerYear: s.tradingDaysPerYear,
      formula: VOLATILITY_FORMULA,
    },
  };
}
