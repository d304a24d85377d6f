/**
 * The stored data as the CLI shows it: `GET /api/market/historical` (bars, streamed as JSON or
 * CSV), `GET /api/sessions`, `GET /api/gaps`, `GET /api/calendar`. Rows come from
 * store/query-rows.ts, the code behind `tasa bars|sessions|gaps|calendar`, so the columns and
 * values are the same (snake_case keys, UTC times).
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { MarketCalendar } from '../../domain/calendar.ts';
import type { SymbolCode } from '../../domain/symbol.ts';
import { createRowFormatter } from '../../row-writer.ts';
import { streamBars } from '../../store/bars-repo.ts';
import type { Db } from '../../store/db.ts';
import { BAR_COLUMNS, barRow, calendarRows, gapRows, sessionRows, utcBounds, type DateRange } from '../../store/query-rows.ts';
import { BarRows, CalendarBody, GapRow, SessionRow } from '../../contracts/api/market.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { DateString, SymbolString, calendarDateRange } from '../market-inputs.ts';
import { configuredSymbol, servedOrDefault, servedSymbol } from '../request-inputs.ts';

/** Bars per database page while streaming: bounded memory whatever the range. */
const HISTORICAL_PAGE_BARS = 5000;

const RangeQuery = {
  from: DateString,
  to: Type.Optional(Type.String({ description: "Last date of the market's own calendar, inclusive, YYYY-MM-DD (Bogota for USD/COP; default: from)", examples: ['2024-01-31'] })),
};

export const referenceRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/api/market/historical',
    {
      schema: {
        tags: ['data'],
        summary: 'Stored 5-minute bars, streamed',
        description:
          "The bars of the market's own dates from..to (inclusive; Bogota for USD/COP): each date's session (EUR/USD's opens 17:00 New York the day before) and the rest of its day in the market's zone up to the next session's open, as `tasa bars` prints them. Streamed page by page (JSON array or CSV with a header), so any range answers in constant memory; CSV comes as an attachment.",
        querystring: Type.Object({
          symbol: SymbolString,
          ...RangeQuery,
          format: Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' }),
        }),
        response: {
          ...COMMON_ERRORS,
          200: {
            description: 'The bars, by time',
            content: { 'application/json': { schema: BarRows }, 'text/csv': { schema: Type.String({ description: 'time,open,high,low,close,volume,source,revision,flags' }) } },
          },
          404: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const symbol = servedSymbol(deps.symbols, q.symbol);
      const range = calendarDateRange(q.from, q.to);
      const body = await historicalStream(deps.db, deps.calendar.of(symbol), symbol, range, q.format);
      if (q.format === 'csv') {
        reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${symbol.replace('/', '')}_${range.from}_${range.to}.csv"`);
      } else {
        reply.type('application/json; charset=utf-8');
      }
      // A stream skips serialization; the 200 schema above documents what it carries.
      return reply.send(body as unknown as string);
    },
  );

  app.get(
    '/api/sessions',
    {
      schema: {
        tags: ['data'],
        summary: 'Data quality per session',
        description: "One row per session of from..to (inclusive session dates of the market's own calendar; Bogota for USD/COP), as `tasa sessions` prints it: expected, present and missing bars, flat share, repaired bars, status.",
        querystring: Type.Object({ symbol: SymbolString, ...RangeQuery }),
        response: { ...COMMON_ERRORS, 200: Type.Object({ symbol: Type.String(), from: Type.String(), to: Type.String(), sessions: Type.Array(SessionRow) }), 404: ErrorBody },
      },
    },
    async (request) => {
      const symbol = servedSymbol(deps.symbols, request.query.symbol);
      const range = calendarDateRange(request.query.from, request.query.to);
      return { symbol, ...range, sessions: await sessionRows(deps.db, deps.calendar.of(symbol), symbol, range) };
    },
  );

  app.get(
    '/api/gaps',
    {
      schema: {
        tags: ['data'],
        summary: 'Missing bars inside sessions',
        description: 'Runs of missing 5-minute bars inside the sessions of from..to, merged into intervals (UTC, end exclusive), as `tasa gaps` prints them.',
        querystring: Type.Object({ symbol: SymbolString, ...RangeQuery }),
        response: {
          ...COMMON_ERRORS,
          200: Type.Object({ symbol: Type.String(), from: Type.String(), to: Type.String(), missingBars: Type.Integer(), gaps: Type.Array(GapRow) }),
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const symbol = servedSymbol(deps.symbols, request.query.symbol);
      const range = calendarDateRange(request.query.from, request.query.to);
      const gaps = await gapRows(deps.db, deps.calendar.of(symbol), symbol, range);
      return { symbol, ...range, missingBars: gaps.reduce((n, g) => n + g.bars, 0), gaps };
    },
  );

  app.get(
    '/api/calendar',
    {
      schema: {
        tags: ['data'],
        summary: 'Trading days and holidays',
        description:
          "The market calendar of an instrument (default: the first this server ingests; any configured instrument may be asked): every day of from..to in the market's own dates, trading day or not, its holiday by name, (USD/COP) US next-day settlement, session open and close (UTC) and bars, as `tasa calendar` prints it.",
        querystring: Type.Object({ symbol: Type.Optional(SymbolString), ...RangeQuery }),
        response: { ...COMMON_ERRORS, 200: CalendarBody },
      },
    },
    (request) => {
      const range = calendarDateRange(request.query.from, request.query.to);
      const symbol = request.query.symbol === undefined ? servedOrDefault(deps.symbols, undefined) : configuredSymbol(request.query.symbol);
      const calendar = deps.calendar.of(symbol);
      return { symbol, zone: calendar.zone, ...range, days: calendarRows(calendar, range) };
    },
  );
  return Promise.resolve();
};

/**
 * The bars as text chunks. The first page is read before answering, so that a database that is
 * down gives an error status rather than a 200 cut short; later pages are read as the client
 * consumes the stream (back-pressure), and closing the connection stops the reading.
 */
async function historicalStream(db: Db, calendar: MarketCalendar, symbol: SymbolCode, range: DateRange, format: 'json' | 'csv'): Promise<Readable> {
  const { from, to } = utcBounds(calendar, range);
  const pages = streamBars(db, symbol, from, to, HISTORICAL_PAGE_BARS)[Symbol.asyncIterator]();
  const first = await pages.next();
  const formatter = createRowFormatter(format, BAR_COLUMNS);
  async function* chunks(): AsyncGenerator<string> {
    try {
      let page = first;
      while (page.done !== true) {
        yield formatter.rows(page.value.map(barRow));
        page = await pages.next();
      }
      yield formatter.end();
    } finally {
      await pages.return?.();
    }
  }
  return Readable.from(chunks());
}
