/** What a REST endpoint gets (one symbol's data, the query, the clock's time) and returns. */
import type { PriceHistory } from './history.ts';
import type { SimInstrument } from './instruments.ts';
import type { TdErrorBody } from './td-errors.ts';

export interface SymbolData {
  instrument: SimInstrument;
  history: PriceHistory;
}

export type EndpointResult = { kind: 'json'; body: object } | { kind: 'csv'; text: string } | { kind: 'error'; body: TdErrorBody };

export type Endpoint = (data: SymbolData, params: URLSearchParams, now: number) => EndpointResult;

export const json = (body: object): EndpointResult => ({ kind: 'json', body });
export const failure = (body: TdErrorBody): EndpointResult => ({ kind: 'error', body });
