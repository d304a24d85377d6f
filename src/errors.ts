/**
 * A typed error for anything a user can act on: what failed, the input at fault, what to do.
 * The CLI prints `message` (one sentence) and exits non-zero; servers map `code` to a status.
 */
export type TasaErrorCode =
  | 'bad_argument'
  | 'bad_input'
  | 'not_found'
  | 'unreadable_file'
  | 'database_unreachable'
  | 'conflict'
  | 'internal';

export class TasaError extends Error {
  readonly code: TasaErrorCode;
  /** The value or location at fault, e.g. `file.csv:12` or `--from=2024-13-01`. */
  readonly input: string | undefined;
  /** What the user can do about it. */
  readonly hint: string | undefined;

  constructor(code: TasaErrorCode, message: string, opts: { input?: string; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TasaError';
    this.code = code;
    this.input = opts.input;
    this.hint = opts.hint;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
