/** GET /quote, /price and /exchange_rate for a forex pair. */
import { BAR_MS } from '../../domain/bar.ts';
import { DAY_MS } from '../../domain/time.ts';
import { failure, json, type Endpoint, type SymbolData } from './endpoint.ts';
import type { TimedBar } from './history.ts';
import { FOREX_QUOTE_EXCHANGE } from './instruments.ts';
import { isDailyOrLonger, parseInterval } from './intervals.ts';
import { formatDateTime, formatUtcDate, parseDp, parseTimezone, priceText, roundNumber } from './rest-params.ts';
import { invalidInterval, noData } from './td-errors.ts';

const YEAR_DAYS = 365;

/** `{"price":"4185.50000"}`: the last printed tick. */
export const price: Endpoint = (data, params, now) => {
  const dp = parseDp(params.get('dp'));
  if (!dp.ok) return failure(dp.error);
  const tick = data.history.lastTick(now);
  return tick === null ? failure(noData()) : json({ price: priceText(tick.price, dp.value) });
};

/** `{symbol, rate, timestamp}`: the rate is a number here, unlike /price. */
export const exchangeRate: Endpoint = (data, params, now) => {
  const dp = parseDp(params.get('dp'));
  if (!dp.ok) return failure(dp.error);
  const tick = data.history.lastTick(now);
  if (tick === null) return failure(noData());
  return json({ symbol: data.instrument.symbol, rate: roundNumber(tick.price, dp.value), timestamp: Math.floor(tick.time / 1000) });
};

/** The current bar of `interval` (default 1day) with the previous close and the 52-week range. */
export const quote: Endpoint = (data, params, now) => {
  const rawInterval = params.get('interval') || '1day';
  const interval = parseInterval(rawInterval);
  if (interval === null) return failure(invalidInterval(rawInterval));
  const zone = parseTimezone(params.get('timezone'));
  if (!zone.ok) return failure(zone.error);
  const dp = parseDp(params.get('dp'));
  if (!dp.ok) return failure(dp.error);
  const [current, previous] = data.history.bars({ interval, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY, limit: 2, now });
  const tick = data.history.lastTick(now);
  if (current === undefined || tick === null) return failure(noData());
  const p = (v: number): string => priceText(v, dp.value);
  const previousClose = previous?.close ?? current.open;
  return json({
    symbol: data.instrument.symbol,
    name: `${data.instrument.currencyBase} / ${data.instrument.currencyQuote}`,
    exchange: FOREX_QUOTE_EXCHANGE,
    datetime: isDailyOrLonger(interval) ? formatUtcDate(current.time) : formatDateTime(current.time, zone.value),
    timestamp: Math.floor(current.time / 1000),
    last_quote_at: Math.floor(tick.time / 1000),
    open: p(current.open),
    high: p(current.high),
    low: p(current.low),
    close: p(current.close),
    previous_close: p(previousClose),
    change: p(current.close - previousClose),
    percent_change: p(((current.close - previousClose) / previousClose) * 100),
    is_market_open: isTrading(data, now),
    fifty_two_week: fiftyTwoWeek(data, now, current.close, p),
  });
};

function isTrading(data: SymbolData, now: number): boolean {
  return data.history.ticks.source.slotOhlc(Math.floor(now / BAR_MS) * BAR_MS) !== null;
}

function fiftyTwoWeek(data: SymbolData, now: number, close: number, p: (v: number) => string): Record<string, string> {
  const days: TimedBar[] = data.history.bars({ interval: '1day', from: now - YEAR_DAYS * DAY_MS, to: Number.POSITIVE_INFINITY, limit: YEAR_DAYS + 1, now });
  const low = Math.min(...days.map((d) => d.low));
  const high = Math.max(...days.map((d) => d.high));
  return {
    low: p(low),
    high: p(high),
    low_change: p(close - low),
    high_change: p(close - high),
    low_change_percent: p(((close - low) / low) * 100),
    high_change_percent: p(((close - high) / high) * 100),
    range: `${p(low)} - ${p(high)}`,
  };
}
