/**
 * `GET /api/instruments`: every instrument this server serves, with its market (zone, session
 * hours, open now, next open and close), its latest cached price and the change against the
 * previous session's last stored close. The dashboard's watchlist and its per-market times read it.
 */
import { Type, type Static } from 'typebox';
import { IsoTimeUtc, Nullable } from './schema-kit.ts';

export const InstrumentSessionHours = Type.Object({
  open: Type.String({ description: "Opening wall time in the market's zone", examples: ['08:00'] }),
  close: Type.String({ description: "Closing wall time in the market's zone", examples: ['13:00'] }),
  opensDayBefore: Type.Boolean({ description: 'The session opens the evening before its date (the 24-hour FX week)' }),
  weekdays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { description: 'ISO weekdays (1 = Monday) of the session dates' }),
  barsPerSession: Type.Integer({ minimum: 1, description: '5-minute bars in the current session, else the next one' }),
});
export type InstrumentSessionHours = Static<typeof InstrumentSessionHours>;

export const InstrumentView = Type.Object({
  symbol: Type.String({ examples: ['USD/COP'] }),
  base: Type.String({ examples: ['USD'] }),
  quote: Type.String({ examples: ['COP'] }),
  decimals: Type.Integer({ minimum: 0, description: 'Decimals a price is shown with' }),
  market: Type.Object({
    name: Type.String({ examples: ['SET-FX spot (T+0)'] }),
    zone: Type.String({ description: "The market's IANA zone: its dates and the times shown for it", examples: ['America/Bogota'] }),
    session: InstrumentSessionHours,
    open: Type.Boolean({ description: "Open now, per the instrument's calendar (holidays included)" }),
    nextOpen: IsoTimeUtc,
    nextClose: Type.String({ format: 'date-time', description: 'The end of the session open now, else of the next one (UTC)' }),
  }),
  last: Nullable(
    Type.Object({
      price: Type.Number(),
      time: Type.String({ format: 'date-time', description: 'Exchange time of the tick, UTC' }),
      source: Type.String({ description: 'twelvedata_ws, simulator, ...' }),
    }),
    'The latest tick from the live cache (kept 24 h); null when none has come',
  ),
  previousClose: Nullable(
    Type.Object({
      price: Type.Number({ description: "Close of the previous session's last stored bar" }),
      session: Type.String({ description: "The previous session's date in the market's zone" }),
    }),
    'Null when no bar of the previous session is stored',
  ),
  change: Nullable(Type.Number(), 'last - previous close; null when either is unknown'),
  changePct: Nullable(Type.Number(), 'change / previous close × 100'),
});
export type InstrumentView = Static<typeof InstrumentView>;

export const InstrumentsBody = Type.Object(
  {
    time: IsoTimeUtc,
    instruments: Type.Array(InstrumentView, { description: 'In the order of TASA_SYMBOLS' }),
  },
  { description: 'The instruments this server serves, each with its market and latest price.' },
);
export type InstrumentsBody = Static<typeof InstrumentsBody>;
