/** Where jobs fetch missing bars from: TwelveData REST (or the simulator), on a budgeted key pool. */
import type { Clock } from '../clock.ts';
import type { CreditPlan } from '../feeds/twelvedata/key-pool.ts';
import { TwelveDataRest } from '../feeds/twelvedata/rest-client.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import { BudgetedKeyPool } from './budgeted-pool.ts';

/** The part of the REST client the gap fill uses; tests and other sources can provide just this. */
export type HistorySource = Pick<TwelveDataRest, 'timeSeries'>;

export interface RestSourceOptions {
  db: Db;
  clock: Clock;
  keys: readonly string[];
  plan?: CreditPlan;
  /** Default: api.twelvedata.com; the simulator's `restUrl` for tests and demos. */
  baseUrl?: string;
  logger?: Logger;
  /** Per request attempt, on the clock; default the client's 30 s. */
  timeoutMs?: number;
}

export interface RestSource {
  source: TwelveDataRest;
  pool: BudgetedKeyPool;
}

/** A REST client whose credits are accounted in the database (shared with every other worker). */
export function createRestSource(o: RestSourceOptions): RestSource {
  const pool = new BudgetedKeyPool({ keys: o.keys, clock: o.clock, db: o.db, plan: o.plan, logger: o.logger });
  const source = new TwelveDataRest({ pool, clock: o.clock, baseUrl: o.baseUrl, logger: o.logger, timeoutMs: o.timeoutMs });
  return { source, pool };
}
