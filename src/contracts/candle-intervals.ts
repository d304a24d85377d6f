/**
 * The candle intervals GET /api/candlesticks/{symbol} serves, shortest first: the one list the API
 * enum, the server and the dashboard take their interval type from. `1min` is built from stored
 * ticks (domain/minute-candles.ts), so it exists only where ticks are kept; every other interval
 * is resampled from the stored 5-minute bars (domain/resample.ts).
 */
export const CANDLESTICK_INTERVALS = ['1min', '5min', '15min', '30min', '1h', '4h', '1day', '1w'] as const;
export type CandlestickInterval = (typeof CANDLESTICK_INTERVALS)[number];
