/**
 * TwelveData error bodies: `{"code":N,"message":"...","status":"error"}`. The messages marked
 * verbatim are copied from real responses (research/twelvedata-protocol.md, section B); the others
 * are the simulator's own wording, used only where no real message was recorded.
 */
import { SUPPORTED_INTERVALS } from './intervals.ts';

export interface TdErrorBody {
  code: number;
  message: string;
  status: 'error';
}

export function tdError(code: number, message: string): TdErrorBody {
  return { code, message, status: 'error' };
}

/** Verbatim. */
export const INVALID_API_KEY_MESSAGE =
  '**apikey** parameter is incorrect or not specified. You can get your free API key instantly following this link: https://twelvedata.com/pricing. If you believe that everything is correct, you can contact us at https://twelvedata.com/contact/customer';

/** Verbatim. */
export const INVALID_SYMBOL_MESSAGE =
  '**symbol** or **figi** parameter is missing or invalid. Please provide a valid symbol according to API documentation: https://twelvedata.com/docs#reference-data';

/** Verbatim. */
export const NO_DATA_MESSAGE = 'No data is available on the specified dates. Try setting different start/end dates.';

export const invalidApiKey = (): TdErrorBody => tdError(401, INVALID_API_KEY_MESSAGE);
export const invalidSymbol = (): TdErrorBody => tdError(404, INVALID_SYMBOL_MESSAGE);
export const noData = (): TdErrorBody => tdError(400, NO_DATA_MESSAGE);

/** Verbatim format (docs Introduction -> Errors), with the value the client sent. */
export function invalidInterval(given: string): TdErrorBody {
  return tdError(400, `Invalid **interval** provided: ${given}. Supported intervals: ${SUPPORTED_INTERVALS.join(', ')}`);
}

/** Verbatim format, numbers filled in. */
export function outOfCredits(window: 'minute' | 'day', used: number, limit: number): TdErrorBody {
  const scope = window === 'minute' ? 'the current minute' : 'the day';
  const wait = window === 'minute' ? 'the next minute' : 'the next day';
  return tdError(
    429,
    `You have run out of API credits for ${scope}. ${used} API credits were used, with the current limit being ${limit}. Wait for ${wait} or consider switching to a higher tier plan at https://twelvedata.com/pricing`,
  );
}

/** Simulator wording: a parameter value it cannot use. */
export function invalidParameter(name: string, given: string, expected: string): TdErrorBody {
  return tdError(400, `Invalid **${name}** provided: ${given}. ${expected}`);
}

/** Simulator wording: an endpoint the simulator does not serve. */
export function unknownEndpoint(path: string): TdErrorBody {
  return tdError(404, `The simulator does not serve ${path}. It serves /time_series, /quote, /price and /exchange_rate.`);
}
