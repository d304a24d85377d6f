/** `tasa migrate`, `tasa doctor`: the database schema and what this installation can reach. */
import type { Command } from 'commander';

/** Loaded when a command runs: the store and the Redis client are not every command's start-up. */
const actions = () => import('../actions/admin-actions.ts');

export function registerAdminCommands(program: Command): void {
  program
    .command('migrate')
    .description('Bring the database schema up to date (runs automatically before other commands)')
    .action(async () => (await actions()).runMigrate());
  program
    .command('doctor')
    .description('Which database and servers are configured, whether they answer, and the schema version')
    .action(async () => (await actions()).runDoctor());
}
