/** GET /time_series: OHLC bars as TwelveData returns them for a forex pair (strings, no volume). */
import { failure, json, type Endpoint, type EndpointResult, type SymbolData } from './endpoint.ts';
import type { TimedBar } from './history.ts';
import { FOREX_TYPE } from './instruments.ts';
import { isDailyOrLonger, parseInterval, type Interval } from './intervals.ts';
import { EXCHANGE_ZONE, formatDateTime, formatUtcDate, parseDp, parseTimezone, parseWindow, priceText, type Parsed } from './rest-params.ts';
import { invalidInterval, invalidParameter, noData } from './td-errors.ts';

const MAX_OUTPUTSIZE = 5000;
const DEFAULT_OUTPUTSIZE = 30;

interface TimeSeriesRequest {
  interval: Interval;
  zone: string;
  from: number;
  to: number;
  outputsize: number;
  order: 'asc' | 'desc';
  format: 'JSON' | 'CSV';
  delimiter: string;
  dp: number;
}

export const timeSeries: Endpoint = (data, params, now) => {
  const request = parseRequest(params, now);
  if (!request.ok) return failure(request.error);
  const r = request.value;
  const newestFirst = data.history.bars({ interval: r.interval, from: r.from, to: r.to, limit: r.outputsize, now });
  if (newestFirst.length === 0) return failure(noData());
  const bars = r.order === 'asc' ? newestFirst.reverse() : newestFirst;
  return r.format === 'CSV' ? csvResult(bars, r) : jsonResult(data, bars, r);
};

function jsonResult(data: SymbolData, bars: TimedBar[], r: TimeSeriesRequest): EndpointResult {
  const { instrument } = data;
  const meta = {
    symbol: instrument.symbol,
    interval: r.interval,
    currency_base: instrument.currencyBase,
    currency_quote: instrument.currencyQuote,
    exchange_timezone: EXCHANGE_ZONE,
    type: FOREX_TYPE,
  };
  const values = bars.map((bar) => ({
    datetime: barDateTime(bar.time, r),
    open: priceText(bar.open, r.dp),
    high: priceText(bar.high, r.dp),
    low: priceText(bar.low, r.dp),
    close: priceText(bar.close, r.dp),
  }));
  return json({ meta, values, status: 'ok' });
}

function csvResult(bars: TimedBar[], r: TimeSeriesRequest): EndpointResult {
  const d = r.delimiter;
  const rows = bars.map((b) => [barDateTime(b.time, r), ...[b.open, b.high, b.low, b.close].map((v) => priceText(v, r.dp))].join(d));
  return { kind: 'csv', text: [['datetime', 'open', 'high', 'low', 'close'].join(d), ...rows].join('\n') };
}

/** Bar open in the requested zone; daily and longer bars are dates (the timezone is ignored for them). */
function barDateTime(t: number, r: TimeSeriesRequest): string {
  return isDailyOrLonger(r.interval) ? formatUtcDate(t) : formatDateTime(t, r.zone);
}

function parseRequest(params: URLSearchParams, now: number): Parsed<TimeSeriesRequest> {
  const rawInterval = params.get('interval') ?? '';
  const interval = parseInterval(rawInterval);
  if (interval === null) return { ok: false, error: invalidInterval(rawInterval) };
  const timezone = parseTimezone(params.get('timezone'));
  if (!timezone.ok) return timezone;
  const zone = isDailyOrLonger(interval) ? EXCHANGE_ZONE : timezone.value;
  const window = parseWindow(params, zone, now);
  if (!window.ok) return window;
  const outputsize = parseOutputsize(params.get('outputsize'), window.value.explicit);
  if (!outputsize.ok) return outputsize;
  const choices = parseChoices(params);
  if (!choices.ok) return choices;
  const dp = parseDp(params.get('dp'));
  if (!dp.ok) return dp;
  const { from, to } = window.value;
  return { ok: true, value: { interval, zone, from, to, outputsize: outputsize.value, ...choices.value, dp: dp.value } };
}

/** 1-5000; default 30 without date parameters, the maximum with them. */
function parseOutputsize(raw: string | null, datesGiven: boolean): Parsed<number> {
  if (raw === null || raw === '') return { ok: true, value: datesGiven ? MAX_OUTPUTSIZE : DEFAULT_OUTPUTSIZE };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_OUTPUTSIZE) {
    return { ok: false, error: invalidParameter('outputsize', raw, `Use an integer from 1 to ${MAX_OUTPUTSIZE}.`) };
  }
  return { ok: true, value: n };
}

function parseChoices(params: URLSearchParams): Parsed<Pick<TimeSeriesRequest, 'order' | 'format' | 'delimiter'>> {
  const order = (params.get('order') || 'desc').toLowerCase();
  if (order !== 'asc' && order !== 'desc') return { ok: false, error: invalidParameter('order', order, 'Use asc or desc.') };
  const format = (params.get('format') || 'JSON').toUpperCase();
  if (format !== 'JSON' && format !== 'CSV') return { ok: false, error: invalidParameter('format', format, 'Use JSON or CSV.') };
  const delimiter = params.get('delimiter') || ';';
  return { ok: true, value: { order, format, delimiter } };
}
