/**
 * Reading the bus's tick and bar events back into domain values, as the ingest pipeline publishes
 * them (src/ingest/tick-processor.ts): a tick event carries the latest-price message (ISO times),
 * a bar event the bar message with `revision` and `final`. Anything malformed gives null: the
 * stream is input like any other.
 */
import { isFlat, ohlcViolation, type Bar, type BarFlag, type BarSource } from '../domain/bar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Tick, TickSource } from '../domain/tick.ts';

const TICK_SOURCES: readonly TickSource[] = ['twelvedata_ws', 'simulator', 'replay'];
const BAR_SOURCES: readonly BarSource[] = ['import', 'twelvedata_ws', 'twelvedata_rest', 'simulator'];

type Fields = Record<string, unknown>;

export function tickOfEvent(symbol: SymbolCode, data: unknown): Tick | null {
  const f = asFields(data);
  if (f === null) return null;
  const time = instant(f['timestamp']);
  const receivedAt = instant(f['receivedAt']);
  const price = finite(f['price']);
  const source = oneOf(f['source'], TICK_SOURCES);
  if (time === null || receivedAt === null || price === null || price <= 0 || source === null) return null;
  return { symbol, time, price, bid: finite(f['bid']), ask: finite(f['ask']), receivedAt, source };
}

/** A final bar (what the ingest writer stores); forming updates and empty slots give null. */
export function finalBarOfEvent(symbol: SymbolCode, data: unknown): Bar | null {
  const f = asFields(data);
  if (f === null || f['final'] !== true || f['empty'] === true) return null;
  const time = instant(f['time']);
  const ohlc = { open: finite(f['open']), high: finite(f['high']), low: finite(f['low']), close: finite(f['close']) };
  const revision = finite(f['revision']);
  const source = oneOf(f['source'], BAR_SOURCES);
  if (time === null || revision === null || !Number.isInteger(revision) || revision < 1 || source === null) return null;
  const { open, high, low, close } = ohlc;
  if (open === null || high === null || low === null || close === null) return null;
  const prices = { open, high, low, close };
  if (ohlcViolation(prices) !== null) return null;
  const coverage = fraction(f['coverage']);
  const flags: BarFlag[] = isFlat(prices) ? ['flat'] : [];
  if (f['partial'] === true) flags.push('partial');
  return { symbol, time, ...prices, volume: null, tickCount: finite(f['tickCount']), source, revision, flags, ...(coverage === null ? {} : { coverage }) };
}

function asFields(data: unknown): Fields | null {
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Fields) : null;
}

/** An ISO 8601 text or epoch ms. */
function instant(value: unknown): number | null {
  const t = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(t) ? t : null;
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A number in [0, 1] (a bar's coverage), else null: out of range it would fail the whole write. */
function fraction(value: unknown): number | null {
  const x = finite(value);
  return x !== null && x >= 0 && x <= 1 ? x : null;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | null {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : null;
}
