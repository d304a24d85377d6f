/** The instruments Tasa knows. */
import type { InstrumentInfo } from '../domain/symbol.ts';
import type { Db } from './db.ts';

/** Inserts missing instruments and updates changed ones; unchanged rows are not touched. */
export async function ensureSymbols(db: Db, infos: readonly InstrumentInfo[]): Promise<void> {
  await db.query(
    `INSERT INTO symbols AS s (symbol, base, quote, decimals)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])
     ON CONFLICT (symbol) DO UPDATE SET (base, quote, decimals) = (excluded.base, excluded.quote, excluded.decimals)
       WHERE (s.base, s.quote, s.decimals) IS DISTINCT FROM (excluded.base, excluded.quote, excluded.decimals)`,
    [infos.map((i) => i.symbol), infos.map((i) => i.base), infos.map((i) => i.quote), infos.map((i) => i.decimals)],
  );
}

export async function knownSymbols(db: Db): Promise<InstrumentInfo[]> {
  return db.query<InstrumentInfo>('SELECT symbol, base, quote, decimals FROM symbols ORDER BY symbol');
}
