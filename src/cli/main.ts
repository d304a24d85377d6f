/** The `tasa` command. Each subcommand is a thin wrapper over the modules below it. */
import { Command, CommanderError } from 'commander';
import { TasaError, errorMessage } from '../errors.ts';
import { TASA_VERSION } from '../version.ts';
import { registerAdminCommands } from './commands/admin-commands.ts';
import { registerImportCommand } from './commands/import-command.ts';
import { registerJobsCommands } from './commands/jobs-commands.ts';
import { registerPaperCommands } from './commands/paper-commands.ts';
import { registerPipelineCommands } from './commands/pipeline-commands.ts';
import { registerQueryCommands } from './commands/query-commands.ts';
import { registerRetentionCommands } from './commands/retention-commands.ts';
import { registerSimulateCommand } from './commands/simulate-command.ts';
import { registerTokenCommands } from './commands/token-commands.ts';
import { registerTradingCommands } from './commands/trading-commands.ts';
import { registerUpCommand } from './commands/up-command.ts';

export function buildProgram(): Command {
  const program = new Command('tasa')
    .description('Tasa: USD/COP market data and trading research')
    .version(TASA_VERSION, '-V, --version', 'print the version (opens no store)')
    .showHelpAfterError()
    .exitOverride();
  registerUpCommand(program);
  registerImportCommand(program);
  registerQueryCommands(program);
  registerAdminCommands(program);
  registerSimulateCommand(program);
  registerJobsCommands(program);
  registerRetentionCommands(program);
  registerPipelineCommands(program);
  registerPaperCommands(program);
  registerTokenCommands(program);
  registerTradingCommands(program);
  checkRequiredOptionsLast(program);
  return program;
}

/**
 * Commander checks required options before unknown ones, so `tasa calendar --bogus` answered that
 * --from was missing. Each required option becomes optional for the parser and is checked in a
 * preAction hook instead (after unknown options and arguments), with commander's own message.
 */
function checkRequiredOptionsLast(cmd: Command): void {
  const required = cmd.options.filter((option) => option.mandatory);
  for (const option of required) option.mandatory = false;
  if (required.length > 0) {
    cmd.hook('preAction', () => {
      const missing = required.find((option) => cmd.getOptionValue(option.attributeName()) === undefined);
      if (missing !== undefined) cmd.error(`error: required option '${missing.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    });
  }
  for (const sub of cmd.commands) checkRequiredOptionsLast(sub);
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
