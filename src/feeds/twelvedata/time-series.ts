/**
 * /time_series paging and rows. A range is split into windows short enough that no answer can
 * exceed `outputsize` bars whether the server treats end_date as inclusive or exclusive (TwelveData
 * does not document which), so nothing is ever cut off; rows outside [start, end) and rows seen on
 * an earlier page are dropped, which gives every bar exactly once, in time order.
 */
import { createHash } from 'node:crypto';
import { parseRawBar, type RawBarRecord } from '../../domain/raw-bar.ts';
import type { SymbolCode } from '../../domain/symbol.ts';

export const MAX_OUTPUTSIZE = 5000;

export const INTRADAY_INTERVALS = {
  '1min': 60_000,
  '5min': 300_000,
  '15min': 900_000,
  '30min': 1_800_000,
  '1h': 3_600_000,
} as const;
export type IntradayInterval = keyof typeof INTRADAY_INTERVALS;

/** A bar as TwelveData gave it, in numbers; `time` is the bar open, epoch ms UTC. */
export interface RestBar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
}

/** One answer, kept whole for L0 (raw_bars): `origin` names the request (no key), `sha256` the body. */
export interface TimeSeriesPage {
  origin: string;
  sha256: string;
  /** The page's window, epoch ms: [start, end). */
  start: number;
  end: number;
  /** Every value of the answer as received; `lineNo` is its 1-based position in `values`. */
  rows: RawBarRecord[];
}

export interface RejectedRow {
  origin: string;
  lineNo: number;
  reason: string;
}

export interface TimeSeriesResult {
  symbol: SymbolCode;
  interval: IntradayInterval;
  /** Ascending, one per open time, inside the requested range. */
  bars: RestBar[];
  pages: TimeSeriesPage[];
  rejected: RejectedRow[];
}

export interface Window {
  start: number;
  end: number;
}

/** Consecutive windows covering [start, end), each holding at most `outputsize` bar opens plus one. */
export function pageWindows(start: number, end: number, intervalMs: number, outputsize: number): Window[] {
  const span = Math.max(1, outputsize - 1) * intervalMs;
  const windows: Window[] = [];
  for (let from = start; from < end; from += span) windows.push({ start: from, end: Math.min(end, from + span) });
  return windows;
}

/** TwelveData's date parameter form, in UTC (requests say timezone=UTC): `2024-03-05T13:00:00`. */
export function tdDateTime(t: number): string {
  return new Date(t).toISOString().slice(0, 19);
}

export function bodySha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The answer's `values` as raw records; an element that is not an object is kept with blank fields. */
export function pageRows(values: readonly unknown[], metaSymbol: string | null): RawBarRecord[] {
  return values.map((value, i) => {
    const o = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
    return {
      lineNo: i + 1,
      raw: JSON.stringify(value),
      time: fieldText(o['datetime']),
      open: fieldText(o['open']),
      high: fieldText(o['high']),
      low: fieldText(o['low']),
      close: fieldText(o['close']),
      volume: o['volume'] === undefined || o['volume'] === null ? null : fieldText(o['volume']),
      symbol: metaSymbol,
      sourceLabel: 'twelvedata_rest',
    };
  });
}

/** Accumulates pages into bars: parsed, inside the range, first occurrence of each open time. */
export class BarCollector {
  private readonly byTime = new Map<number, RestBar>();
  readonly rejected: RejectedRow[] = [];

  constructor(
    private readonly symbol: SymbolCode,
    private readonly range: Window,
  ) {}

  add(page: TimeSeriesPage): void {
    for (const row of page.rows) {
      const parsed = parseRawBar(row, this.symbol, 'UTC');
      if (!parsed.ok) {
        this.rejected.push({ origin: page.origin, lineNo: row.lineNo, reason: parsed.reason });
        continue;
      }
      const { time, open, high, low, close, volume } = parsed.bar;
      if (time < this.range.start || time >= this.range.end || this.byTime.has(time)) continue;
      this.byTime.set(time, { time, open, high, low, close, volume });
    }
  }

  bars(): RestBar[] {
    return [...this.byTime.values()].sort((a, b) => a.time - b.time);
  }
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return value === undefined || value === null ? '' : JSON.stringify(value);
}
