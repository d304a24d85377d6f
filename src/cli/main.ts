/** The `tasa` command. Each subcommand is a thin wrapper over the modules below it. */
import { Command, CommanderError } from 'commander';
import { TasaError, errorMessage } from '../errors.ts';
import { registerAdminCommands } from './commands/admin-commands.ts';
import { registerImportCommand } from './commands/import-command.ts';
import { registerJobsCommands } from './commands/jobs-commands.ts';
import { registerPaperCommands } from './commands/paper-commands.ts';
import { registerPipelineCommands } from './commands/pipeline-commands.ts';
import { registerQueryCommands } from './commands/query-commands.ts';
import { registerSimulateCommand } from './commands/simulate-command.ts';
import { registerTokenCommands } from './commands/token-commands.ts';
import { registerTradingCommands } from './commands/trading-commands.ts';
import { registerUpCommand } from './commands/up-command.ts';

export function buildProgram(): Command {
  const program = new Command('tasa')
    .description('Tasa: USD/COP market data and trading research')
    .showHelpAfterError()
    .exitOverride();
  registerUpCommand(program);
  registerImportCommand(program);
  registerQueryCommands(program);
  registerAdminCommands(program);
  registerSimulateCommand(program);
  registerJobsCommands(program);
  registerPipelineCommands(program);
  registerPaperCommands(program);
  registerTokenCommands(program);
  registerTradingCommands(program);
  return program;
}

/** Runs the CLI; a user error prints one sentence and exits non-zero, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof TasaError) {
      console.error(`error: ${err.message}${err.hint ? ` ${err.hint}` : ''}`);
      return 2;
    }
    console.error(`error: ${errorMessage(err)}`);
    if (process.env['TASA_DEBUG']) console.error(err);
    return 1;
  }
}

process.exitCode = await main(process.argv);
