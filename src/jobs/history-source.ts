/** Where jobs fetch missing bars from: TwelveData REST (or the simulator), on a budgeted key pool. */
import type { Clock } from '../clock.ts';
import { isFlat, type Bar, type BarSource } from '../domain/bar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { RestBar } from '../feeds/twelvedata/time-series.ts';
import type { CreditPlan } from '../feeds/twelvedata/key-pool.ts';
import { TwelveDataRest } from '../feeds/twelvedata/rest-client.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import { BudgetedKeyPool } from './budgeted-pool.ts';

/** The `source` of the bars a history source fills: vendor history, or the built-in simulator's. */
export type HistoryBarSource = Extract<BarSource, 'twelvedata_rest' | 'simulator'>;

/** The part of the REST client the gap fill uses, and what its bars are; tests and other sources can provide just this. */
export interface HistorySource extends Pick<TwelveDataRest, 'timeSeries'> {
  /**
   * The simulator answers in TwelveData's protocol, field for field, so nothing in an answer says
   * it is simulated: the configuration that chose the upstream does, and stored bars carry it.
   */
  readonly barSource: HistoryBarSource;
}

export interface RestSourceOptions {
  db: Db;
  clock: Clock;
  keys: readonly string[];
  plan?: CreditPlan;
  /** Default: api.twelvedata.com; the simulator's `restUrl` for tests and demos. */
  baseUrl?: string;
  /** The upstream is the built-in simulator (no TwelveData key, or `--simulator-url`): its bars are stored as `simulator`. */
  simulated: boolean;
  logger?: Logger;
  /** Per request attempt, on the clock; default the client's 30 s. */
  timeoutMs?: number;
}

export interface RestSource {
  source: HistorySource;
  pool: BudgetedKeyPool;
}

/**
 * A vendor bar as an L1 bar: the history source's `source`, no tick count, coverage 1 (the
 * vendor's whole bar), flagged `backfilled` (filling a slot the live stream missed) or
 * `reconciled` (replacing a stored bar that differs, after the close).
 */
export function vendorBar(source: HistoryBarSource, symbol: SymbolCode, b: RestBar, kind: 'backfilled' | 'reconciled'): Bar {
  return { symbol, time: b.time, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume, tickCount: null, source, revision: 1, flags: isFlat(b) ? [kind, 'flat'] : [kind], coverage: 1 };
}

/** A REST client whose credits are accounted in the database (shared with every other worker). */
export function createRestSource(o: RestSourceOptions): RestSource {
  const pool = new BudgetedKeyPool({ keys: o.keys, clock: o.clock, db: o.db, plan: o.plan, logger: o.logger });
  const client = new TwelveDataRest({ pool, clock: o.clock, baseUrl: o.baseUrl, logger: o.logger, timeoutMs: o.timeoutMs });
  const source: HistorySource = { barSource: o.simulated ? 'simulator' : 'twelvedata_rest', timeSeries: (q) => client.timeSeries(q) };
  return { source, pool };
}
