/**
 * `tasa retention status|run`: tick partitions older than TASA_TICK_RETENTION_DAYS are archived
 * to Parquet, verified by reading them back, then dropped (src/jobs/retention/).
 */
import type { Command } from 'commander';
import type { RetentionCliOptions, RetentionStatusCliOptions } from '../actions/retention-actions.ts';

/** Loaded when a command runs: the store and the archive are not every command's start-up. */
const actions = () => import('../actions/retention-actions.ts');

export function registerRetentionCommands(program: Command): void {
  const retention = program.command('retention').description('Tick retention: month partitions older than the limit are archived to Parquet, verified, then dropped');
  retention
    .command('status')
    .description('The tick partitions (rows, size, whether the next run takes them) and the archives written')
    .option('--days <n>', 'the age limit in days (default TASA_TICK_RETENTION_DAYS)')
    .option('--format <format>', 'table, csv or json (default: table on a terminal, else csv)')
    .action(async (o: RetentionStatusCliOptions) => (await actions()).runRetentionStatus(o));
  retention
    .command('run')
    .description('Archive every tick partition entirely older than the limit, verify the archive, then drop the partition (never before it verifies)')
    .option('--days <n>', 'the age limit in days (default TASA_TICK_RETENTION_DAYS)')
    .action(async (o: RetentionCliOptions) => (await actions()).runRetentionRun(o));
}
