/**
 * API tokens (migration 005). A token is `tasa_` + 32 random bytes (base64url); only its sha256
 * is stored, so a database leak does not leak tokens. The plain token is returned once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TasaError } from '../errors.ts';
import { appendAudit } from './audit-repo.ts';
import type { Db } from './db.ts';
import { isoTimeOrNull, msOrNull } from './rows.ts';

/** reader < trader (places and cancels orders) < admin; a higher role may do what a lower one may. */
export const TOKEN_ROLES = ['reader', 'trader', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export function isTokenRole(value: unknown): value is TokenRole {
  return (TOKEN_ROLES as readonly unknown[]).includes(value);
}

export interface ApiToken {
  id: string;
  name: string;
  role: TokenRole;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

interface TokenRow {
  id: string;
  name: string;
  role: TokenRole;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a token; the returned `token` is the only copy of the secret. */
export async function createApiToken(db: Db, input: { name: string; role: TokenRole; at?: number }): Promise<{ token: string; info: ApiToken }> {
  const token = `tasa_${randomBytes(32).toString('base64url')}`;
  const id = `t_${randomBytes(6).toString('hex')}`;
  const [row] = await db.query<TokenRow>(
    `INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()))
     RETURNING id, name, role, created_at, last_used_at, revoked_at`,
    [id, input.name, input.role, hashToken(token), isoTimeOrNull(input.at)],
  );
  if (!row) throw new TasaError('internal', 'api_tokens insert returned no row.');
  return { token, info: toToken(row) };
}

/** The active token with this secret, or null (unknown or revoked). Marks it used. */
export async function findActiveToken(db: Db, token: string, at?: number): Promise<ApiToken | null> {
  const [row] = await db.query<TokenRow>(
    `UPDATE api_tokens SET last_used_at = coalesce($2::timestamptz, now())
     WHERE token_hash = $1 AND revoked_at IS NULL
     RETURNING id, name, role, created_at, last_used_at, revoked_at`,
    [hashToken(token), isoTimeOrNull(at)],
  );
  return row ? toToken(row) : null;
}

export async function revokeApiToken(db: Db, id: string, at?: number): Promise<boolean> {
  const rows = await db.query(`UPDATE api_tokens SET revoked_at = coalesce($2::timestamptz, now()) WHERE id = $1 AND revoked_at IS NULL RETURNING id`, [id, isoTimeOrNull(at)]);
  return rows.length > 0;
}

export async function listApiTokens(db: Db): Promise<ApiToken[]> {
  const rows = await db.query<TokenRow>('SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at, id');
  return rows.map(toToken);
}

export async function getApiToken(db: Db, id: string): Promise<ApiToken | null> {
  const [row] = await db.query<TokenRow>('SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1', [id]);
  return row ? toToken(row) : null;
}

/**
 * Creates a token and its audit entry (`token.create`) in one transaction. The entry names the
 * token by id, never by its secret.
 */
export async function createTokenWithAudit(db: Db, input: { name: string; role: TokenRole; actor: string; at?: number }): Promise<{ token: string; info: ApiToken }> {
  return db.transaction(async (tx) => {
    const created = await createApiToken(tx, input);
    await appendAudit(tx, [{ actor: input.actor, action: 'token.create', entity: `token:${created.info.id}`, details: { name: input.name, role: input.role }, at: input.at }]);
    return created;
  });
}

/** Revokes an active token with its audit entry (`token.revoke`); an unknown id is not_found, a revoked one a conflict. */
export async function revokeTokenWithAudit(db: Db, input: { id: string; actor: string; at?: number }): Promise<ApiToken> {
  return db.transaction(async (tx) => {
    const before = await getApiToken(tx, input.id);
    if (before === null) throw new TasaError('not_found', `API token ${input.id} does not exist.`, { input: input.id, hint: 'List the tokens to see their ids.' });
    if (before.revokedAt !== null || !(await revokeApiToken(tx, input.id, input.at))) {
      throw new TasaError('conflict', `API token ${input.id} is already revoked.`, { input: input.id });
    }
    await appendAudit(tx, [{ actor: input.actor, action: 'token.revoke', entity: `token:${input.id}`, details: { name: before.name, role: before.role }, at: input.at }]);
    const after = await getApiToken(tx, input.id);
    if (after === null) throw new TasaError('internal', `API token ${input.id} vanished while being revoked.`, { input: input.id });
    return after;
  });
}

function toToken(r: TokenRow): ApiToken {
  return { id: r.id, name: r.name, role: r.role, createdAt: r.created_at.getTime(), lastUsedAt: msOrNull(r.last_used_at), revokedAt: msOrNull(r.revoked_at) };
}
