/**
 * The market routes: the latest price and the market's open/closed status (`/market/*`), and
 * the stored data as `tasa bars|sessions|gaps|calendar` print it and the data routes serve it
 * (`/api/market/historical`, `/api/sessions`, `/api/gaps`, `/api/calendar`): snake_case columns,
 * UTC times; store/query-rows.ts computes the rows.
 */
import { Type, type Static } from 'typebox';
import { IsoTimeUtc, Nullable } from './schema-kit.ts';

/** `GET /market/latest`. */
export const LatestBody = Type.Object(
  {
    symbol: Type.String(),
    price: Type.Number(),
    bid: Nullable(Type.Number()),
    ask: Nullable(Type.Number()),
    spread: Nullable(Type.Number(), 'ask - bid, when the feed gives both'),
    timestamp: Type.String({ format: 'date-time', description: 'Exchange time of the tick, UTC' }),
    receivedAt: IsoTimeUtc,
    ageSeconds: Type.Number({ description: 'Seconds from the exchange time to now' }),
    source: Type.String({ description: 'Where the tick came from: twelvedata_ws, simulator, ...' }),
  },
  {
    description: 'The latest tick price the ingest process cached (kept 24 h).',
    examples: [
      {
        symbol: 'USD/COP',
        price: 3921.5,
        bid: null,
        ask: null,
        spread: null,
        timestamp: '2024-01-02T15:00:00.000Z',
        receivedAt: '2024-01-02T15:00:00.210Z',
        ageSeconds: 3.2,
        source: 'twelvedata_ws',
      },
    ],
  },
);
export type LatestBody = Static<typeof LatestBody>;

export const SessionRef = Type.Object({
  date: Type.String({ description: "The session's date in the market's own calendar (Bogota for USD/COP)" }),
  open: IsoTimeUtc,
  close: IsoTimeUtc,
  nextDaySettlement: Type.Boolean({ description: 'A US holiday: trades settle the next day' }),
  usHoliday: Nullable(Type.String()),
});
export type SessionRef = Static<typeof SessionRef>;

/** `GET /market/status`. */
export const MarketStatusBody = Type.Object(
  {
    symbol: Type.String({ description: 'The instrument whose market this is' }),
    time: IsoTimeUtc,
    localTime: Type.String({ description: "The same instant in the market's wall time, for people", examples: ['2024-01-02 10:00:00 -05:00'] }),
    timeZone: Type.String({ description: "The market's IANA zone", examples: ['America/Bogota'] }),
    open: Type.Boolean(),
    sessionHours: Type.Object({
      open: Type.String({ examples: ['08:00'] }),
      close: Type.String({ examples: ['13:00'] }),
      opensDayBefore: Type.Boolean({ description: 'The session opens the evening before its date (the 24-hour FX week)' }),
      timeZone: Type.String({ examples: ['America/Bogota'] }),
    }),
    today: Type.Object({
      date: Type.String({ description: "The market's date" }),
      tradingDay: Type.Boolean(),
      weekend: Type.Boolean(),
      holiday: Nullable(Type.String(), 'The holiday closing the market, by name'),
      usHoliday: Nullable(Type.String()),
      nextDaySettlement: Type.Boolean({ description: 'A US holiday on a Colombian trading day: trades settle the next day' }),
    }),
    currentSession: Nullable(SessionRef, 'The session open now'),
    nextSession: SessionRef,
    nextOpen: IsoTimeUtc,
    nextClose: IsoTimeUtc,
    secondsToNextChange: Type.Number({ description: 'Until the next close while open, else until the next open' }),
  },
  { description: "Open or closed now, per the instrument's market calendar (USD/COP: 08:00-13:00 Bogota on Colombian business days)." },
);
export type MarketStatusBody = Static<typeof MarketStatusBody>;

export const BarRow = Type.Object({
  time: Type.String({ format: 'date-time', description: 'Bar open, UTC; the bar covers [time, time + 5 min)' }),
  open: Type.Number(),
  high: Type.Number(),
  low: Type.Number(),
  close: Type.Number(),
  volume: Nullable(Type.Number()),
  source: Type.String({ description: 'import, twelvedata_ws, twelvedata_rest, simulator' }),
  revision: Type.Integer(),
  flags: Type.String({ description: 'Flags joined with | (repaired, flat, backfilled); empty when none' }),
});
export type BarRow = Static<typeof BarRow>;

export const SessionRow = Type.Object({
  date: Type.String(),
  expected: Type.Integer(),
  present: Type.Integer(),
  missing: Type.Integer(),
  flat_share: Nullable(Type.Number()),
  repaired: Type.Integer(),
  status: Type.String({ description: 'complete, partial or missing' }),
});
export type SessionRow = Static<typeof SessionRow>;

export const GapRow = Type.Object({
  date: Type.String(),
  from: Type.String({ format: 'date-time', description: 'Open of the first missing bar, UTC' }),
  to: Type.String({ format: 'date-time', description: 'End of the last missing bar (exclusive), UTC' }),
  bars: Type.Integer(),
});
export type GapRow = Static<typeof GapRow>;

export const CalendarRow = Type.Object({
  date: Type.String(),
  weekday: Type.String({ examples: ['Mon'] }),
  trading_day: Type.Boolean(),
  holiday: Nullable(Type.String(), "The market's holiday (closes it), by name"),
  next_day_settlement: Type.Boolean({ description: 'A US holiday on a trading day: trades settle the next day' }),
  us_holiday: Nullable(Type.String()),
  session_open: Nullable(Type.String({ format: 'date-time' })),
  session_close: Nullable(Type.String({ format: 'date-time' })),
  bars: Nullable(Type.Integer({ minimum: 1, description: '5-minute bars in the session' })),
});
export type CalendarRow = Static<typeof CalendarRow>;

/** `GET /api/market/historical` as JSON. */
export const BarRows = Type.Array(BarRow);

/** `GET /api/calendar`. */
export const CalendarBody = Type.Object({
  symbol: Type.String({ description: 'The instrument whose market calendar this is' }),
  zone: Type.String({ description: "The market's IANA zone: dates are its dates" }),
  from: Type.String(),
  to: Type.String(),
  days: Type.Array(CalendarRow),
});
export type CalendarBody = Static<typeof CalendarBody>;
