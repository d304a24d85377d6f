/**
 * API tokens (migration 005). A token is `tasa_` + 32 random bytes (base64url); only its sha256
 * is stored, so a database leak does not leak tokens. The plain token is returned once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';
import { isoTimeOrNull, msOrNull } from './rows.ts';

export type TokenRole = 'reader' | 'admin';

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

function toToken(r: TokenRow): ApiToken {
  return { id: r.id, name: r.name, role: r.role, createdAt: r.created_at.getTime(), lastUsedAt: msOrNull(r.last_used_at), revokedAt: msOrNull(r.revoked_at) };
}
