/**
 * Authentication and roles. A client proves who it is with an API token (`X-API-Key: tasa_...`
 * or `Authorization: Bearer tasa_...`, looked up by hash in `api_tokens`) or, when
 * TASA_JWT_SECRET is set, a JWT (`Authorization: Bearer <jwt>` with claim `role`).
 * Reads are public unless TASA_AUTH=all; writes and admin routes always need a token.
 */
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { findActiveToken, isTokenRole, TOKEN_ROLES, type TokenRole } from '../store/api-tokens-repo.ts';
import type { ServerDeps } from './deps.ts';
import { HttpError } from './http-errors.ts';

export interface Principal {
  /** Token id (`t_...`) or JWT subject; never the secret. */
  id: string;
  role: TokenRole;
  via: 'token' | 'jwt';
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** preHandler: the request must carry a token with this role or a higher one (reader < trader < admin). */
    requireRole(role: TokenRole): preHandlerHookHandler;
  }
}

const ROLE_RANK: Record<TokenRole, number> = { reader: 1, trader: 2, admin: 3 };

/** Routes that answer without a token even with TASA_AUTH=all (probes, docs, the dashboard shell). */
const ALWAYS_PUBLIC = [/^\/health(\?|$)/, /^\/metrics(\?|$)/, /^\/docs/, /^\/openapi\.json/, /^\/($|\?|assets\/|index\.html)/];

export const authPlugin = fp(async (app: FastifyInstance, deps: ServerDeps) => {
  const jwtSecret = deps.config.TASA_JWT_SECRET;
  if (jwtSecret !== undefined) await app.register(fastifyJwt, { secret: jwtSecret, verify: { algorithms: ['HS256'] } });
  app.decorateRequest('principal', null);
  const requireAll = deps.config.TASA_AUTH === 'all';
  const refuseAnonymous = (request: FastifyRequest): Error | undefined =>
    requireAll && request.principal === null && !ALWAYS_PUBLIC.some((re) => re.test(request.url))
      ? new HttpError(401, 'This server requires a token for every route: send X-API-Key or Authorization: Bearer.')
      : undefined;
  // Callback style so that an anonymous read (the hot path) costs no promise and no database trip.
  app.addHook('onRequest', (request, _reply, done) => {
    const credential = credentialOf(request);
    if (credential === null) return done(refuseAnonymous(request));
    identify(credential, request, deps, jwtSecret !== undefined).then(
      (principal) => {
        request.principal = principal;
        done();
      },
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  });
  app.decorate('requireRole', (role: TokenRole): preHandlerHookHandler => {
    return (request, _reply, done) => {
      const p = request.principal;
      if (p === null) return done(new HttpError(401, 'This route needs a token: send X-API-Key or Authorization: Bearer.'));
      if (ROLE_RANK[p.role] < ROLE_RANK[role]) return done(new HttpError(403, `This route needs the ${role} role; the token has ${p.role}.`));
      done();
    };
  });
});

async function identify(credential: string, request: FastifyRequest, deps: ServerDeps, jwtEnabled: boolean): Promise<Principal> {
  if (credential.startsWith('tasa_')) {
    const token = await findActiveToken(deps.db, credential, deps.clock.now());
    if (token === null) throw new HttpError(401, 'Unknown or revoked API token.');
    return { id: token.id, role: token.role, via: 'token' };
  }
  if (!jwtEnabled) throw new HttpError(401, 'Bearer credentials must be a Tasa API token (tasa_...); JWTs are accepted only when TASA_JWT_SECRET is set.');
  return verifyJwt(request);
}

function credentialOf(request: FastifyRequest): string | null {
  const key = request.headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  // Browsers cannot set headers on a WebSocket handshake: the token may come as ?token=.
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.['token'] === 'string' && query['token'] !== '' ? query['token'] : null;
}

async function verifyJwt(request: FastifyRequest): Promise<Principal> {
  let claims: { sub?: unknown; role?: unknown };
  try {
    claims = await request.jwtVerify<{ sub?: unknown; role?: unknown }>();
  } catch {
    throw new HttpError(401, 'Invalid or expired JWT.');
  }
  if (!isTokenRole(claims.role)) throw new HttpError(401, `The JWT has no role claim (${TOKEN_ROLES.join(', ')}).`);
  return { id: typeof claims.sub === 'string' ? claims.sub : 'jwt', role: claims.role, via: 'jwt' };
}
