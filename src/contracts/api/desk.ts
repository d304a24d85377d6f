/** The chart's companions on the desk: indicators at any candle interval, and the span of the stored history. */
import { Type, type Static } from 'typebox';
import { IsoTimeUtc, Nullable } from './schema-kit.ts';

/** `GET /api/candlesticks/{symbol}/indicators`: one column per indicator, aligned with `times`. */
export const CandleIndicatorsResponse = Type.Object({
  symbol: Type.String(),
  interval: Type.String(),
  times: Type.Array(IsoTimeUtc, { description: 'Bucket opens, the same candles GET /api/candlesticks answers for the same query' }),
  values: Type.Record(Type.String(), Type.Array(Nullable(Type.Number())), { description: 'Per indicator, its value at each candle (null before warm-up)' }),
});
export type CandleIndicatorsResponse = Static<typeof CandleIndicatorsResponse>;

const spanFields = {
  bars: Type.Integer(),
  first: Nullable(IsoTimeUtc, 'Open time of the oldest bar'),
  last: Nullable(IsoTimeUtc, 'Open time of the newest bar'),
};

/** `GET /api/history/{symbol}/span`. */
export const HistorySpanResponse = Type.Object({
  symbol: Type.String(),
  all: Type.Object(spanFields, { description: 'Every stored bar' }),
  real: Type.Object(spanFields, { description: 'Market data: imported or from TwelveData' }),
  simulated: Type.Object(spanFields, { description: "The built-in simulator's bars" }),
});
export type HistorySpanResponse = Static<typeof HistorySpanResponse>;
