/**
 * What the HTTP/WS server needs from the rest of the system. The same server runs inside
 * `tasa up` (everything in one process) and as `tasa serve` (API only, beside separate ingest
 * and worker processes): nothing here assumes ingestion runs in this process.
 */
import type { Bus } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Db } from '../store/db.ts';
import type { TradingAccess } from '../execution/trading-engine.ts';
import type { SystemStatus } from '../ingest/status-publisher.ts';

/** Work handed to the workers (pg-boss queues). */
export interface JobQueue {
  send(queue: string, data?: object): Promise<string | null>;
}

export interface ServerDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  calendar: Calendars;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Symbols this deployment serves, normalized (`USD/COP`). */
  symbols: string[];
  /** Tasa's version (package.json). */
  version: string;
  /** The in-process system's status when this process runs ingestion; null in an API-only process. */
  localStatus: (() => SystemStatus) | null;
  /** Null when no worker queue is reachable from this process. */
  jobs: JobQueue | null;
  /** The trading engine: in this process, or the name of the one that runs it. */
  trading: TradingAccess;
}
