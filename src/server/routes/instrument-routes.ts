/**
 * `GET /api/instruments`: the instruments this server serves (TASA_SYMBOLS), each with its market
 * (zone, session hours, open now, next open and close on the server's clock), the latest cached
 * price and the change against the previous session's last stored close. A figure that is not
 * there is null, never a made-up value.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { cachedLatestPrice } from '../../bus/index.ts';
import { isSimulatedSource } from '../../domain/bar.ts';
import { marketStatus } from '../../domain/market-status.ts';
import { instrumentOf, type SymbolCode } from '../../domain/symbol.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { barsBetween } from '../../store/bars-repo.ts';
import { InstrumentsBody, type InstrumentView } from '../../contracts/api/instruments.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS } from '../http-errors.ts';
import { latestSession } from '../market-figures.ts';

export const instrumentRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/api/instruments',
    {
      schema: {
        tags: ['market'],
        summary: 'Instruments served, with market status and latest price',
        description:
          "Every instrument this server serves, in TASA_SYMBOLS order: base, quote, decimals, its market (name, zone, session hours, open now, next open and close), the latest cached tick (null when none) and the change against the close of the previous session's last stored bar (null when unknown).",
        response: { ...COMMON_ERRORS, 200: InstrumentsBody },
      },
    },
    async () => {
      const now = deps.clock.now();
      return { time: toIsoUtc(now), instruments: await Promise.all(deps.symbols.map((symbol) => instrumentView(deps, symbol, now))) };
    },
  );
  return Promise.resolve();
};

async function instrumentView(deps: ServerDeps, symbol: SymbolCode, now: number): Promise<InstrumentView> {
  const instrument = instrumentOf(symbol);
  const calendar = deps.calendar.of(symbol);
  const status = marketStatus(calendar, now);
  const previous = calendar.previousSession(latestSession(calendar, now).open);
  const [cached, previousBars] = await Promise.all([cachedLatestPrice(deps.bus, symbol), barsBetween(deps.db, symbol, previous.open, previous.close)]);
  // As GET /api/stats: a simulated price is compared with a simulated close only, a real one with a real close.
  const simulated = cached === null ? null : cached.source !== 'twelvedata_ws';
  const previousBar = previousBars.filter((b) => simulated === null || isSimulatedSource(b.source) === simulated).at(-1);
  const previousClose = previousBar === undefined ? null : previousBar.close;
  // Prices carry a few decimals: drop the binary-subtraction noise, as the stats route does.
  const change = cached !== null && previousClose !== null ? Math.round((cached.price - previousClose) * 1e6) / 1e6 : null;
  const session = status.current ?? status.next;
  return {
    symbol,
    base: instrument.base,
    quote: instrument.quote,
    decimals: instrument.decimals,
    market: {
      name: instrument.market.name,
      zone: calendar.zone,
      session: {
        open: status.sessionHours.open,
        close: status.sessionHours.close,
        opensDayBefore: status.sessionHours.opensDayBefore,
        weekdays: [...instrument.market.weekdays],
        barsPerSession: session.barCount,
      },
      open: status.open,
      nextOpen: toIsoUtc(status.nextOpen),
      nextClose: toIsoUtc(status.nextClose),
    },
    last: cached === null ? null : { price: cached.price, time: cached.timestamp, source: cached.source },
    previousClose: previousClose === null ? null : { price: previousClose, session: previous.date },
    change,
    changePct: change !== null && previousClose !== null ? (change / previousClose) * 100 : null,
  };
}
