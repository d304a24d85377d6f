/**
 * TwelveData REST: /time_series (paged over any range), /quote, /price.
 *
 * Every request takes a credit from the key pool before it is sent, and sends the key in the
 * `Authorization: apikey` header (so URLs, which end up in logs and L0 origins, never hold it).
 * Answers are classified by their body as much as their HTTP status (td-errors.ts):
 * - 429: the key's window is marked exhausted in the pool; the next take picks another key with
 *   budget or waits on the clock for the next minute (or day);
 * - 401, or 403 about the key: the key is marked bad and another one is tried;
 * - 5xx, unreadable bodies, network failures and timeouts: bounded retries with backoff;
 * - "No data is available on the specified dates": an empty result, not an error;
 * - anything else: a TwelveDataError naming the endpoint.
 */
import type { Clock } from '../../clock.ts';
import type { SymbolCode } from '../../domain/symbol.ts';
import { errorMessage } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { KeyLease, KeyPool } from './key-pool.ts';
import { classifyResponse, TwelveDataError, type ResponseVerdict } from './td-errors.ts';
import {
  BarCollector,
  bodySha256,
  INTRADAY_INTERVALS,
  MAX_OUTPUTSIZE,
  pageRows,
  pageWindows,
  tdDateTime,
  type IntradayInterval,
  type TimeSeriesPage,
  type TimeSeriesResult,
} from './time-series.ts';

export const DEFAULT_REST_URL = 'https://api.twelvedata.com';

export interface TwelveDataRestOptions {
  baseUrl?: string;
  pool: KeyPool;
  clock: Clock;
  logger?: Logger;
  fetch?: typeof fetch;
  /** Per attempt, on the clock; default 30 s. */
  timeoutMs?: number;
  /** Retries after 5xx/network failures, per request; default 3. */
  maxRetries?: number;
  /** Backoff between those retries; default 1 s doubling up to 30 s, ±20 %. */
  retryBackoff?: Partial<BackoffOptions>;
  /** 429 answers tolerated per request before giving up; default 20. */
  maxRateLimited?: number;
}

export interface TimeSeriesQuery {
  symbol: SymbolCode;
  interval?: IntradayInterval;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  /** Bars per request, 1-5000 (default 5000); smaller means more, shorter requests. */
  outputsize?: number;
}

export interface Quote {
  symbol: string;
  name: string | null;
  exchange: string | null;
  /** Bar open as TwelveData wrote it (its `timezone`). */
  datetime: string | null;
  /** Bar open, epoch ms. */
  timestamp: number | null;
  /** Last quote, epoch ms. */
  lastQuoteAt: number | null;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  previousClose: number | null;
  change: number | null;
  percentChange: number | null;
  isMarketOpen: boolean | null;
  /** The whole answer as received. */
  raw: Record<string, unknown>;
}

export interface PriceQuote {
  symbol: string;
  price: number;
  /** Clock time of the answer (the endpoint gives no timestamp). */
  receivedAt: number;
}

interface Answer {
  body: Record<string, unknown> | null;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_MAX_RATE_LIMITED = 20;
const RETRY_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

export class TwelveDataRest {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly retryBackoff: BackoffOptions;

  constructor(private readonly o: TwelveDataRestOptions) {
    this.baseUrl = o.baseUrl ?? DEFAULT_REST_URL;
    this.fetchFn = o.fetch ?? fetch;
    this.retryBackoff = { ...RETRY_BACKOFF, ...o.retryBackoff };
  }

  /** Every bar of [start, end), ascending, once each, with the raw answers for L0. */
  async timeSeries(q: TimeSeriesQuery): Promise<TimeSeriesResult> {
    const interval = q.interval ?? '5min';
    const intervalMs = INTRADAY_INTERVALS[interval];
    const outputsize = checkedOutputsize(q.outputsize ?? MAX_OUTPUTSIZE);
    const collector = new BarCollector(q.symbol, { start: q.start, end: q.end });
    const pages: TimeSeriesPage[] = [];
    for (const window of pageWindows(q.start, q.end, intervalMs, outputsize)) {
      const page = await this.timeSeriesPage(q.symbol, interval, window.start, window.end, outputsize);
      if (page === null) continue;
      pages.push(page);
      collector.add(page);
    }
    return { symbol: q.symbol, interval, bars: collector.bars(), pages, rejected: collector.rejected };
  }

  async quote(symbol: SymbolCode): Promise<Quote> {
    const answer = await this.request('/quote', { symbol });
    return toQuote(symbol, requireBody(answer, '/quote'));
  }

  async price(symbol: SymbolCode): Promise<PriceQuote> {
    const answer = await this.request('/price', { symbol });
    const price = numberOrNull(requireBody(answer, '/price')['price']);
    if (price === null || price <= 0) throw new TwelveDataError('bad_response', '/price', null, `no usable price in ${answer.text.slice(0, 200)}`);
    return { symbol, price, receivedAt: this.o.clock.now() };
  }

