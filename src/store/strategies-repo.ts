/** Trading strategies: a policy attached to a symbol with a target notional, switched on and off; kept across restarts. */
import type { SymbolCode } from '../domain/symbol.ts';
import type { UsdCents } from '../trading/money.ts';
import type { Db } from './db.ts';
import { isoTime } from './rows.ts';

export interface Strategy {
  id: string;
  symbol: SymbolCode;
  /** The model (or baseline) whose decisions it trades. */
  policyId: string;
  /** The USD position a full long (or short) decision aims at. */
  targetNotional: UsdCents;
  enabled: boolean;
}

/** Creates the strategy or replaces its settings. */
export async function saveStrategy(db: Db, strategy: Strategy, at: number): Promise<void> {
  await db.query(
    `INSERT INTO trading_strategies (id, symbol, policy_id, target_notional, enabled, created_at, updated_at)
     VALUES ($1, $2, $3, $4::int8, $5, $6::timestamptz, $6::timestamptz)
     ON CONFLICT (id) DO UPDATE SET symbol = excluded.symbol, policy_id = excluded.policy_id,
       target_notional = excluded.target_notional, enabled = excluded.enabled, updated_at = excluded.updated_at`,
    [strategy.id, strategy.symbol, strategy.policyId, String(strategy.targetNotional), strategy.enabled, isoTime(at)],
  );
}

/** Switches a strategy on or off; false when there is no such strategy. */
export async function setStrategyEnabled(db: Db, id: string, enabled: boolean, at: number): Promise<boolean> {
  const rows = await db.query('UPDATE trading_strategies SET enabled = $2, updated_at = $3::timestamptz WHERE id = $1 RETURNING id', [id, enabled, isoTime(at)]);
  return rows.length > 0;
}

export async function listStrategies(db: Db): Promise<Strategy[]> {
  const rows = await db.query<{ id: string; symbol: SymbolCode; policy_id: string; target_notional: string; enabled: boolean }>(
    'SELECT id, symbol, policy_id, target_notional::text, enabled FROM trading_strategies ORDER BY id',
  );
  return rows.map((r) => ({ id: r.id, symbol: r.symbol, policyId: r.policy_id, targetNotional: BigInt(r.target_notional), enabled: r.enabled }));
}

/** The strategy's position in the symbol: the signed USD filled by its orders. */
export async function strategyPosition(db: Db, id: string, symbol: SymbolCode): Promise<UsdCents> {
  const rows = await db.query<{ position: string }>(
    `SELECT coalesce(sum(CASE side WHEN 'buy' THEN filled_quantity ELSE -filled_quantity END), 0)::text AS position
     FROM trading_orders WHERE strategy_id = $1 AND symbol = $2`,
    [id, symbol],
  );
  return BigInt(rows[0]?.position ?? '0');
}
