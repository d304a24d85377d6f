/**
 * A real Tasa server for route tests: a test database (PGlite or PostgreSQL, see test-db.ts),
 * a bus, a manual clock and the server built exactly as production builds it. Use `app.inject()`
 * for HTTP, or `listen: true` for real sockets (WebSocket tests, two gateways on one Redis).
 */
import { createMemoryBus, type Bus } from '../../src/bus/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { loadMarketCalendar } from '../../src/calendar-config.ts';
import { createLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { localTrading, NO_TRADING, startTradingEngine, tradingSettings } from '../../src/execution/trading-engine.ts';
import { buildServer, type TasaServer } from '../../src/server/app.ts';
import type { ServerDeps } from '../../src/server/deps.ts';
import { createApiToken, type TokenRole } from '../../src/store/api-tokens-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { syncReferenceData } from '../../src/store/reference-data.ts';

/** 2024-01-02 10:00 in Bogota (15:00Z): a Tuesday, market open. */
export const OPEN_TIME = Date.UTC(2024, 0, 2, 15, 0);

export interface TestServerOptions {
  db: Db;
  bus?: Bus;
  clock?: ManualClock;
  /** Environment-style overrides (TASA_AUTH, TASA_RATE_LIMIT_PER_MINUTE, ...). */
  env?: Record<string, string>;
  listen?: boolean;
  deps?: Partial<ServerDeps>;
  /** false: no trading engine in this server (its trading writes answer 503). Default: one on the test bus and clock. */
  trading?: false;
}

export interface TestServer {
  app: TasaServer;
  deps: ServerDeps;
  clock: ManualClock;
  /** `http://127.0.0.1:<port>` when listening, else null. */
  url: string | null;
  /** A fresh token with this role. */
  token(role: TokenRole): Promise<string>;
  close(): Promise<void>;
}

/** Every shipped instrument's calendar, as a deployment without TASA_INSTRUMENTS has them. */
const calendar = loadMarketCalendar({});

export async function startTestServer(o: TestServerOptions): Promise<TestServer> {
  const clock = o.clock ?? new ManualClock(OPEN_TIME);
  const ownBus = o.bus === undefined;
  const bus = o.bus ?? createMemoryBus({ clock });
  const config: Config = loadConfig({ TASA_LOG_LEVEL: 'silent', TASA_HTTP_PORT: '0', TASA_RATE_LIMIT_PER_MINUTE: '0', ...o.env });
  const symbols = ['USD/COP'];
  await syncReferenceData(o.db, symbols.map((symbol) => calendar.of(symbol)));
  const logger = createLogger('silent');
  const engine =
    o.trading === false || o.deps?.trading !== undefined
      ? null
      : await startTradingEngine({ db: o.db, bus, clock, calendar, logger, settings: tradingSettings(config, symbols) });
  const deps: ServerDeps = {
    db: o.db,
    bus,
    clock,
    calendar,
    config,
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    symbols,
    version: '0.0.0-test',
    localStatus: null,
    jobs: null,
    trading: engine === null ? NO_TRADING : localTrading(engine, 'test-server'),
    ...o.deps,
  };
  const app = await buildServer(deps);
  let url: string | null = null;
  if (o.listen === true) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('server has no port');
    url = `http://127.0.0.1:${address.port}`;
  }
  return {
    app,
    deps,
    clock,
    url,
    token: async (role) => (await createApiToken(o.db, { name: `test-${role}`, role })).token,
    close: async () => {
      await app.close();
      await engine?.stop();
      if (ownBus) await bus.close();
    },
  };
}
