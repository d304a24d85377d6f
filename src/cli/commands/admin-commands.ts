/** `tasa migrate`, `tasa doctor`, `tasa backup`, `tasa restore`: the database schema, what this installation can reach, its backups. */
import type { Command } from 'commander';

/** Loaded when a command runs: the store and the Redis client are not every command's start-up. */
const actions = () => import('../actions/admin-actions.ts');
const backupActions = () => import('../actions/backup-actions.ts');

export function registerAdminCommands(program: Command): void {
  program
    .command('migrate')
    .description('Bring the database schema up to date (runs automatically before other commands)')
    .action(async () => (await actions()).runMigrate());
  program
    .command('doctor')
    .description('Which database and servers are configured, whether they answer, and the schema version')
    .action(async () => (await actions()).runDoctor());
  program
    .command('backup')
    .description('Back up the configured store (pg_dump, or the embedded data directory) with a manifest and SHA-256 checksums')
    .argument('<dir>', 'new or empty directory to write the backup into')
    .action(async (dir: string) => (await backupActions()).runBackup(dir));
  program
    .command('restore')
    .description('Restore a backup into the configured store, which must be new and empty; refuses a damaged or newer-schema backup')
    .argument('<dir>', 'directory `tasa backup` wrote')
    .action(async (dir: string) => (await backupActions()).runRestore(dir));
}
