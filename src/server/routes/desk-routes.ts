/**
 * What the desk's chart and quality view need beside the candles: `GET
 * /api/candlesticks/{symbol}/indicators` (indicators over candles of any interval, 1min included,
 * warmed up on the earlier candles of the same provenance) and `GET /api/history/{symbol}/span` (the oldest and
 * newest stored bar, real and simulated apart: where the history ends).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CANDLESTICK_INTERVALS } from '../../contracts/candle-intervals.ts';
import { MINUTE_CANDLES_TEXT } from '../../domain/minute-candles.ts';
import { CANDLE_INTERVALS_TEXT } from '../../domain/resample.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { INDICATOR_NAMES } from '../../research/types.ts';
import { storedBarsSummary, type StoredBarsSummary } from '../../store/bars-repo.ts';
import { CandleIndicatorsResponse, HistorySpanResponse } from '../../contracts/api/desk.ts';
import { indicatorValues, parseIndicatorNames } from '../candle-indicators.ts';
import { loadCandles } from '../candle-query.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { SymbolString, calendarInstant } from '../market-inputs.ts';
import { servedSymbol } from '../request-inputs.ts';

const MAX_LIMIT = 5000;
const SymbolPath = Type.Object({ symbol: SymbolString });

const IndicatorQuerystring = Type.Object({
  interval: Type.Union(
    CANDLESTICK_INTERVALS.map((i) => Type.Literal(i)),
    { default: '5min', description: `As for GET /api/candlesticks. ${CANDLE_INTERVALS_TEXT} ${MINUTE_CANDLES_TEXT}` },
  ),
  from: Type.Optional(Type.String({ description: 'As for GET /api/candlesticks' })),
  to: Type.Optional(Type.String({ description: 'As for GET /api/candlesticks (exclusive; default now)' })),
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 300, description: 'As for GET /api/candlesticks' }),
  indicators: Type.String({ description: `Comma-separated: ${INDICATOR_NAMES.join(', ')}`, examples: ['ema20,rsi14'] }),
});

export const deskRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/api/candlesticks/:symbol/indicators',
    {
      schema: {
        tags: ['market'],
        summary: 'Indicators over candles of any interval',
        description:
          'The candles GET /api/candlesticks answers for the same interval, from, to and limit, with each indicator computed over them, warmed up on up to five times its warm-up in earlier candles of the same interval and provenance (so consecutive pages agree). Indicators restart where the provenance (real or simulated) changes; null until warmed up.',
        params: SymbolPath,
        querystring: IndicatorQuerystring,
        response: { ...COMMON_ERRORS, 200: CandleIndicatorsResponse, 404: ErrorBody },
      },
    },
    async (request) => {
      const symbol = servedSymbol(deps.symbols, request.params.symbol);
      const q = request.query;
      const names = parseIndicatorNames(q.indicators);
      const to = q.to === undefined ? deps.clock.now() : calendarInstant('to', q.to, 'end', deps.calendar.of(symbol));
      const from = q.from === undefined ? null : calendarInstant('from', q.from, 'start', deps.calendar.of(symbol));
      if (from !== null && from >= to) throw new TasaError('bad_argument', `from ${q.from} is not before to ${q.to ?? 'now'}.`, { input: `from=${q.from}` });
      const { candles } = await loadCandles(deps.db, deps.calendar.of(symbol), { symbol, interval: q.interval, from, to, limit: q.limit, now: deps.clock.now() });
      const rows = await indicatorValues(deps.db, deps.calendar.of(symbol), symbol, q.interval, candles, names);
      return {
        symbol,
        interval: q.interval,
        times: candles.map((c) => toIsoUtc(c.time)),
        values: Object.fromEntries(names.map((n) => [n, rows.map((r) => r[n] ?? null)])),
      };
    },
  );

  app.get(
    '/api/history/:symbol/span',
    {
      schema: {
        tags: ['data'],
        summary: 'The span of the stored history',
        description: 'How many 5-minute bars are stored and the open time of the oldest and newest, for all bars and for real (import, TwelveData) and simulated (source simulator) bars apart.',
        params: SymbolPath,
        response: { ...COMMON_ERRORS, 200: HistorySpanResponse, 404: ErrorBody },
      },
    },
    async (request) => {
      const symbol = servedSymbol(deps.symbols, request.params.symbol);
      const [all, real, simulated] = await Promise.all([storedBarsSummary(deps.db, symbol), storedBarsSummary(deps.db, symbol, 'real'), storedBarsSummary(deps.db, symbol, 'simulated')]);
      return { symbol, all: spanBody(all), real: spanBody(real), simulated: spanBody(simulated) };
    },
  );
  return Promise.resolve();
};

function spanBody(s: StoredBarsSummary) {
  return { bars: s.count, first: s.first === null ? null : toIsoUtc(s.first), last: s.last === null ? null : toIsoUtc(s.last) };
}
