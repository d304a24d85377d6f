/** Opens the configured store: PostgreSQL, the embedded store of a data directory, or PGlite in memory (see db.ts). */
import path from 'node:path';
import type { Db } from './db.ts';

export interface OpenDbOptions {
  /** PostgreSQL URL; when set, the postgres driver is used. */
  databaseUrl?: string;
  /**
   * Directory holding the embedded database (`<dataDir>/pgdata`). The first process to open it
   * owns it and serves it to the others, which reach it through that process (embedded-store.ts).
   */
  dataDir?: string;
  /** With `dataDir`: fail when another process owns the embedded database instead of going through it. */
  requireOwner?: boolean;
  /** Embedded database in memory only (tests). */
  memory?: boolean;
}

/** Opens PostgreSQL when a URL is given, else the embedded database of `<dataDir>`, else one in memory. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') {
    const { openPostgres } = await import('./postgres-driver.ts');
    return openPostgres(opts.databaseUrl);
  }
  if (opts.memory === true) {
    const { openPglite } = await import('./pglite-driver.ts');
    return openPglite({});
  }
  if (opts.dataDir === undefined) throw new Error('openDb needs databaseUrl, dataDir or memory: true');
  const { openEmbeddedStore } = await import('./embedded-store.ts');
  return openEmbeddedStore({ dataDir: path.resolve(opts.dataDir), requireOwner: opts.requireOwner === true });
}
