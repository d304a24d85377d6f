/**
 * Shapes of the research routes (src/server/routes/analytics-routes.ts, schemas in
 * src/server/reports/research-views.ts): the fields the dashboard reads. Times are UTC ISO.
 */

export interface MetricsJson {
  bars: number;
  totalReturn: number | null;
  cagr: number | null;
  annualizedVolatility: number | null;
  sharpe: number | null;
  sortino: number | null;
  maxDrawdown: number | null;
  calmar: number | null;
  winRate: number | null;
  profitFactor: number | null;
  exposure: number | null;
  tradeCount: number;
  averageHoldingMinutes: number | null;
  [key: string]: number | boolean | null;
}

export interface GateJson {
  gate: string;
  comparator: '>=' | '<=' | '>';
  threshold: number;
  value: number | null;
  passed: boolean;
  description: string;
}

export interface BacktestJson {
  id: number;
  policyId: string;
  symbol: string;
  fromDate: string;
  toDate: string;
  createdAt: string;
  config: Record<string, unknown>;
  metrics: MetricsJson;
  gates: { passed: boolean; gates: GateJson[]; stressedCosts: { spreadBps: number; feeBps: number } } | null;
  passed: boolean | null;
  datasetHash: string | null;
  pipelineRunId: number | null;
  hasReport: boolean;
}

export interface TradeJson {
  side: 1 | -1;
  entryTime: string;
  exitTime: string;
  entryPrice: number;
  exitPrice: number;
  barsHeld: number;
  pnl: number;
  return: number;
  costs: number;
  exitReason: string;
}

export interface BacktestDetailJson extends BacktestJson {
  equity: {
    initialEquity: number;
    bars: number;
    sessions: number;
    sessionsPerPoint: number;
    /** Downsampled: equity at the close of each point's last bar; the deepest drawdown inside it (positive fraction). */
    points: Array<{ time: string; equity: number; drawdown: number }>;
  };
  trades: { total: number; items: TradeJson[] };
}

export interface ModelJson {
  id: string;
  kind: 'ppo' | 'baseline';
  symbol: string;
  status: 'candidate' | 'production' | 'retired';
  datasetHash: string | null;
  config: Record<string, unknown>;
  metrics: Record<string, unknown>;
  trainingIterations: number;
  weightsBytes: number | null;
  createdAt: string;
  promotedAt: string | null;
}

export interface PredictionJson {
  symbol: string;
  barTime: string;
  modelId: string;
  position: -1 | 0 | 1;
  probabilities: { short: number; flat: number; long: number };
  latencyMs: number;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  nextBeforeId?: number | null;
}
