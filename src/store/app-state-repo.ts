/** Small key/value facts about this database (JSON values). */
import type { Db } from './db.ts';

export async function getAppState<T>(db: Db, key: string): Promise<T | null> {
  const [row] = await db.query<{ value: T }>('SELECT value FROM app_state WHERE key = $1', [key]);
  return row ? row.value : null;
}

export async function setAppState(db: Db, key: string, value: unknown): Promise<void> {
  await db.query(
    `INSERT INTO app_state (key, value) VALUES ($1, $2::jsonb)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`,
    [key, JSON.stringify(value)],
  );
}
