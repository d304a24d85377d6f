/**
 * `tasa token create|list|revoke`: API tokens for the REST/WebSocket API. A token's secret is
 * printed once, at creation; only its sha256 is stored. Creating and revoking are audited with
 * actor `cli`.
 */
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { createTokenWithAudit, isTokenRole, listApiTokens, revokeTokenWithAudit, TOKEN_ROLES, type ApiToken, type TokenRole } from '../../store/api-tokens-repo.ts';
import { createContext, withStore } from '../context.ts';
import { createRowWriter, parseFormat, type Column, type Row } from '../output.ts';

const ACTOR = 'cli';
const MAX_NAME_CHARS = 100;
const TOKEN_ID = /^t_[0-9a-f]{12}$/;

const TOKEN_COLUMNS: Column[] = [{ key: 'id' }, { key: 'name' }, { key: 'role' }, { key: 'status' }, { key: 'created_at' }, { key: 'last_used_at' }, { key: 'revoked_at' }];

interface CreateOptions {
  name: string;
  role: string;
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens for the REST/WebSocket API (only their sha256 is stored)');
  token
    .command('create')
    .description('Create a token and print it once (store it: it cannot be shown again)')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--role <role>', TOKEN_ROLES.join(' | '))
    .action((o: CreateOptions) => createToken(o));
  token
    .command('list')
    .description('List tokens: id, name, role, status, times (never the secret)')
    .option('--format <format>', 'table | csv | json (default: table on a terminal, csv otherwise)')
    .action((o: { format?: string }) => listTokens(o.format));
  token
    .command('revoke <id>')
    .description('Revoke a token by id (t_...): it stops working at once')
    .action((id: string) => revokeToken(id));
}

async function createToken(o: CreateOptions): Promise<void> {
  const name = tokenName(o.name);
  const role = tokenRole(o.role);
  const { token, info } = await withStore(createContext(), (db) => createTokenWithAudit(db, { name, role, actor: ACTOR, at: systemClock.now() }));
  console.log(`id: ${info.id}`);
  console.log(`role: ${info.role}`);
  console.log(`token: ${token}`);
  console.error('Store the token now: it is not shown again (send it as X-API-Key or Authorization: Bearer).');
}

async function listTokens(format: string | undefined): Promise<void> {
  const writer = createRowWriter(parseFormat(format, process.stdout.isTTY), TOKEN_COLUMNS, process.stdout);
  const tokens = await withStore(createContext(), (db) => listApiTokens(db));
  await writer.write(tokens.map(tokenRow));
  await writer.end();
}

async function revokeToken(id: string): Promise<void> {
  if (!TOKEN_ID.test(id)) throw new TasaError('bad_argument', `"${id}" is not a token id (t_ + 12 hex digits); see \`tasa token list\`.`, { input: id });
  const revoked = await withStore(createContext(), (db) => revokeTokenWithAudit(db, { id, actor: ACTOR, at: systemClock.now() }));
  console.log(`token ${revoked.id} (${revoked.name}, ${revoked.role}) revoked`);
}

function tokenName(value: string): string {
  const name = value.trim();
  if (name === '' || name.length > MAX_NAME_CHARS) {
    throw new TasaError('bad_argument', `--name must be 1 to ${MAX_NAME_CHARS} characters, not "${value}".`, { input: `--name=${value}` });
  }
  return name;
}

function tokenRole(value: string): TokenRole {
  if (isTokenRole(value)) return value;
  throw new TasaError('bad_argument', `--role must be one of ${TOKEN_ROLES.join(', ')}, not "${value}".`, { input: `--role=${value}` });
}

function tokenRow(t: ApiToken): Row {
  const iso = (ms: number | null) => (ms === null ? null : toIsoUtc(ms));
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    status: t.revokedAt === null ? 'active' : 'revoked',
    created_at: toIsoUtc(t.createdAt),
    last_used_at: iso(t.lastUsedAt),
    revoked_at: iso(t.revokedAt),
  };
}
