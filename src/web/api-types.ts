/**
 * Response shapes of the server routes the dashboard reads (the fields it uses), as documented
 * by the route schemas under src/server/routes and at /openapi.json. Times are UTC ISO strings.
 */

/** GET /status (health-routes.ts). */
export interface StatusBody {
  time: string;
  version: string;
  source: 'local' | 'ingest_process' | 'none';
  note: string;
  publishedAt: string | null;
  system: { store: string; bus: string; upstream: string } | null;
  ingest: IngestBody | null;
  keys: KeyBody[];
  jobs: { lastRuns: Array<{ layer: string; id: number; status: string; startedAt: string; finishedAt: string | null }>; openAlerts: number };
}

export interface IngestBody {
  state: string;
  transitions: Array<{ from: string; to: string; at: string; reason: string }>;
  leases: string[];
  feed: { state: string; detail: string | null; connects: number; problems: Record<string, number>; failedSymbols: string[] };
  dataChecks: Array<{ symbol: string; lastBarAt: string | null; fresh: boolean; completeness: number; complete: boolean }>;
  symbols: Array<{
    symbol: string;
    ticks: number;
    rejected: number;
    rejectedByReason: Record<string, number>;
    bars: number;
    emptySlots: number;
    publishFailures: number;
    lastTickAt: string | null;
    lastTickAgeSeconds: number | null;
  }>;
  writer: { ticksWritten: number; barsWritten: number; flushes: number; failures: number; spooled: number; pending: number; databaseDown: boolean };
}

export interface KeyBody {
  id: string;
  status: string;
  badReason: string | null;
  minuteLimit: number;
  minuteLeft: number;
  dayLimit: number;
  dayLeft: number;
  creditsTotal: number;
  lastTakenAt: string | null;
}

/** GET /health. */
export interface HealthBody {
  status: 'ready' | 'degraded' | 'not_ready';
  failed: string[];
  /** Why the system is degraded though it serves (e.g. no live ingest lease holder in market hours). */
  degraded: string[];
  version: string;
  time: string;
  checks: {
    database: Probe;
    redis: Probe | null;
    ingest: {
      ok: boolean;
      source: string;
      state: string | null;
      feed: string | null;
      note: string;
      /** The ingest lease holder whose state is shown. */
      holder: string | null;
      leases: Array<{ symbol: string; holder: string | null; epoch: number | null; expiresAt: string | null; live: boolean }>;
      standbys: Array<{ holder: string; state: string | null; publishedAt: string }>;
    };
  };
  market: { open: boolean };
}

export interface Probe {
  ok: boolean;
  latencyMs: number | null;
  error: string | null;
}

/** GET /api/alerts (alerts-routes.ts). */
export interface AlertJson {
  id: number;
  at: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  symbol: string | null;
  message: string;
  occurrences: number;
  lastSeenAt: string;
  resolvedAt: string | null;
}

/** A pipeline run (reports/pipeline-status.ts RunView). */
export interface RunView {
  id: number;
  layer: string | null;
  step: string;
  symbol: string | null;
  status: 'running' | 'completed' | 'failed' | 'skipped';
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  rowsIn: number | null;
  rowsOut: number | null;
  datasetHash: string | null;
  error: string | null;
  params: Record<string, unknown>;
  summary: Record<string, unknown>;
  hasManifest: boolean;
}

/** GET /api/pipeline/status. */
export interface PipelineStatusBody {
  generatedAt: string;
  symbol: string | null;
  layers: Array<{ layer: string; name: string; description: string; steps: string[]; lastRun: RunView | null; lastSuccess: RunView | null }>;
}

/** GET /api/pipeline/health. */
export interface PipelineHealthBody {
  healthy: boolean;
  failedRuns: RunView[];
  layers: Array<{ layer: string; stale: boolean; reason: string | null; freshness: string; lastSuccessAt: string | null }>;
}

/** GET /api/pipeline/data-quality (reports/data-quality.ts). */
export interface DataQualityBody {
  symbol: string;
  from: string;
  to: string;
  sessions: { total: number; complete: number; partial: number; missing: number; notRecorded: number };
  bars: QualityCounts & { gaps: number; outsideSessions: number };
  flags: Record<string, number>;
  sources: Record<string, number>;
  byDay: DayQuality[];
}

export interface QualityCounts {
  expected: number;
  present: number;
  missing: number;
  coverage: number | null;
  flat: number;
  flatShare: number | null;
  repaired: number;
  backfilled: number;
}

export interface DayQuality extends QualityCounts {
  date: string;
  status: 'complete' | 'partial' | 'missing';
  recordedStatus: 'complete' | 'partial' | 'missing' | null;
  gaps: Array<{ from: string; to: string; bars: number }>;
}

/** GET /api/calendar (reference-routes.ts). */
export interface CalendarBody {
  days: Array<{ date: string; weekday: string; trading_day: boolean; holiday: string | null; next_day_settlement: boolean; us_holiday: string | null }>;
}

/** GET /api/market/historical (a JSON array). */
export interface BarRow {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
  source: string;
  revision: number;
  flags: string;
}

/** GET /api/compliance/audit-trail. */
export interface AuditBody {
  entries: Array<{ id: number; at: string; actor: string; action: string; entity: string; details: Record<string, unknown> }>;
  nextBeforeId: number | null;
}
