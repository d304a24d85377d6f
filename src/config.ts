/**
 * One typed configuration, read from the environment. Every setting has a default that works
 * embedded; DATABASE_URL (and later REDIS_URL, TWELVEDATA_API_KEYS) switch on the real parts.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { TasaError } from './errors.ts';

export const ConfigSchema = Type.Object({
  DATABASE_URL: Type.Optional(Type.String({ description: 'PostgreSQL 15+ URL; unset = embedded PGlite' })),
  TASA_DATA_DIR: Type.String({ default: '.tasa', description: 'Directory of the embedded database and local files' }),
  REDIS_URL: Type.Optional(Type.String({ description: 'Redis URL; unset = in-process bus' })),
  TASA_LOG_LEVEL: Type.Union(
    [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
    { default: 'info' },
  ),
  TASA_CALENDAR_OVERRIDES: Type.Optional(
    Type.String({ description: 'Path of a JSON file with holiday additions/removals for decree changes' }),
  ),
  TASA_INSTRUMENTS: Type.Optional(
    Type.String({ description: 'Path of a JSON instruments file replacing the shipped one (src/domain/instruments.json): symbols, precision, sessions, holidays, costs' }),
  ),
  TASA_SYMBOLS: Type.String({ default: 'USD/COP', description: 'Comma-separated symbols to ingest' }),
  TWELVEDATA_WS_URL: Type.String({ default: 'wss://ws.twelvedata.com/v1/quotes/price', description: 'TwelveData WebSocket URL' }),
  TWELVEDATA_REST_URL: Type.String({ default: 'https://api.twelvedata.com', description: 'TwelveData REST base URL' }),
  TASA_SIMULATOR_PORT: Type.Integer({ default: 8090, minimum: 0, maximum: 65535, description: 'Port of the built-in simulator (used when no API key is set); 0 = any free port' }),
  TASA_CLOCK_START: Type.Optional(Type.String({ description: 'Run the process clock from this ISO time (simulated sessions)' })),
  TASA_HISTORY_WAIT_MS: Type.Optional(
    Type.Integer({ minimum: 0, description: 'How long ingestion waits for history before going live; default 0 embedded, 60000 with DATABASE_URL' }),
  ),
  TASA_CLOCK_SPEED: Type.Number({ default: 1, exclusiveMinimum: 0, description: 'Clock speed factor for simulated time' }),
  TASA_SPOOL_MAX_BYTES: Type.Integer({
    default: 1024 ** 3,
    minimum: 1024 * 1024,
    description: 'Bound of the ingest spool file, where ticks and bars wait while the database is down (default 1 GiB); when full, new ones are dropped, counted and logged',
  }),
  TASA_FEED_SILENCE_MS: Type.Integer({
    default: 30_000,
    minimum: 1000,
    description: 'Clock ms without any frame (price or heartbeat reply) after which the TwelveData socket counts as dead and is reopened',
  }),
  TASA_INGEST_LEASE_MS: Type.Integer({
    default: 30_000,
    minimum: 1000,
    description: 'Clock ms an ingest lease lasts unless renewed (every third of it): how long a standby waits after the writer dies, and how long a pause the writer survives',
  }),
  TASA_INGEST_WATERMARK_MS: Type.Integer({
    default: 2_000,
    minimum: 0,
    maximum: 600_000,
    description: 'Clock ms a 5-minute bar waits after its slot ends for delayed ticks before it is final (and the feed stays open after the close)',
  }),
  TASA_CLOCK_ANCHOR: Type.Optional(
    Type.Integer({ minimum: 0, description: 'Wall-clock epoch ms at which the clock reads TASA_CLOCK_START (default: process start); one anchor gives several processes one simulated timeline' }),
  ),
  TASA_ARCHIVE_DIR: Type.Optional(Type.String({ description: 'Directory of the Parquet archive; default <TASA_DATA_DIR>/archive' })),
  TASA_ARCHIVE_S3_BUCKET: Type.Optional(Type.String({ description: 'S3 bucket of the archive (credentials from the AWS SDK environment); unset = local directory' })),
  TASA_ARCHIVE_S3_ENDPOINT: Type.Optional(Type.String({ description: 'S3-compatible endpoint URL (path-style addressing)' })),
  TASA_ARCHIVE_S3_PREFIX: Type.Optional(Type.String({ description: 'Key prefix inside the bucket' })),
  AWS_REGION: Type.Optional(Type.String({ description: 'Region of the S3 archive' })),
  TASA_TICK_RETENTION_DAYS: Type.Integer({
    default: 90,
    minimum: 1,
    description: 'Ticks older than this many days are archived to Parquet (verified), then their month partitions dropped: `tasa retention run` and the evening `retention` job; bars and the audit log are kept',
  }),
  TASA_HTTP_HOST: Type.String({ default: '127.0.0.1', description: 'Address the API/WS server listens on (0.0.0.0 to serve other machines)' }),
  TASA_HTTP_PORT: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'Port of the API/WS server and dashboard; 0 = any free port' }),
  TASA_METRICS_PORT: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 65535, description: 'Port (on TASA_HTTP_HOST) of GET /metrics for a process serving no API (`tasa ingest`, `tasa worker`), so Prometheus scrapes its counters; unset = none' }),
  ),
  TASA_AUTH: Type.Union([Type.Literal('writes'), Type.Literal('all')], {
    default: 'writes',
    description: 'writes = reads are public, writes and admin need a token; all = every route but /health needs a token',
  }),
  TASA_JWT_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HS256 secret; when set, JWTs (claim role: reader|trader|admin) are accepted besides API tokens' })),
  TASA_CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated origins allowed by CORS; empty = same origin only' }),
  TASA_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 1200, minimum: 0, description: 'Requests per minute per client (by token, else IP); 0 = no limit' }),
  TASA_WS_MAX_BUFFER_BYTES: Type.Integer({ default: 1_048_576, minimum: 1024, description: 'Send buffer per WebSocket client before its updates are conflated' }),
  TASA_BUS_PUBLISH_BUFFER: Type.Integer({ default: 100_000, minimum: 1, description: 'Bus events a process keeps, in order, while Redis is unreachable; beyond it they are refused and announced to clients as gaps' }),
  TASA_ALERT_PRICE_MOVE_PCT: Type.Number({ default: 0.5, exclusiveMinimum: 0, description: 'Alert when price moves more than this % within a bar or vs the previous bar' }),
  TASA_ALERT_STALE_SECONDS: Type.Integer({ default: 120, minimum: 1, description: 'Alert when no tick arrives for this long in session' }),
  TASA_ALERT_KEY_BUDGET_PCT: Type.Number({ default: 10, minimum: 0, maximum: 100, description: 'Alert when the day budget of TwelveData credits left falls below this %' }),
  TASA_ALERT_WEBHOOK_URL: Type.Optional(Type.String({ description: 'POST each new alert as JSON to this URL' })),
  TASA_SMTP_URL: Type.Optional(Type.String({ description: 'SMTP URL for alert e-mails (smtp[s]://user:pass@host:port)' })),
  TASA_ALERT_EMAIL_TO: Type.Optional(Type.String({ description: 'Recipients of alert e-mails (comma-separated)' })),
  TASA_ALERT_EMAIL_FROM: Type.String({ default: 'tasa@localhost', description: 'Sender of alert e-mails' }),
  TASA_TRADING_INITIAL_CASH_COP: Type.Integer({ default: 400_000_000, minimum: 0, description: 'COP in the paper account when it is first opened' }),
  TASA_TRADING_MAX_POSITION_USD: Type.Integer({ default: 100_000, minimum: 1, description: 'Largest absolute position per symbol (USD), open orders on the same side counted as filled' }),
  TASA_TRADING_MAX_ORDER_USD: Type.Integer({ default: 25_000, minimum: 1, description: 'Largest order (USD)' }),
  TASA_TRADING_MAX_ORDERS_PER_MINUTE: Type.Integer({ default: 30, minimum: 1, description: 'Orders sent on in any 60 s' }),
  TASA_TRADING_DAILY_LOSS_LIMIT_COP: Type.Integer({ default: 4_000_000, minimum: 1, description: "A day's net loss (COP) that trips the kill switch" }),
  TASA_TRADING_PRICE_BAND_BPS: Type.Number({ default: 200, exclusiveMinimum: 0, description: 'How far (bps of the market mid) a limit or stop price may be; 2 decimals at most' }),
  TASA_TRADING_SLIPPAGE_BPS: Type.Number({ default: 1, minimum: 0, description: 'Paper fills: slippage of market and triggered stop orders (bps); 2 decimals at most' }),
  TASA_TRADING_FEE_BPS: Type.Number({ default: 1, minimum: 0, description: 'Paper fills: fee per fill (bps of its notional); 2 decimals at most' }),
  TASA_TRADING_FIXED_FEE_COP: Type.Number({ default: 0, minimum: 0, description: 'Paper fills: fixed fee per fill (COP); 2 decimals at most' }),
  TASA_TRADING_STALE_AFTER_MS: Type.Integer({ default: 30_000, minimum: 1000, description: 'Clock ms without a tick after which a symbol is stale and new orders are rejected' }),
  TASA_TRADING_FLATTEN_LEAD_MS: Type.Integer({ default: 60_000, minimum: 0, description: "How long (ms) before each session's close the strategies cancel their orders and close their positions" }),
});

export type Config = Static<typeof ConfigSchema>;

/** Reads and validates the configuration; an invalid value is one clear error naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') known[key] = value;
  }
  const candidate = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, known));
  const firstError = [...Value.Errors(ConfigSchema, candidate)][0];
  if (firstError) {
    const variable = firstError.instancePath.replace(/^\//, '') || 'configuration';
    throw new TasaError('bad_argument', `Invalid ${variable}: ${firstError.message}.`, { input: variable });
  }
  return candidate as Config;
}

/** The configuration with secrets removed, for `tasa doctor`, logs and `/status`. */
export function redactedConfig(config: Config): Record<string, string | number | undefined> {
  return {
    ...config,
    DATABASE_URL: config.DATABASE_URL === undefined ? undefined : redactUrl(config.DATABASE_URL),
    REDIS_URL: config.REDIS_URL === undefined ? undefined : redactUrl(config.REDIS_URL),
    TASA_JWT_SECRET: config.TASA_JWT_SECRET === undefined ? undefined : '***',
    TASA_ARCHIVE_S3_ENDPOINT: config.TASA_ARCHIVE_S3_ENDPOINT === undefined ? undefined : redactUrl(config.TASA_ARCHIVE_S3_ENDPOINT),
    TASA_SMTP_URL: config.TASA_SMTP_URL === undefined ? undefined : redactUrl(config.TASA_SMTP_URL),
    // A webhook URL often carries its secret in the path: show only whether one is set.
    TASA_ALERT_WEBHOOK_URL: config.TASA_ALERT_WEBHOOK_URL === undefined ? undefined : '***',
  };
}

/** Removes the password from a connection URL. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}
