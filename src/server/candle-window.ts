/**
 * Recent candles from memory: per symbol, the latest stored bars (whole sessions, at least
 * WINDOW_BARS of them) and, per interval, their candles, resampled once per change of the store.
 *
 * Correct across processes: every write of bars gives the symbol a new version token in the same
 * transaction (store/bars-repo.ts), and each request waits for a version check that started after
 * it arrived (one primary-key lookup), reloading the window when the token changed. Concurrent
 * requests share one check, so under load its cost spreads over all of them; a single request
 * still sees every write committed before it arrived, from whichever process.
 *
 * A request the window cannot answer exactly (its range reaches before the window while older bars
 * exist) gets null, and the caller reads the store.
 */
import type { Bar } from '../domain/bar.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import { resampleBars, type Candle, type CandleInterval } from '../domain/resample.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { barsBetween, barsVersion, nthBarTimeBefore } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import type { CandleResult } from './candle-query.ts';

/** Bars held per symbol (rounded down to a session open): 300 hourly candles, about 60 sessions. */
const WINDOW_BARS = 3_600;
/** After every stored bar. */
const END_OF_TIME = Date.UTC(9999, 0, 1);

interface BarWindow {
  version: string | null;
  /** Increases with every reload, so callers can key what they derive from the window. */
  generation: number;
  /** Every stored bar from `start` (a session open) on, in time order. */
  bars: Bar[];
  /** Bars older than `start` exist in the store. */
  earlier: boolean;
  candles: Map<CandleInterval, Candle[]>;
}

export interface WindowCandles extends CandleResult {
  /** Identifies this exact answer while the window is unchanged (for caching what is built from it). */
  key: string;
}

/** One symbol's window and the checks against the store that keep it current. */
class SymbolWindow {
  private window: BarWindow | null = null;
  private inFlight: Promise<BarWindow> | null = null;
  private next: Promise<BarWindow> | null = null;

  constructor(
    private readonly db: Db,
    private readonly calendar: MarketCalendar,
    private readonly symbol: SymbolCode,
    private readonly generations: { next: number },
    private readonly windowBars: number,
  ) {}

  /** The window as of a version check that started after this call. */
  current(): Promise<BarWindow> {
    if (this.next !== null) return this.next;
    if (this.inFlight === null) return this.startCheck();
    // A check already running may have read the version before a write this caller saw: wait for the next one.
    this.next = this.inFlight.then(
      () => this.startCheck(),
      () => this.startCheck(),
    );
    return this.next;
  }

  private startCheck(): Promise<BarWindow> {
    this.next = null;
    const check = this.validated().finally(() => {
      if (this.inFlight === check) this.inFlight = null;
    });
    this.inFlight = check;
    return check;
  }

  private async validated(): Promise<BarWindow> {
    const version = await barsVersion(this.db, this.symbol);
    if (this.window !== null && this.window.version === version) return this.window;
    // The version is read before the bars: a write in between makes the next check reload again.
    this.window = await this.load(version);
    return this.window;
  }

  private async load(version: string | null): Promise<BarWindow> {
    const nth = await nthBarTimeBefore(this.db, this.symbol, END_OF_TIME, this.windowBars);
    // Whole sessions, so no bucket of any interval is cut at the window's start.
    const start = nth === null ? 0 : (this.calendar.sessionAt(nth)?.open ?? nth);
    const bars = await barsBetween(this.db, this.symbol, start, END_OF_TIME);
    const earlier = start > 0 && (await nthBarTimeBefore(this.db, this.symbol, start, 1)) !== null;
    return { version, generation: this.generations.next++, bars, earlier, candles: new Map() };
  }
}

export class CandleWindows {
  private readonly windows = new Map<SymbolCode, SymbolWindow>();
  private readonly generations = { next: 1 };

  constructor(
    private readonly db: Db,
    private readonly calendar: MarketCalendar,
    private readonly windowBars = WINDOW_BARS,
  ) {}

  /**
   * The latest `limit` candles opening before `to`, as `loadCandles` answers without `from`; null
   * when the window does not reach back far enough.
   */
  async latest(symbol: SymbolCode, interval: CandleInterval, to: number, limit: number): Promise<WindowCandles | null> {
    let symbolWindow = this.windows.get(symbol);
    if (symbolWindow === undefined) {
      symbolWindow = new SymbolWindow(this.db, this.calendar, symbol, this.generations, this.windowBars);
      this.windows.set(symbol, symbolWindow);
    }
    const window = await symbolWindow.current();
    const all = this.candlesOf(window, interval);
    const end = firstAtOrAfter(all, to);
    if (end < limit && window.earlier) return null;
    const first = Math.max(0, end - limit);
    return { candles: all.slice(first, end), truncated: first > 0 || window.earlier, key: `${window.generation}:${interval}:${first}:${end}` };
  }

  private candlesOf(window: BarWindow, interval: CandleInterval): Candle[] {
    let candles = window.candles.get(interval);
    if (candles === undefined) {
      candles = resampleBars(this.calendar, interval, window.bars);
      window.candles.set(interval, candles);
    }
    return candles;
  }
}

/** Index of the first candle opening at or after `t` (candles in time order). */
function firstAtOrAfter(candles: readonly Candle[], t: number): number {
  let lo = 0;
  let hi = candles.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((candles[mid] as Candle).time < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
