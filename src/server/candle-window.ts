/**
 * Recent candles from memory: per symbol, the latest stored bars (whole sessions, at least
 * WINDOW_BARS of them) and, per interval, their candles, resampled once per change of the store.
 *
 * Correct across processes: every write of bars gives the symbol a new version token and sends a
 * notification, in its transaction (store/bars-repo.ts `watchBarWrites`). The guarantee kept: a
 * write committed before a request arrived is in the request's answer, whichever process wrote it.
 * - With notifications (PostgreSQL; the embedded store in the process that owns it, for its own
 *   statements and those of other processes through its socket): a request waits until the
 *   notifications committed before it arrived have been handled (`Listening.caughtUp`: at once
 *   on the embedded store, one `SELECT 1` on the listening connection on PostgreSQL, shared by
 *   concurrent requests), then trusts the window unless a notification for its symbol came since
 *   the window's last version check began. A lost listening connection counts as a change of
 *   every symbol. Safety net for a write that did not notify (a writer of an older version
 *   during an upgrade): the version check still runs at most RECHECK_MS apart, so such a write is
 *   seen within RECHECK_MS.
 * - Without (a store served by another process): each request waits for a version check that
 *   started after it arrived (one primary-key lookup), shared by concurrent requests.
 * Either way the window reloads when the token changed.
 *
 * A request the window cannot answer exactly (its range reaches before the window while older bars
 * exist) gets null, and the caller reads the store.
 */
import { systemClock, type Clock } from '../clock.ts';
import type { Bar } from '../domain/bar.ts';
import type { Calendars, MarketCalendar } from '../domain/calendar.ts';
import { bucketAt, resampleBars, type Candle, type CandleInterval } from '../domain/resample.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { barsBetween, barsVersion, nthBarTimeBefore, watchBarWrites } from '../store/bars-repo.ts';
import type { Db, Listening } from '../store/db.ts';
import type { CandleResult } from './candle-query.ts';

/** Bars held per symbol (rounded down to a session open): 300 hourly candles, about 60 sessions. */
const WINDOW_BARS = 3_600;
/** After every stored bar. */
const END_OF_TIME = Date.UTC(9999, 0, 1);
/** Longest time between two version checks of a symbol while notifications are trusted. */
const RECHECK_MS = 1_000;

export interface CandleWindowOptions {
  /** Bars held per symbol (default WINDOW_BARS). */
  windowBars?: number;
  /** Default RECHECK_MS. */
  recheckMs?: number;
  /** For the recheck interval (default the system clock). */
  clock?: Clock;
}

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

/** Runs of `work` for callers that each need a run begun after their call; concurrent callers share runs. */
class SharedRuns<T> {
  private inFlight: Promise<T> | null = null;
  private next: Promise<T> | null = null;

  constructor(private readonly work: () => Promise<T>) {}

