/**
 * The live parity record: what the parity monitor's runs (pipeline_runs, layer `parity`) found, per
 * strategy. A session compared twice counts once, by its latest completed run. Read from the
 * store, so any process (the API, /metrics) reports it, whichever process ran the monitor.
 */
import type { IsoDate } from '../domain/time.ts';
import type { Db } from './db.ts';

export interface StrategyParityRecord {
  strategy: string;
  /** Sessions compared, and how many of them had a differing trade. */
  sessions: number;
  sessionsMismatched: number;
  /** Round trips compared (the longer of live and backtest) and those that agree, over every session. */
  tradesCompared: number;
  tradesMatched: number;
  lastSession: IsoDate;
  lastSessionMatched: boolean;
  /** Mean absolute live-vs-backtest price difference in the last session (bps); null when no trade's bars agreed. */
  lastPriceDiffBps: number | null;
}

interface ParityRow {
  strategy: string;
  sessions: string;
  sessions_mismatched: string;
  trades_compared: string;
  trades_matched: string;
  last_session: string;
  last_matched: boolean;
  last_price_diff_bps: number | null;
}

/** Every strategy the monitor has compared, by id. */
export async function parityRecord(db: Db): Promise<StrategyParityRecord[]> {
  const rows = await db.query<ParityRow>(
    `WITH latest AS (
       SELECT DISTINCT ON (params->>'session') params->>'session' AS session, summary
       FROM pipeline_runs WHERE layer = 'parity' AND status = 'completed'
       ORDER BY params->>'session', id DESC
     ), compared AS (
       SELECT latest.session, s->>'strategy' AS strategy, (s->>'compared')::int AS compared, (s->>'matched')::int AS matched,
              jsonb_typeof(s->'firstDifference') = 'null' AS agreed, (s->>'priceDiffBps')::float8 AS price_diff_bps
       FROM latest, jsonb_array_elements(latest.summary->'strategies') AS s
     )
     SELECT strategy, count(*)::text AS sessions, count(*) FILTER (WHERE NOT agreed)::text AS sessions_mismatched,
            sum(compared)::text AS trades_compared, sum(matched)::text AS trades_matched,
            max(session) AS last_session,
            (array_agg(agreed ORDER BY session DESC))[1] AS last_matched,
            (array_agg(price_diff_bps ORDER BY session DESC))[1] AS last_price_diff_bps
     FROM compared GROUP BY strategy ORDER BY strategy`,
  );
  return rows.map((r) => ({
    strategy: r.strategy,
    sessions: Number(r.sessions),
    sessionsMismatched: Number(r.sessions_mismatched),
    tradesCompared: Number(r.trades_compared),
    tradesMatched: Number(r.trades_matched),
    lastSession: r.last_session,
    lastSessionMatched: r.last_matched,
    lastPriceDiffBps: r.last_price_diff_bps,
  }));
}
