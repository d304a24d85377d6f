/**
 * Which column (CSV) or key (JSON value) holds which bar field. Names are matched trimmed and
 * case-insensitively; anything else in the file is ignored.
 */

/** Accepted names of the time column, in order of preference. */
export const TIME_COLUMN_NAMES = ['time', 'datetime', 'timestamp', 'date'] as const;
const REQUIRED_PRICES = ['open', 'high', 'low', 'close'] as const;

/** Positions in the row; -1 for an optional column the file does not have. */
export interface ColumnIndex {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  symbol: number;
  source: number;
}

export type ColumnMatch = { ok: true; index: ColumnIndex } | { ok: false; missing: string[] };

export function normalizeColumnName(name: string): string {
  return name.trim().toLowerCase();
}

/** `names` must already be normalized. The first occurrence of a name wins. */
export function matchColumns(names: readonly string[]): ColumnMatch {
  const time = TIME_COLUMN_NAMES.map((n) => names.indexOf(n)).find((i) => i !== -1) ?? -1;
  const missing = REQUIRED_PRICES.filter((n) => !names.includes(n)) as string[];
  if (time === -1) missing.unshift(`a time column (${TIME_COLUMN_NAMES.join('|')})`);
  if (missing.length > 0) return { ok: false, missing };
  const at = (name: string): number => names.indexOf(name);
  return {
    ok: true,
    index: { time, open: at('open'), high: at('high'), low: at('low'), close: at('close'), volume: at('volume'), symbol: at('symbol'), source: at('source') },
  };
}