  after(): Promise<T> {
    if (this.next !== null) return this.next;
    if (this.inFlight === null) return this.start();
    // The run in flight may have begun before this call (e.g. read a version before a write this caller saw): wait for the next one.
    this.next = this.inFlight.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  private start(): Promise<T> {
    this.next = null;
    const run = this.work().finally(() => {
      if (this.inFlight === run) this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }
}

/** One symbol's window and the checks against the store that keep it current. */
class SymbolWindow {
  private window: BarWindow | null = null;
  /** Notified writes of this symbol (and possibly missed ones) so far. */
  private changes = 0;
  /** `changes` and the clock when the last version check that completed began. */
  private checked = { changes: -1, at: -Infinity };
  private readonly checks = new SharedRuns(() => this.validated());

  constructor(
    private readonly db: Db,
    private readonly calendar: MarketCalendar,
    private readonly symbol: SymbolCode,
    private readonly generations: { next: number },
    private readonly o: Required<CandleWindowOptions>,
  ) {}

  changed(): void {
    this.changes++;
  }

  /** The window, if no write of the symbol was notified since the last version check began, less than recheckMs ago. */
  trusted(): BarWindow | null {
    return this.checked.changes === this.changes && this.o.clock.now() - this.checked.at < this.o.recheckMs ? this.window : null;
  }

  /** The window as of a version check that started after this call. */
  current(): Promise<BarWindow> {
    return this.checks.after();
  }

  private async validated(): Promise<BarWindow> {
    const checking = { changes: this.changes, at: this.o.clock.now() };
    const version = await barsVersion(this.db, this.symbol);
    // The version is read before the bars: a write in between makes the next check reload again.
    if (this.window === null || this.window.version !== version) this.window = await this.load(version);
    this.checked = checking;
    return this.window;
  }

  private async load(version: string | null): Promise<BarWindow> {
    const nth = await nthBarTimeBefore(this.db, this.symbol, END_OF_TIME, this.o.windowBars);
    // Whole weeks (so whole sessions), so no bucket of any interval, 1w included, is cut at the window's start.
    const start = nth === null ? 0 : (bucketAt(this.calendar, '1w', nth)?.open ?? nth);
    const bars = await barsBetween(this.db, this.symbol, start, END_OF_TIME);
    const earlier = start > 0 && (await nthBarTimeBefore(this.db, this.symbol, start, 1)) !== null;
    return { version, generation: this.generations.next++, bars, earlier, candles: new Map() };
  }
}

export class CandleWindows {
  private readonly windows = new Map<SymbolCode, SymbolWindow>();
  private readonly generations = { next: 1 };
  private readonly o: Required<CandleWindowOptions>;
  /** Undefined until the first request; null when the store cannot push notifications. */
  private listening: Promise<Listening> | null | undefined;
  private readonly catchUps = new SharedRuns(async () => {
    // Read at run time: listening that failed meanwhile is reset, and then nothing is caught up.
    const listening = this.listening;
    if (listening === null || listening === undefined) throw new Error('not listening to bar writes');
    await (await listening).caughtUp();
  });

  constructor(
    private readonly db: Db,
    private readonly calendars: Calendars,
    opts: CandleWindowOptions = {},
  ) {
    this.o = { windowBars: opts.windowBars ?? WINDOW_BARS, recheckMs: opts.recheckMs ?? RECHECK_MS, clock: opts.clock ?? systemClock };
  }

  /**
   * The latest `limit` candles opening before `to`, as `loadCandles` answers without `from`; null
   * when the window does not reach back far enough.
   */
  async latest(symbol: SymbolCode, interval: CandleInterval, to: number, limit: number): Promise<WindowCandles | null> {
    let symbolWindow = this.windows.get(symbol);
    if (symbolWindow === undefined) {
      symbolWindow = new SymbolWindow(this.db, this.calendars.of(symbol), symbol, this.generations, this.o);
      this.windows.set(symbol, symbolWindow);
    }
    const window = await this.currentWindow(symbolWindow);
    const all = this.candlesOf(window, symbol, interval);
    const end = firstAtOrAfter(all, to);
    if (end < limit && window.earlier) return null;
    const first = Math.max(0, end - limit);
    return { candles: all.slice(first, end), truncated: first > 0 || window.earlier, key: `${window.generation}:${interval}:${first}:${end}` };
  }

  /** The window holding every write committed before this call (see the top of this file). */
  private async currentWindow(symbolWindow: SymbolWindow): Promise<BarWindow> {
    if (this.listen() === null) return symbolWindow.current();
    try {
      await this.catchUps.after();
    } catch {
      return symbolWindow.current(); // the listening connection is down: ask the store
    }
    return symbolWindow.trusted() ?? symbolWindow.current();
  }

  /** Starts listening on the first request; a failure is retried by the next one. */
  private listen(): Promise<Listening> | null {
    if (this.listening !== undefined) return this.listening;
    const changedAll = (): void => this.windows.forEach((w) => w.changed());
    const started = watchBarWrites(this.db, { notify: (symbol) => this.windows.get(symbol)?.changed(), restart: changedAll });
    this.listening = started?.then((listening) => {
      changedAll(); // what was checked before listening began may miss a write made meanwhile
      return listening;
    }) ?? null;
    this.listening?.catch(() => {
      this.listening = undefined;
    });
    return this.listening;
  }

  /** Stops listening (the server closes); the windows are not used afterwards. */
  async close(): Promise<void> {
    const listening = this.listening;
    this.listening = null;
    this.windows.clear();
    await (await listening?.catch(() => null))?.close();
  }

  private candlesOf(window: BarWindow, symbol: SymbolCode, interval: CandleInterval): Candle[] {
    let candles = window.candles.get(interval);
    if (candles === undefined) {
      candles = resampleBars(this.calendars.of(symbol), interval, window.bars);
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
