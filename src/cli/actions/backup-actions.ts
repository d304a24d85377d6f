/** What `tasa backup` and `tasa restore` run (loaded on demand by ../commands/admin-commands.ts). */
import { resolve } from 'node:path';
import { systemClock } from '../../clock.ts';
import { backupStore, restoreStore, type StoreLocation } from '../../store/backup/backup.ts';
import type { BackupManifest } from '../../store/backup/backup-manifest.ts';
import { createContext, type CliContext } from '../context.ts';

const ACTOR = 'cli';

export async function runBackup(dir: string): Promise<void> {
  const manifest = await backupStore({ store: storeLocation(createContext()), dir, clock: systemClock, actor: ACTOR });
  console.log(`Backed up ${summary(manifest)} into ${resolve(dir)}.`);
}

export async function runRestore(dir: string): Promise<void> {
  const manifest = await restoreStore({ store: storeLocation(createContext()), dir, clock: systemClock, actor: ACTOR });
  console.log(`Restored ${summary(manifest)} from ${resolve(dir)} (backed up ${manifest.createdAt} by Tasa ${manifest.tasaVersion}).`);
}

function storeLocation(ctx: CliContext): StoreLocation {
  const { DATABASE_URL, TASA_DATA_DIR } = ctx.config;
  return DATABASE_URL === undefined ? { dataDir: resolve(TASA_DATA_DIR) } : { databaseUrl: DATABASE_URL };
}

function summary(m: BackupManifest): string {
  const rows = Object.values(m.tables).reduce((a, b) => a + b, 0);
  return `${Object.keys(m.tables).length} tables (${rows} rows, schema version ${m.schemaVersion}, ${m.store})`;
}
