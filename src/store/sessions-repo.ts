/** Per-session data quality, one row per (symbol, Bogota date). */
import type { SessionQuality, SessionStatus } from '../domain/session-quality.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import type { Db } from './db.ts';
import { chunked } from './rows.ts';

const UPSERT_SESSIONS = `
  INSERT INTO sessions AS s (symbol, date, expected, present, missing, flat_share, repaired, status)
  SELECT * FROM unnest($1::text[], $2::date[], $3::int[], $4::int[], $5::int[], $6::float8[], $7::int[], $8::text[])
  ON CONFLICT (symbol, date) DO UPDATE
    SET (expected, present, missing, flat_share, repaired, status, updated_at) =
        (excluded.expected, excluded.present, excluded.missing, excluded.flat_share, excluded.repaired, excluded.status, now())`;

/** Writes (inserts or replaces) the quality rows; for a (symbol, date) given twice the last wins. Returns rows written. */
export async function upsertSessions(db: Db, input: readonly SessionQuality[]): Promise<number> {
  const rows = [...new Map(input.map((r) => [`${r.symbol}\u0000${r.date}`, r])).values()];
  await db.transaction(async (tx) => {
    for (const chunk of chunked(rows)) {
      await tx.query(UPSERT_SESSIONS, [
        chunk.map((r) => r.symbol),
        chunk.map((r) => r.date),
        chunk.map((r) => r.expected),
        chunk.map((r) => r.present),
        chunk.map((r) => r.missing),
        chunk.map((r) => r.flatShare),
        chunk.map((r) => r.repaired),
        chunk.map((r) => r.status),
      ]);
    }
  });
  return rows.length;
}

interface SessionRow {
  symbol: string;
  date: string;
  expected: number;
  present: number;
  missing: number;
  flat_share: number | null;
  repaired: number;
  status: SessionStatus;
}

/** Sessions from `fromDate` to `toDate`, both inclusive, by date. */
export async function sessionsBetween(db: Db, symbol: SymbolCode, fromDate: IsoDate, toDate: IsoDate): Promise<SessionQuality[]> {
  const rows = await db.query<SessionRow>(
    `SELECT symbol, date::text AS date, expected, present, missing, flat_share, repaired, status
     FROM sessions WHERE symbol = $1 AND date BETWEEN $2::date AND $3::date ORDER BY date`,
    [symbol, fromDate, toDate],
  );
  return rows.map((r) => ({
    symbol: r.symbol,
    date: r.date,
    expected: r.expected,
    present: r.present,
    missing: r.missing,
    flatShare: r.flat_share,
    repaired: r.repaired,
    status: r.status,
  }));
}
