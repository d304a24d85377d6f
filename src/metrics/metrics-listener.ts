/**
 * `GET /metrics` for a process that serves no API (`tasa ingest`, `tasa worker`), on
 * TASA_METRICS_PORT: its counters (ticks received, bars stored, spool, buffers, jobs) are facts of
 * that process only, so Prometheus must scrape it as well as the API processes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';
import type { ScrapeGauges } from './scrape-gauges.ts';

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsListener(o: { host: string; port: number; metrics: Metrics; gauges: ScrapeGauges; logger: Logger }): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served here.\n');
      return;
    }
    o.gauges
      .update()
      .then(() => o.metrics.registry.metrics())
      .then(
        (text) => res.writeHead(200, { 'content-type': o.metrics.registry.contentType }).end(text),
        (err: unknown) => {
          o.logger.warn({ err: errorMessage(err) }, 'metrics: could not render');
          res.writeHead(503, { 'content-type': 'text/plain' }).end('Metrics are unavailable; see the log.\n');
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
