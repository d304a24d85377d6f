/**
 * `tasa` with only the jobs commands, for the CLI tests: main.ts registers them too once wired,
 * but importing main.ts would run it. Same error handling as main.ts.
 */
import { Command, CommanderError } from 'commander';
import { registerJobsCommands } from '../../../src/cli/commands/jobs-commands.ts';
import { TasaError, errorMessage } from '../../../src/errors.ts';

const program = new Command('tasa').exitOverride();
registerJobsCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode;
  else {
    console.error(err instanceof TasaError ? `error: ${err.message}${err.hint ? ` ${err.hint}` : ''}` : `error: ${errorMessage(err)}`);
    process.exitCode = err instanceof TasaError ? 2 : 1;
  }
}
