/**
 * Every Prometheus metric Tasa exports, defined once. Components receive the `Metrics` object
 * (one per process) and record into it; `GET /metrics` renders its registry. The names here are
 * the ones deploy/prometheus-rules.yml and deploy/grafana-dashboard.json use: change them together.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type Metrics = ReturnType<typeof createMetrics>;

export interface MetricsOptions {
  defaultMetrics?: boolean;
  /**
   * The process's roles (`up`, `ingest`, `serve`, `worker`), a `role` label on every series so
   * Prometheus can sum by role; `instance` is the scrape target's own label.
   */
  role?: string;
}

export function createMetrics(opts: MetricsOptions = {}) {
  const registry = new Registry();
  if (opts.role !== undefined) registry.setDefaultLabels({ role: opts.role });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tasa_process_' });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets = LATENCY_BUCKETS_S) =>
    new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
  return {
    registry,
    ticksReceived: counter('tasa_ticks_received_total', 'Ticks received from the feed', ['symbol']),
    ticksRejected: counter('tasa_ticks_rejected_total', 'Ticks rejected by validation', ['symbol', 'reason']),
    ticksStored: counter('tasa_ticks_stored_total', 'Ticks written to the database'),
    barsReceived: counter('tasa_bars_closed_total', 'Bars closed by the aggregator (final and revisions)', ['symbol', 'kind']),
    barsStored: counter('tasa_bars_stored_total', 'Bars written to the database'),
    spoolBytes: gauge('tasa_spool_bytes', 'Bytes waiting in the ingest spool (database down)'),
    spoolDiskBytes: gauge('tasa_spool_disk_bytes', 'Size of the ingest spool file on disk (waiting bytes plus a drained prefix removed when the spool empties)'),
    spoolEntries: gauge('tasa_spool_entries', 'Ticks and bars waiting in the ingest spool'),
    spoolOldestAge: gauge('tasa_spool_oldest_age_seconds', 'Age of the oldest tick or bar waiting in the ingest spool (0 when empty)'),
    ingestBuffered: gauge('tasa_ingest_buffered', 'Ticks and bars accepted by the durable writer and not yet written or spooled (ingest processes)'),
    spoolRejected: counter('tasa_spool_rejected_total', 'Ticks and bars dropped because the ingest spool was full'),
    writesFenced: counter('tasa_writes_fenced_total', 'Bars refused by the lease fence (another process holds the lease)', ['symbol']),
    busPublishBacklog: gauge('tasa_bus_publish_backlog', 'Bus events of this process waiting, in order, for Redis to come back'),
    busPublishOldestAge: gauge('tasa_bus_publish_oldest_age_seconds', 'Age of the oldest bus event waiting for Redis (0 when none waits)'),
    busPublishRefused: gauge('tasa_bus_publish_refused', 'Bus events this process refused since it started because its publish buffer was full (announced to clients as gaps)'),
    feedReconnects: counter('tasa_feed_reconnects_total', 'Feed connections opened after the first'),
    subscriptionFailures: counter('tasa_feed_subscription_failures_total', 'Symbols the feed refused to subscribe', ['symbol']),
    keyCreditsLeft: gauge('tasa_key_credits_left', 'TwelveData credits left in the current window', ['key_id', 'window']),
    wsClients: gauge('tasa_ws_clients', 'Connected WebSocket clients'),
    wsSubscriptions: gauge('tasa_ws_subscriptions', 'WebSocket clients subscribed to a symbol in this process', ['symbol']),
    wsMessagesSent: counter('tasa_ws_messages_sent_total', 'Messages sent to WebSocket clients', ['type']),
    wsMessagesDropped: counter('tasa_ws_messages_dropped_total', 'Messages dropped or conflated for slow WebSocket clients', ['reason']),
    exchangeToReceive: histogram('tasa_exchange_to_receive_seconds', 'Exchange timestamp to receive time of a tick', ['symbol']),
    receiveToStored: histogram('tasa_receive_to_stored_seconds', 'Receive time to durable write of a tick or bar', ['kind']),
    barCloseToClient: histogram('tasa_bar_close_to_client_seconds', 'Bar close to send to a WebSocket client'),
    dataFreshness: gauge('tasa_data_freshness_seconds', 'Age of the latest tick of a symbol (set while the market is open)', ['symbol']),
    barFreshness: gauge('tasa_bar_freshness_seconds', 'Age of the end of the latest stored bar of a symbol (set at scrape time, in and out of session)', ['symbol']),
    storeBytes: gauge('tasa_store_bytes', 'Disk use of the database (pg_database_size), read at scrape time'),
    marketOpen: gauge('tasa_market_open', "1 while the symbol's market session is open", ['symbol']),
    gapsOpen: gauge('tasa_gaps_open', 'Missing bars in the current and previous sessions', ['symbol']),
    jobRuns: counter('tasa_job_runs_total', 'Job runs by outcome', ['job', 'outcome']),
    jobDuration: histogram('tasa_job_duration_seconds', 'Job run durations', ['job'], [0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300]),
    httpDuration: histogram('tasa_http_request_duration_seconds', 'HTTP request durations', ['method', 'route', 'status']),
    alertsRaised: counter('tasa_alerts_raised_total', 'Alerts raised (new, not repeats)', ['kind']),
    predictionLatency: histogram('tasa_prediction_latency_seconds', 'Policy inference latency on a final bar', ['model']),
    paritySessions: gauge('tasa_parity_sessions_compared', 'Sessions whose paper trades the parity monitor compared with the backtest (from the store)', ['strategy']),
    paritySessionsMismatched: gauge('tasa_parity_sessions_mismatched', 'Compared sessions whose paper trades differ from the backtest', ['strategy']),
    parityTradesCompared: gauge('tasa_parity_trades_compared', 'Round trips compared by the parity monitor (the longer of live and backtest), all sessions', ['strategy']),
    parityTradesMatched: gauge('tasa_parity_trades_matched', 'Round trips whose side and entry and exit bars equal the backtest, all sessions', ['strategy']),
    parityLastMismatch: gauge('tasa_parity_last_session_mismatch', '1 when the last session compared differs from the backtest, else 0', ['strategy']),
    parityPriceDiffBps: gauge('tasa_parity_price_diff_bps', 'Mean absolute fill price difference, live vs backtest, in bps, of the last session compared', ['strategy']),
  };
}
