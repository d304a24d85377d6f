/**
 * pg-boss over our `Db` (used for embedded PGlite, which has no connection string): pg-boss only
 * needs `executeSql(text, values) -> { rows }`.
 *
 * - pg-boss sends its schema creation and migrations as one parameterless text of several
 *   statements (BEGIN; ...; COMMIT). PGlite's `query` uses the extended protocol, which refuses
 *   several commands, so such a text goes through `exec` (simple protocol) instead. It is
 *   recognised by PostgreSQL's own refusal (42601), which costs nothing: nothing was executed.
 * - If such a text fails half-way, the session is left inside its aborted BEGIN (PGlite has one
 *   connection, so every later query would fail); it is rolled back at once. PGlite runs each
 *   `exec` exclusively, so nothing else can have slipped into that transaction.
 */
import type PgBoss from 'pg-boss';
import type { Db } from '../store/db.ts';

const MULTIPLE_COMMANDS = /multiple commands/i;

export function pgBossDb(db: Db): PgBoss.Db {
  return {
    async executeSql(text: string, values?: readonly unknown[]): Promise<{ rows: object[] }> {
      if (values !== undefined && values.length > 0) return { rows: await db.query(text, values) };
      try {
        return { rows: await db.query(text) };
      } catch (err) {
        if (!isMultipleCommands(err)) throw err;
      }
      await execWhole(db, text);
      return { rows: [] };
    },
  };
}

function isMultipleCommands(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '42601' && typeof e.message === 'string' && MULTIPLE_COMMANDS.test(e.message);
}

async function execWhole(db: Db, text: string): Promise<void> {
  try {
    await db.exec(text);
  } catch (err) {
    // Outside a transaction this is a no-op with a warning.
    await db.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
