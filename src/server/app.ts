/**
 * The one fastify server: REST API, WebSocket gateway, OpenAPI, metrics and (when built) the
 * dashboard. Each concern is a plugin under routes/ or ws/ that receives the ServerDeps as its
 * options; cross-cutting parts (errors, auth, CORS, rate limits, request metrics) are set up here.
 */
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { authPlugin } from './auth.ts';
import type { ServerDeps } from './deps.ts';
import { HttpError, installErrorHandler } from './http-errors.ts';
import { rejectNonFiniteNumbers } from './param-bounds.ts';
import { resolveAlias } from './route-aliases.ts';
import { adminRoutes } from './routes/admin-routes.ts';
import { alertsRoutes } from './routes/alerts-routes.ts';
import { analyticsRoutes } from './routes/analytics-routes.ts';
import { candleRoutes } from './routes/candle-routes.ts';
import { deskRoutes } from './routes/desk-routes.ts';
import { complianceRoutes } from './routes/compliance-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { instrumentRoutes } from './routes/instrument-routes.ts';
import { marketRoutes } from './routes/market-routes.ts';
import { metricsRoutes } from './routes/metrics-routes.ts';
import { pipelineRoutes } from './routes/pipeline-routes.ts';
import { realtimeRoutes } from './routes/realtime-routes.ts';
import { referenceRoutes } from './routes/reference-routes.ts';
import { strategyRoutes } from './routes/strategy-routes.ts';
import { tradingRoutes } from './routes/trading-routes.ts';
import { walkForwardRoutes } from './routes/walk-forward-routes.ts';
import { webRoutes } from './routes/web-routes.ts';
import { gatewayRoutes } from './ws/gateway-routes.ts';

export type TasaServer = FastifyInstance;

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: logger,
    // Per-request lines would drown the log at thousands of requests/s; durations go to /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    // Query strings like ?symbol=USD/COP arrive URL-encoded; keep path params decoded too.
    routerOptions: { ignoreTrailingSlash: true },
    // The original system's paths answer as aliases of their Tasa routes (route-aliases.ts).
    rewriteUrl: (req) => resolveAlias(req.url ?? '/'),
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  rejectNonFiniteNumbers(app);
  const closers: Array<() => Promise<unknown>> = [];
  app.addHook('onClose', async () => {
    for (const close of closers) await close();
  });
  await registerCommonPlugins(app, deps, closers);
  recordRequestDurations(app, deps);
  for (const routes of [healthRoutes, marketRoutes, instrumentRoutes, candleRoutes, deskRoutes, referenceRoutes, pipelineRoutes, complianceRoutes, adminRoutes, alertsRoutes, analyticsRoutes, walkForwardRoutes, tradingRoutes, strategyRoutes, realtimeRoutes, gatewayRoutes, metricsRoutes, webRoutes]) {
    await app.register(routes, deps);
  }
  return app;
}

async function registerCommonPlugins(app: FastifyInstance, deps: ServerDeps, closers: Array<() => Promise<unknown>>): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Tasa API', version: deps.version, description: 'USD/COP market data and trading research. Times are UTC (ISO 8601 with Z).' },
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' }, bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  const origins = deps.config.TASA_CORS_ORIGINS.split(',').map((o) => o.trim()).filter((o) => o !== '');
  // An explicit allow-list only: never '*' (and so never '*' with credentials).
  await app.register(fastifyCors, { origin: origins.length > 0 ? origins : false, credentials: origins.length > 0 });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(authPlugin, deps);
  await registerRateLimit(app, deps, closers);
}

async function registerRateLimit(app: FastifyInstance, deps: ServerDeps, closers: Array<() => Promise<unknown>>): Promise<void> {
  const max = deps.config.TASA_RATE_LIMIT_PER_MINUTE;
  if (max === 0) return;
  // With Redis, every API process shares one count per client.
  // No offline queue: while Redis is unreachable a count fails at once and the request passes
  // (skipOnError below) instead of waiting for a reconnect.
  const redis = deps.config.REDIS_URL ? new Redis(deps.config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false }) : null;
  if (redis) {
    let warned = false;
    redis.on('error', (err: Error) => {
      if (!warned) deps.logger.warn({ err: err.message }, 'rate limit: Redis unreachable; requests are not counted until it returns');
      warned = true;
    });
    redis.on('ready', () => (warned = false));
    closers.push(() => redis.quit().catch(() => redis.disconnect()));
    // Counted from the first request when Redis is up; when it is not, ioredis keeps reconnecting.
    await redis.connect().catch(() => {});
  }
  await app.register(fastifyRateLimit, {
    max,
    timeWindow: 60_000,
    ...(redis ? { redis, nameSpace: 'tasa:ratelimit:' } : {}),
    // A limiter store that fails (Redis down) lets the request through: an outage of the shared
    // count must not turn every API call into a 500.
    skipOnError: true,
    keyGenerator: (request) => (request.principal ? `p:${request.principal.id}` : `ip:${request.ip}`),
    allowList: (request) => request.url === '/health' || request.url === '/metrics',
    // Thrown, so it goes through the error handler (one body shape); the plugin has set Retry-After.
    errorResponseBuilder: (_request, context) =>
      new HttpError(context.statusCode, `Rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s (Retry-After).`),
  });
}

function recordRequestDurations(app: FastifyInstance, deps: ServerDeps): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

/** Builds the server and listens; `close()` stops it (and its WebSocket clients). */
export async function startServer(deps: ServerDeps): Promise<{ app: FastifyInstance; url: string; close: () => Promise<void> }> {
  const app = await buildServer(deps);
  await app.listen({ host: deps.config.TASA_HTTP_HOST, port: deps.config.TASA_HTTP_PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : deps.config.TASA_HTTP_PORT;
  return { app, url: `http://${deps.config.TASA_HTTP_HOST}:${port}`, close: () => app.close() };
}
