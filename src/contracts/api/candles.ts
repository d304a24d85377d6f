/** Candles resampled from the stored 5-minute bars (1min: built from the stored ticks), and the market figures of a symbol. */
import { Type, type Static } from 'typebox';
import { IsoTimeUtc, Nullable } from './schema-kit.ts';

export const CandleBody = Type.Object({
  time: Type.String({ format: 'date-time', description: 'Bucket open, UTC' }),
  open: Type.Number(),
  high: Type.Number(),
  low: Type.Number(),
  close: Type.Number(),
  bars: Type.Integer({ description: '5-minute bars present in the bucket (1min: 1)' }),
  expected: Type.Integer({ description: '5-minute bars in a full bucket (1min: 1)' }),
  complete: Type.Boolean({
    description:
      'Every 5-minute bar of the bucket is present, and none is partial (built while the live feed covered only part of its slot; the failsafe replaces it with the vendor bar). 1min: the minute has ended and the stored 5-minute bar holding it covered its whole slot (neither partial nor backfilled)',
  }),
  ticks: Type.Optional(Type.Integer({ description: '1min only: the ticks the candle was built from' })),
  simulated: Type.Boolean({ description: "The built-in simulator's prices (source simulator), not market data. A candle never mixes simulated and real bars" }),
  sources: Type.Array(Type.String(), { description: 'Sources of its bars: import, twelvedata_ws, twelvedata_rest (real) or simulator (1min: of its ticks, as the bars they make: twelvedata_ws or simulator)' }),
  indicators: Type.Optional(Type.Record(Type.String(), Nullable(Type.Number()), { description: 'The requested indicators at this bar (null before warm-up)' })),
});

export type CandleBody = Static<typeof CandleBody>;

/** `GET /api/candlesticks/{symbol}`. */
export const CandlesResponse = Type.Object(
  {
    symbol: Type.String(),
    interval: Type.String(),
    count: Type.Integer(),
    truncated: Type.Boolean({ description: 'More candles exist in the range than `limit` returned' }),
    ticksFrom: Type.Optional(Nullable(IsoTimeUtc, '1min only: exchange time of the oldest stored tick (null: none). 1-minute candles exist only from there on, where ticks are stored')),
    candles: Type.Array(CandleBody),
    segments: Type.Array(
      Type.Object({
        from: Type.String({ format: 'date-time', description: 'First candle of the run' }),
        to: Type.String({ format: 'date-time', description: 'Last candle of the run' }),
        simulated: Type.Boolean(),
        candles: Type.Integer(),
      }),
      { description: 'Runs of consecutive candles of one provenance (real or simulated), in time order: draw each as its own series, never one line across a change' },
    ),
  },
  {
    examples: [
      {
        symbol: 'USD/COP',
        interval: '1h',
        count: 1,
        truncated: false,
        candles: [{ time: '2024-01-02T13:00:00.000Z', open: 3920, high: 3931.5, low: 3915, close: 3928, bars: 12, expected: 12, complete: true, simulated: false, sources: ['import'] }],
        segments: [{ from: '2024-01-02T13:00:00.000Z', to: '2024-01-02T13:00:00.000Z', simulated: false, candles: 1 }],
      },
    ],
  },
);

export type CandlesResponse = Static<typeof CandlesResponse>;

/** How `realizedVolatility.value` is computed (the stats route states it in each answer). */
export const VOLATILITY_FORMULA = 'sqrt(sum(r^2) / n) * sqrt(barsPerSession * tradingDaysPerYear), r = log returns of adjacent 5-minute closes of the session';

/** `GET /api/stats/{symbol}`. */
export const StatsResponse = Type.Object(
  {
    symbol: Type.String(),
    time: IsoTimeUtc,
    last: Nullable(Type.Number(), 'The latest price'),
    source: Nullable(Type.Union([Type.Literal('latest_price'), Type.Literal('stored_bar')]), 'latest_price = the live cache; stored_bar = the close of the last stored bar'),
    lastAt: Nullable(IsoTimeUtc, 'Exchange time of the latest price, or open time of the stored bar'),
    previousClose: Nullable(Type.Number(), "The previous session's close (its last stored bar)"),
    previousSession: Type.String({ description: "The previous session's date in the market's own calendar (Bogota for USD/COP)" }),
    change: Nullable(Type.Number(), 'last - previousClose'),
    changePct: Nullable(Type.Number(), '100 * change / previousClose'),
    session: Type.Object({
      date: Type.String({ description: 'The session open now, else the latest one' }),
      inProgress: Type.Boolean(),
      open: Nullable(Type.Number()),
      high: Nullable(Type.Number()),
      low: Nullable(Type.Number()),
      bars: Type.Integer({ description: '5-minute bars stored so far' }),
    }),
    provenance: Type.Object(
      {
        simulated: Nullable(Type.Boolean(), "true: every figure is the simulator's; false: every figure is real market data; null: no price at all"),
        excludedBars: Type.Integer({ description: 'Stored bars of the other provenance left out of these figures (this session so far and the previous session)' }),
      },
      { description: 'Figures are computed over one provenance, that of the latest price: a simulated price is never compared with a real close' },
    ),
    realizedVolatility: Type.Object({
      value: Nullable(Type.Number(), 'Annualized, as a fraction (0.12 = 12 %); null with fewer than 2 returns'),
      returns: Type.Integer({ description: 'n: the returns used' }),
      barsPerSession: Type.Integer(),
      tradingDaysPerYear: Type.Integer({ description: "Sessions in the session's year, from the market calendar" }),
      formula: Type.String(),
    }),
  },
  { description: `Missing figures are null. Realized volatility: ${VOLATILITY_FORMULA}. All figures are of one provenance (see provenance).` },
);
export type StatsResponse = Static<typeof StatsResponse>;
