/** What `tasa token create|list|revoke` run (loaded on demand by ../commands/token-commands.ts). */
import { systemClock } from '../../clock.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { createTokenWithAudit, listApiTokens, revokeTokenWithAudit, TOKEN_ROLES, type ApiToken, type TokenRole } from '../../store/api-tokens-repo.ts';
import { parseChoiceArg } from '../args.ts';
import { createContext, withStore } from '../context.ts';
import { createRowWriter, parseFormat, type Column, type Row } from '../output.ts';

const ACTOR = 'cli';
const MAX_NAME_CHARS = 100;
const TOKEN_ID = /^t_[0-9a-f]{12}$/;

const TOKEN_COLUMNS: Column[] = [{ key: 'id' }, { key: 'name' }, { key: 'role' }, { key: 'status' }, { key: 'created_at' }, { key: 'last_used_at' }, { key: 'revoked_at' }];

export interface CreateOptions {
  name: string;
  role: string;
}

export async function createToken(o: CreateOptions): Promise<void> {
  const name = tokenName(o.name);
  const role = tokenRole(o.role);
  const { token, info } = await withStore(createContext(), (db) => createTokenWithAudit(db, { name, role, actor: ACTOR, at: systemClock.now() }));
  console.log(`id: ${info.id}`);
  console.log(`role: ${info.role}`);
  console.log(`token: ${token}`);
  console.error('Store the token now: it is not shown again (send it as X-API-Key or Authorization: Bearer).');
}

export async function listTokens(format: string | undefined): Promise<void> {
  const writer = createRowWriter(parseFormat(format, process.stdout.isTTY), TOKEN_COLUMNS, process.stdout);
  const tokens = await withStore(createContext(), (db) => listApiTokens(db));
  await writer.write(tokens.map(tokenRow));
  await writer.end();
}

export async function revokeToken(id: string): Promise<void> {
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
  return parseChoiceArg('--role', value, TOKEN_ROLES);
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
