/**
 * The paper account, its positions, the trading (risk) state and each day's opening equity.
 * Money is int8 minor units, read as text and turned into bigint (the drivers return int8 as a
 * JS number, which would lose precision past 2^53). Times come from the caller's clock.
 */
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import type { Account } from '../trading/account.ts';
import type { Centavos } from '../trading/money.ts';
import type { Position } from '../trading/position.ts';
import type { RiskState, TradingState } from '../trading/risk.ts';
import type { Db } from './db.ts';
import { isoTime } from './rows.ts';

export interface StoredRiskState extends RiskState {
  /** Who set it: an admin's name, or `system` for the loss limit. */
  actor: string;
}

/** The account, created with `initialCash` the first time; later calls return it as stored. */
export async function openTradingAccount(db: Db, initialCash: Centavos, at: number): Promise<Account> {
  await db.query(
    `INSERT INTO trading_account (id, initial_cash, cash, fees, realized_pnl, updated_at)
     VALUES (1, $1::int8, $1::int8, 0, 0, $2::timestamptz) ON CONFLICT (id) DO NOTHING`,
    [String(initialCash), isoTime(at)],
  );
  const [row] = await db.query<{ initial_cash: string; cash: string; fees: string; realized_pnl: string }>(
    'SELECT initial_cash::text, cash::text, fees::text, realized_pnl::text FROM trading_account WHERE id = 1',
  );
  if (!row) throw new Error('trading_account has no row after its insert');
  const positions = Object.fromEntries((await loadPositions(db)).map((p) => [p.symbol, p]));
  return { initialCash: BigInt(row.initial_cash), cash: BigInt(row.cash), fees: BigInt(row.fees), realizedPnl: BigInt(row.realized_pnl), positions };
}

/** Every symbol traded so far, flat ones included, by symbol. */
export async function loadPositions(db: Db): Promise<Position[]> {
  const rows = await db.query<{ symbol: SymbolCode; quantity: string; cost_basis: string; realized_pnl: string }>(
    'SELECT symbol, quantity::text, cost_basis::text, realized_pnl::text FROM trading_positions ORDER BY symbol',
  );
  return rows.map((r) => ({ symbol: r.symbol, quantity: BigInt(r.quantity), costBasis: BigInt(r.cost_basis), realizedPnl: BigInt(r.realized_pnl) }));
}

/** The stored trading state, or null before anything set one (then trading is ACTIVE). */
export async function loadRiskState(db: Db): Promise<StoredRiskState | null> {
  const [row] = await db.query<{ mode: TradingState; since: Date; reason: string | null; actor: string }>(
    'SELECT mode, since, reason, actor FROM trading_state WHERE id = 1',
  );
  return row ? { mode: row.mode, since: row.since.getTime(), reason: row.reason, actor: row.actor } : null;
}

export async function saveRiskState(db: Db, state: StoredRiskState): Promise<void> {
  await db.query(
    `INSERT INTO trading_state (id, mode, since, reason, actor) VALUES (1, $1, $2::timestamptz, $3, $4)
     ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, since = excluded.since, reason = excluded.reason, actor = excluded.actor`,
    [state.mode, isoTime(state.since), state.reason, state.actor],
  );
}

/** The day's opening equity: `equity` if this is the day's first call, else the one stored first. */
export async function dayOpeningEquity(db: Db, date: IsoDate, equity: Centavos, at: number): Promise<Centavos> {
  await db.query('INSERT INTO trading_days (date, opening_equity, recorded_at) VALUES ($1::date, $2::int8, $3::timestamptz) ON CONFLICT (date) DO NOTHING', [
    date,
    String(equity),
    isoTime(at),
  ]);
  const [row] = await db.query<{ opening_equity: string }>('SELECT opening_equity::text FROM trading_days WHERE date = $1::date', [date]);
  if (!row) throw new Error(`trading_days has no row for ${date} after its insert`);
  return BigInt(row.opening_equity);
}

/** The stored opening equity of each trading day from `from` on, oldest first. */
export async function dayOpeningEquities(db: Db, from: IsoDate, limit: number): Promise<Array<{ date: IsoDate; openingEquity: Centavos }>> {
  const rows = await db.query<{ date: IsoDate; opening_equity: string }>(
    'SELECT date::text AS date, opening_equity::text FROM trading_days WHERE date >= $1::date ORDER BY date LIMIT $2',
    [from, limit],
  );
  return rows.map((r) => ({ date: r.date, openingEquity: BigInt(r.opening_equity) }));
}
