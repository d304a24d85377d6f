/**
 * The REST side: routing, authentication, the 429 burst fault, credits (1 per symbol per request,
 * charged before validation, so a bad request still costs), batch requests (`symbol=A,B` answers an
 * object keyed by symbol), and the error-status mode: error bodies with their own HTTP status, or
 * always HTTP 200 as some real responses do.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import { keyId, restApiKey, type KeyPolicy } from './api-keys.ts';
import type { CreditLedger } from './credits.ts';
import type { Endpoint, EndpointResult, SymbolData } from './endpoint.ts';
import type { FaultInjector } from './faults.ts';
import { canonicalSymbol } from './instruments.ts';
import { exchangeRate, price, quote } from './quote-endpoints.ts';
import { invalidApiKey, invalidParameter, invalidSymbol, outOfCredits, unknownEndpoint, type TdErrorBody } from './td-errors.ts';
import { timeSeries } from './time-series.ts';

const ENDPOINTS: Readonly<Record<string, Endpoint>> = {
  '/time_series': timeSeries,
  '/quote': quote,
  '/price': price,
  '/exchange_rate': exchangeRate,
};

export interface RestApiOptions {
  clock: Clock;
  symbols: ReadonlyMap<string, SymbolData>;
  keys: KeyPolicy;
  credits: CreditLedger;
  perMinute: number;
  errorStatusMode: 'http' | 'body-200';
  faults: FaultInjector;
  logger: Logger;
}

interface Reply {
  status: number;
  body: string;
  contentType: string;
  headers: Record<string, string>;
}

export class RestApi {
  requests = 0;

  constructor(private readonly o: RestApiOptions) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    let reply: Reply;
    try {
      reply = this.reply(req);
    } catch (err) {
      this.o.logger.error({ err }, 'simulator: REST handler failed');
      reply = this.errorReply({ code: 500, message: 'Internal simulator error.', status: 'error' });
    }
    this.o.logger.debug({ method: req.method, path: pathOnly(req.url), status: reply.status }, 'simulator: REST request');
    res.writeHead(reply.status, {
      'Content-Type': reply.contentType,
      'Access-Control-Allow-Origin': '*',
      ...reply.headers,
    });
    res.end(reply.body);
  }

  private reply(req: IncomingMessage): Reply {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const endpoint = ENDPOINTS[url.pathname];
    if (req.method !== 'GET' || endpoint === undefined) return this.errorReply(unknownEndpoint(`${req.method ?? ''} ${url.pathname}`));
    const key = restApiKey(url, req);
    if (!this.o.keys.accepts(key)) return this.errorReply(invalidApiKey());
    const id = keyId(key);
    const now = this.o.clock.now();
    if (this.o.faults.takeRest429()) {
      const used = this.o.credits.peek(id, now);
      return this.errorReply(outOfCredits('minute', Math.max(used.minuteUsed, this.o.perMinute), this.o.perMinute), creditHeaders(used.minuteUsed, used.minuteLeft));
    }
    const requested = requestedSymbols(url.searchParams);
    const decision = this.o.credits.charge(id, Math.max(1, requested.length), now);
    const headers = creditHeaders(decision.minuteUsed, decision.minuteLeft);
    if (!decision.ok) {
      this.o.logger.debug({ key: id, window: decision.window }, 'simulator: out of credits');
      return this.errorReply(outOfCredits(decision.window, decision.used, decision.limit), headers);
    }
    return this.answer(endpoint, requested, url.searchParams, now, headers);
  }

  private answer(endpoint: Endpoint, requested: string[], params: URLSearchParams, now: number, headers: Record<string, string>): Reply {
    const one = (asked: string): EndpointResult => {
      const data = this.o.symbols.get(canonicalSymbol(asked));
      return data === undefined ? { kind: 'error', body: invalidSymbol() } : endpoint(data, params, now);
    };
    if (requested.length <= 1) return this.resultReply(one(requested[0] ?? ''), headers);
    const results = requested.map((asked) => [asked, one(asked)] as const);
    if (results.some(([, r]) => r.kind === 'csv')) {
      return this.errorReply(invalidParameter('format', 'CSV', 'The simulator answers batch (several symbols) requests in JSON only.'), headers);
    }
    const body = Object.fromEntries(results.map(([asked, r]) => [asked, r.kind === 'csv' ? null : r.body]));
    return { status: 200, body: JSON.stringify(body), contentType: JSON_TYPE, headers };
  }

  private resultReply(result: EndpointResult, headers: Record<string, string>): Reply {
    if (result.kind === 'error') return this.errorReply(result.body, headers);
    if (result.kind === 'csv') return { status: 200, body: result.text, contentType: 'text/csv; charset=utf-8', headers };
    return { status: 200, body: JSON.stringify(result.body), contentType: JSON_TYPE, headers };
  }

  private errorReply(body: TdErrorBody, headers: Record<string, string> = {}): Reply {
    const status = this.o.errorStatusMode === 'http' ? body.code : 200;
    return { status, body: JSON.stringify(body), contentType: JSON_TYPE, headers };
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** `symbol=USD/COP,EUR/USD`; an empty list when missing (answered with the 404 symbol error). */
function requestedSymbols(params: URLSearchParams): string[] {
  return (params.get('symbol') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The path without the query, which may hold the API key. */
function pathOnly(url: string | undefined): string {
  return (url ?? '/').split('?')[0] ?? '/';
}

/** Per-minute usage, as the soulgarden/twelvedata client reads them. */
function creditHeaders(used: number, left: number): Record<string, string> {
  return { 'Api-Credits-Used': String(used), 'Api-Credits-Left': String(left) };
}
