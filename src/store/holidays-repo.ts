/** Market holidays (Colombia and the US), as computed by the calendar plus overrides. */
import { TasaError } from '../errors.ts';
import type { Holiday } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/time.ts';
import type { Db } from './db.ts';

/**
 * Replaces every holiday (all markets) dated in years fromYear..toYear, inclusive, with `rows`,
 * in one transaction. Rows outside that range are refused so the replacement stays exact.
 */
export async function replaceHolidays(db: Db, rows: readonly Holiday[], fromYear: number, toYear: number): Promise<number> {
  assertWithinYears(rows, fromYear, toYear);
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM holidays WHERE date >= make_date($1, 1, 1) AND date < make_date($2 + 1, 1, 1)', [fromYear, toYear]);
    await tx.query(
      `INSERT INTO holidays (date, market, name, origin)
       SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[])`,
      [rows.map((r) => r.date), rows.map((r) => r.market), rows.map((r) => r.name), rows.map((r) => r.origin)],
    );
  });
  return rows.length;
}

function assertWithinYears(rows: readonly Holiday[], fromYear: number, toYear: number): void {
  const outside = rows.find((r) => {
    const year = Number(r.date.slice(0, 4));
    return year < fromYear || year > toYear;
  });
  if (outside) {
    throw new TasaError('bad_argument', `Holiday ${outside.date} (${outside.name}) is outside the years ${fromYear}-${toYear} being replaced.`, {
      input: outside.date,
    });
  }
}

/** Holidays from `from` to `to`, both inclusive, by date then market. */
export async function holidaysBetween(db: Db, from: IsoDate, to: IsoDate): Promise<Holiday[]> {
  return db.query<Holiday>(
    `SELECT date::text AS date, market, name, origin FROM holidays
     WHERE date BETWEEN $1::date AND $2::date ORDER BY date, market`,
    [from, to],
  );
}
