/**
 * What the desk's chart and quality view need beside the candles: `GET
 * /api/candlesticks/{symbol}/indicators` (indicators over candles of any interval, warmed up on
 * the earlier candles of the same provenance) and `GET /api/history/{symbol}/span` (the oldest and
 * newest stored bar, real and simulated apart: where the history ends).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CANDLE_INTERVALS, provenanceSegments, type Candle } from '../../domain/resample.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { WARMUP, computeIndicators } from '../../research/indicators.ts';
import { INDICATOR_NAMES, type IndicatorName } from '../../research/types.ts';
import { storedBarsSummary, type StoredBarsSummary } from '../../store/bars-repo.ts';
import { CandleIndicatorsResponse, HistorySpanResponse } from '../../contracts/api/desk.ts';
import { loadCandles } from '../candle-query.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { SymbolString, calendarInstant } from '../market-inputs.ts';
import { servedSymbol } from '../request-inputs.ts';

const MAX_LIMIT = 5000;
const WARMUP_FACTOR = 5;
const SymbolPath = Type.Object({ symbol: SymbolString });

const IndicatorQuerystring = Type.Object({
  interval: Type.Union(
    CANDLE_INTERVALS.map((i) => Type.Literal(i)),
    { default: '5min', description: 'As for GET /api/candlesticks' },
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
      const to = q.to === undefined ? deps.clock.now() : calendarInstant('to', q.to, 'end');
      const from = q.from === undefined ? null : calendarInstant('from', q.from, 'start');
      if (from !== null && from >= to) throw new TasaError('bad_argument', `from ${q.from} is not before to ${q.to ?? 'now'}.`, { input: `from=${q.from}` });
      const { candles } = await loadCandles(deps.db, deps.calendar, { symbol, interval: q.interval, from, to, limit: q.limit });
      const first = candles[0];
      // EMAs never forget: five times the longest warm-up makes a page's first values agree with the page before it to well under a centavo.
      const warmupCount = WARMUP_FACTOR * Math.max(...names.map((n) => WARMUP[n]));
      const earlier = first === undefined ? [] : (await loadCandles(deps.db, deps.calendar, { symbol, interval: q.interval, from: null, to: first.time, limit: warmupCount })).candles;
      const rows = indicatorRows(candles, earlier);
      return {
        symbol,
        interval: q.interval,
        times: candles.map((c) => toIsoUtc(c.time)),
        values: Object.fromEntries(names.map((n) => [n, rows.map((r) => (Number.isFinite(r[n]) ? r[n] : null))])),
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

function parseIndicatorNames(value: string): IndicatorName[] {
  const names = [...new Set(value.split(',').map((s) => s.trim()))].filter((n) => n !== '');
  const unknown = names.filter((n) => !(INDICATOR_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new TasaError('bad_argument', `Unknown indicator ${unknown.join(', ') || '(none given)'}; available: ${INDICATOR_NAMES.join(', ')}.`, { input: `indicators=${value}` });
  }
  return names as IndicatorName[];
}

/**
 * The indicator rows of `candles`, each provenance segment computed apart; the first one warmed up
 * on the trailing `earlier` candles of its own provenance (back to the last one of the other).
 */
function indicatorRows(candles: readonly Candle[], earlier: readonly Candle[]) {
  const rows: ReturnType<typeof computeIndicators> = [];
  let start = 0;
  for (const segment of provenanceSegments(candles)) {
    const warmup = start === 0 ? earlier.slice(earlier.findLastIndex((c) => c.simulated !== segment.simulated) + 1) : [];
    rows.push(...computeIndicators([...warmup, ...candles.slice(start, start + segment.candles)]).slice(warmup.length));
    start += segment.candles;
  }
  return rows;
}

function spanBody(s: StoredBarsSummary) {
  return { bars: s.count, first: s.first === null ? null : toIsoUtc(s.first), last: s.last === null ? null : toIsoUtc(s.last) };
}
