/** Small helpers shared by the repositories: chunking and time conversions. */

/** Rows per bulk statement: large enough to amortise round trips, small enough for one message. */
export const BULK_CHUNK_ROWS = 10_000;

export function* chunked<T>(items: readonly T[], size = BULK_CHUNK_ROWS): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Epoch ms -> ISO text for a timestamptz parameter. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoTimeOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : isoTime(ms);
}

export function msOrNull(d: Date | null): number | null {
  return d === null ? null : d.getTime();
}
