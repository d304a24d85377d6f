/**
 * `GET /api/candlesticks/{symbol}` (candles resampled from the stored 5-minute bars inside
 * sessions, optionally with indicators) and `GET /api/stats/{symbol}` (last price, change,
 * session range, realized volatility).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isSimulatedSource, type Bar } from '../../domain/bar.ts';
import { CANDLE_INTERVALS, provenanceSegments, type Candle, type ProvenanceSegment } from '../../domain/resample.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { WARMUP, computeIndicators } from '../../research/indicators.ts';
import { INDICATOR_NAMES, type IndicatorName } from '../../research/types.ts';
import { barsBefore, loadCandles } from '../candle-query.ts';
import { CandleWindows } from '../candle-window.ts';
import { RecentBodies, sendJson } from '../recent-bodies.ts';
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
    CANDLE_INTERVALS.map((i) => Type.Literal(i)),
    { default: '5min', description: 'Bucket size; buckets align to the session open (08:00 Bogota) and never span sessions; 1day = the session' },
  ),
  from: Type.Optional(Type.String({ description: 'First bucket open: a Bogota date (YYYY-MM-DD) or an ISO 8601 time with Z/offset. With it, the first `limit` candles from there.', examples: ['2024-01-02', '2024-01-02T13:00:00Z'] })),
  to: Type.Optional(Type.String({ description: 'Buckets opening before this (a date means through that Bogota day). Default: now.', examples: ['2024-01-31'] })),
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'Most candles returned; without `from`, the latest ones' }),
  indicators: Type.Optional(
    Type.String({
      description: `Comma-separated, interval=5min only: ${INDICATOR_NAMES.join(', ')}. Computed over the returned bars with up to 50 earlier stored bars as warm-up; null until warmed up.`,
      examples: ['ema20,rsi14'],
    }),
  ),
});

export const candleRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  const windows = new CandleWindows(deps.db, deps.calendar);
  const bodies = new RecentBodies(BODY_CACHE_SIZE);
  app.get(
    '/api/candlesticks/:symbol',
    {
      schema: {
        tags: ['market'],
        summary: 'Candles (OHLC) from the stored 5-minute bars',
        description:
          'Resampled inside sessions: buckets open at the session open (08:00 Bogota) and never span two sessions; 1day is the session. Each candle says how many 5-minute bars it holds and whether it is complete. Without `from`: the latest `limit` candles before `to`. Provenance: a candle holds only simulated (source simulator) or only real bars; a bucket where the provenance changes is split at the change (the second candle opens at its first bar), `segments` lists the runs of each, and indicators restart at each change (warm-up only from bars of the same provenance).',
        params: SymbolPath,
        querystring: CandleQuerystring,
        response: { ...COMMON_ERRORS, 200: CandlesResponse, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const symbol = servedSymbol(deps.symbols, request.params.symbol);
      const q = request.query;
      const indicators = parseIndicators(q.indicators, q.interval);
      const to = q.to === undefined ? deps.clock.now() : calendarInstant('to', q.to, 'end');
      const from = q.from === undefined ? null : calendarInstant('from', q.from, 'start');
      if (from !== null && from >= to) throw new TasaError('bad_argument', `from ${q.from} is not before to ${q.to ?? 'now'}.`, { input: `from=${q.from}` });
      const recent = from === null ? await windows.latest(symbol, q.interval, to, q.limit) : null;
      // Without indicators, the body depends only on the window's answer: serialized once per answer.
      const bodyKey = recent !== null && indicators.length === 0 ? `${symbol}|${recent.key}` : null;
      const cached = bodyKey === null ? undefined : bodies.get(bodyKey);
      if (cached !== undefined) return sendJson(reply, cached);
      const { candles, truncated } = recent ?? (await loadCandles(deps.db, deps.calendar, { symbol, interval: q.interval, from, to, limit: q.limit }));
      const values = indicators.length === 0 ? null : await indicatorValues(deps, symbol, candles, indicators);
      const body: CandlesResponse = {
        symbol,
        interval: q.interval,
        count: candles.length,
        truncated,
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

function parseIndicators(value: string | undefined, interval: string): IndicatorName[] {
  if (value === undefined || value.trim() === '') return [];
  if (interval !== '5min') {
    throw new TasaError('bad_argument', `indicators are computed on 5-minute bars only: use interval=5min, not ${interval}.`, { input: `interval=${interval}` });
  }
  const names = [...new Set(value.split(',').map((s) => s.trim()))];
  const unknown = names.filter((n) => !(INDICATOR_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new TasaError('bad_argument', `Unknown indicator ${unknown.join(', ')}; available: ${INDICATOR_NAMES.join(', ')}.`, { input: `indicators=${value}` });
  }
  return names as IndicatorName[];
}

/**
 * Indicators over the returned 5-minute candles, run from up to max(WARMUP) earlier stored bars
 * so the first candles have values when history exists (the research layer's overnight rule:
 * straight across sessions). NaN before warm-up becomes null. They never run across a change of
 * provenance: each segment starts cold, and the warm-up takes only bars of the first candle's.
 */
async function indicatorValues(deps: ServerDeps, symbol: string, candles: readonly Candle[], names: readonly IndicatorName[]): Promise<Array<Record<string, number | null>>> {
  const first = candles[0];
  if (first === undefined) return [];
  const earlier = await barsBefore(deps.db, symbol, first.time, Math.max(...names.map((n) => WARMUP[n])) - 1);
  const out: Array<Record<string, number | null>> = [];
  let start = 0;
  for (const segment of provenanceSegments(candles)) {
    const warmup = start === 0 ? trailingOfProvenance(earlier, segment.simulated) : [];
    const rows = computeIndicators([...warmup, ...candles.slice(start, start + segment.candles)]).slice(warmup.length);
    for (const row of rows) out.push(Object.fromEntries(names.map((n) => [n, Number.isFinite(row[n]) ? row[n] : null])));
    start += segment.candles;
  }
  return out;
}

/** The last bars (in time order) back to the latest one of the other provenance. */
function trailingOfProvenance(bars: readonly Bar[], simulated: boolean): Bar[] {
  return bars.slice(bars.findLastIndex((b) => isSimulatedSource(b.source) !== simulated) + 1);
}

function segmentBody(g: ProvenanceSegment) {
  return { from: toIsoUtc(g.from), to: toIsoUtc(g.to), simulated: g.simulated, candles: g.candles };
}

function candleBody(c: Candle): CandleBody {
  return { time: toIsoUtc(c.time), open: c.open, high: c.high, low: c.low, close: c.close, bars: c.bars, expected: c.expected, complete: c.complete, simulated: c.simulated, sources: c.sources };
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
