/**
 * `tasa token create|list|revoke`: API tokens for the REST/WebSocket API. A token's secret is
 * printed once, at creation; only its sha256 is stored. Creating and revoking are audited with
 * actor `cli`.
 */
import type { Command } from 'commander';
import { TOKEN_ROLES } from '../../store/api-tokens-repo.ts';
import type { CreateOptions } from '../actions/token-actions.ts';

/** Loaded when a command runs: the store is not every command's start-up. */
const actions = () => import('../actions/token-actions.ts');

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens for the REST/WebSocket API (only their sha256 is stored)');
  token
    .command('create')
    .description('Create a token and print it once (store it: it cannot be shown again)')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--role <role>', TOKEN_ROLES.join(' | '))
    .action(async (o: CreateOptions) => (await actions()).createToken(o));
  token
    .command('list')
    .description('List tokens: id, name, role, status, times (never the secret)')
    .option('--format <format>', 'table | csv | json (default: table on a terminal, csv otherwise)')
    .action(async (o: { format?: string }) => (await actions()).listTokens(o.format));
  token
    .command('revoke <id>')
    .description('Revoke a token by id (t_...): it stops working at once')
    .action(async (id: string) => (await actions()).revokeToken(id));
}

