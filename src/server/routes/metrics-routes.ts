/**
 * `GET /metrics`: every Tasa metric in Prometheus text format. Counters and histograms are what
 * this process recorded; the scrape-time gauges (market open, data freshness, key credits, gaps
 * open) are read from the database and the bus first (src/metrics/scrape-gauges.ts). Public, as
 * probes are, and outside the rate limit (app.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createScrapeGauges } from '../../metrics/scrape-gauges.ts';
import type { ServerDeps } from '../deps.ts';
import { ErrorBody } from '../http-errors.ts';

export const metricsRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  const gauges = createScrapeGauges({
    db: deps.db,
    bus: deps.bus,
    clock: deps.clock,
    calendar: deps.calendar,
    metrics: deps.metrics,
    symbols: deps.symbols,
    logger: deps.logger.child({ component: 'metrics' }),
  });
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        description: 'Ingest counters, latency histograms, job runs, HTTP and WebSocket figures, and gauges read at scrape time. Metric names: src/metrics/metrics.ts.',
        response: {
          200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: Type.String() } } },
          500: ErrorBody,
        },
      },
    },
    async (_request, reply) => {
      await gauges.update();
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
    },
  );
  return Promise.resolve();
};
