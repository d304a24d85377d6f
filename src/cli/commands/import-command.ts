/** `tasa import <file> --symbol USD/COP`: L0 + L1 from a CSV, CSV.gz or TwelveData export. */
import type { Command } from 'commander';
import type { ImportCliOptions } from '../actions/import-actions.ts';

/** Loaded when the command runs: the import pipeline and the store are not every command's start-up. */
const actions = () => import('../actions/import-actions.ts');

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('Import 5-minute bars (CSV, CSV.gz, TwelveData time_series JSON/CSV) into L0 raw and L1 standardized bars')
    .argument('<file>', 'file to import')
    .option('--symbol <symbol>', 'instrument the file holds', 'USD/COP')
    .option('--timezone <zone>', 'zone of times written without an offset (IANA name)', 'UTC')
    .option('--rejects <file>', 'write every rejected row (line, reason) to this CSV file')
    .option('--force', 'import again even when this file was imported before and the store has not changed since')
    .action(async (file: string, o: ImportCliOptions) => (await actions()).runImport(file, o));
}