  private async timeSeriesPage(symbol: SymbolCode, interval: IntradayInterval, start: number, end: number, outputsize: number): Promise<TimeSeriesPage | null> {
    const params = {
      symbol,
      interval,
      start_date: tdDateTime(start),
      end_date: tdDateTime(end),
      outputsize: String(outputsize),
      timezone: 'UTC',
      order: 'ASC',
    };
    const answer = await this.request('/time_series', params);
    if (answer.body === null) return null;
    const values = answer.body['values'];
    if (!Array.isArray(values)) throw new TwelveDataError('bad_response', '/time_series', null, 'the answer has no "values" array');
    const meta = answer.body['meta'];
    const metaSymbol = typeof meta === 'object' && meta !== null && typeof (meta as Record<string, unknown>)['symbol'] === 'string' ? ((meta as Record<string, string>)['symbol'] ?? null) : null;
    const origin = `twelvedata:/time_series?${new URLSearchParams(params).toString()}`;
    return { origin, sha256: bodySha256(answer.text), start, end, rows: pageRows(values as unknown[], metaSymbol) };
  }

  /** One logical request: credits, retries, key rotation. `body` is null for "no data". */
  private async request(endpoint: string, params: Record<string, string>): Promise<Answer> {
    let failures = 0;
    let rateLimited = 0;
    for (;;) {
      const lease = await this.o.pool.take(1);
      const { verdict, text } = await this.attempt(endpoint, params, lease);
      switch (verdict.kind) {
        case 'ok':
          return { body: verdict.body, text };
        case 'no_data':
          return { body: null, text };
        case 'rate_limited':
          if (++rateLimited > (this.o.maxRateLimited ?? DEFAULT_MAX_RATE_LIMITED)) throw this.failure('rate_limited', endpoint, verdict);
          this.o.logger?.info({ endpoint, key: lease.id, scope: verdict.scope }, 'twelvedata rest: out of credits, rotating or waiting');
          await this.o.pool.markExhausted(lease, verdict.scope);
          break;
        case 'bad_key':
          this.o.logger?.warn({ endpoint, key: lease.id, status: verdict.status }, 'twelvedata rest: key refused');
          // take() throws once every key is bad, which ends the loop.
          await this.o.pool.markBad(lease, `HTTP API ${verdict.status}: ${verdict.message}`);
          break;
        case 'retryable':
          if (++failures > (this.o.maxRetries ?? DEFAULT_MAX_RETRIES)) throw this.failure(verdict.status === 0 ? 'network' : 'server', endpoint, verdict);
          await this.pause(endpoint, failures, verdict.message);
          break;
        case 'fatal':
          throw this.failure(verdict.error, endpoint, verdict);
      }
    }
  }

  private async attempt(endpoint: string, params: Record<string, string>, lease: KeyLease): Promise<{ verdict: ResponseVerdict; text: string }> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${endpoint}?${new URLSearchParams(params).toString()}`;
    const abort = new AbortController();
    const cancelTimeout = this.o.clock.setTimer(this.o.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => abort.abort());
    try {
      const res = await this.fetchFn(url, { headers: { Authorization: `apikey ${lease.apiKey}`, Accept: 'application/json' }, signal: abort.signal });
      const text = await res.text();
      return { verdict: classifyResponse(res.status, text), text };
    } catch (err) {
      const reason = abort.signal.aborted ? `no answer within ${this.o.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : networkReason(err);
      return { verdict: { kind: 'retryable', status: 0, message: reason }, text: '' };
    } finally {
      cancelTimeout();
    }
  }

  private async pause(endpoint: string, failures: number, reason: string): Promise<void> {
    const delayMs = backoffDelay(failures, this.retryBackoff);
    this.o.logger?.warn({ endpoint, attempt: failures, delayMs, reason }, 'twelvedata rest: request failed, retrying');
    await this.o.clock.sleep(delayMs);
  }

  private failure(kind: TwelveDataError['kind'], endpoint: string, verdict: { status: number; message: string }): TwelveDataError {
    return new TwelveDataError(kind, endpoint, verdict.status === 0 ? null : verdict.status, verdict.message);
  }
}

function requireBody(answer: Answer, endpoint: string): Record<string, unknown> {
  if (answer.body === null) throw new TwelveDataError('not_found', endpoint, 400, 'no data is available');
  return answer.body;
}

function toQuote(symbol: string, b: Record<string, unknown>): Quote {
  const seconds = (v: unknown): number | null => {
    const n = numberOrNull(v);
    return n === null ? null : n * 1000;
  };
  return {
    symbol: stringOrNull(b['symbol']) ?? symbol,
    name: stringOrNull(b['name']),
    exchange: stringOrNull(b['exchange']),
    datetime: stringOrNull(b['datetime']),
    timestamp: seconds(b['timestamp']),
    lastQuoteAt: seconds(b['last_quote_at']),
    open: numberOrNull(b['open']),
    high: numberOrNull(b['high']),
    low: numberOrNull(b['low']),
    close: numberOrNull(b['close']),
    previousClose: numberOrNull(b['previous_close']),
    change: numberOrNull(b['change']),
    percentChange: numberOrNull(b['percent_change']),
    isMarketOpen: typeof b['is_market_open'] === 'boolean' ? b['is_market_open'] : null,
    raw: b,
  };
}

/** REST numbers are strings ("4185.50000"); some are JSON numbers. */
function numberOrNull(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function checkedOutputsize(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_OUTPUTSIZE) throw new TwelveDataError('bad_request', '/time_series', null, `outputsize must be 1-${MAX_OUTPUTSIZE}, got ${n}`);
  return n;
}

/** fetch's TypeError hides the reason in `cause` (ECONNREFUSED, ...). */
function networkReason(err: unknown): string {
  const cause = err instanceof Error && err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
  return `${errorMessage(err)}${cause}`;
}
