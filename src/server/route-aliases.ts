/**
 * The original system's paths (the USDCOP-RL-Models trading API and realtime services), kept so
 * that its clients keep working: each one is rewritten, before routing, to the Tasa route that
 * answers it. The request then runs that very route (its schema, auth, rate limit, handler,
 * WebSocket upgrade and metrics label), so an alias can never drift from its route. Rewriting
 * instead of registering copies (fastify `onRoute`) also keeps @fastify/websocket's wrapping of
 * WebSocket handlers intact. docs/operations.md lists them as aliases.
 */

/** Original path (exact, no query) -> Tasa path. */
const SAME_ANSWER: ReadonlyMap<string, string> = new Map([
  ['/api/health', '/health'],
  ['/api/market/health', '/health'],
  ['/metrics/realtime-stats', '/status'],
  ['/ws/market-data', '/ws'],
]);

/** `/api/latest/{symbol}` -> `/market/latest?symbol={symbol}` (the symbol stays URL-encoded). */
const LATEST_BY_PATH = /^\/api\/latest\/([^/?]+)$/;

/** The Tasa URL an original-system URL stands for, or the URL itself when it is no alias. */
export function resolveAlias(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const target = SAME_ANSWER.get(path);
  if (target !== undefined) return target + (q === -1 ? '' : `?${query}`);
  const latest = LATEST_BY_PATH.exec(path);
  if (latest) return `/market/latest?symbol=${latest[1] ?? ''}${query === '' ? '' : `&${query}`}`;
  return url;
}
