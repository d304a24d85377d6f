/**
 * The dashboard and the server agree on every REST answer the dashboard reads.
 *
 * Compile time: src/web takes its types from src/contracts/api (`Static<>` of the very schemas the
 * routes answer with), so a changed schema changes what the web compiles against; research and
 * the store use the contract types for what they hand the routes (the equalities below fail to
 * compile if either side declares its own shape again and it drifts).
 *
 * Run time: the real app (built as production builds it) answers each route the dashboard reads,
 * over seeded data, and every answer must validate against its contract schema. A route whose
 * answer drifts from its contract (a field renamed or retyped, or a streamed answer that skips
 * the serializer) fails here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { AlertList } from '../../src/contracts/api/alerts.ts';
import { CandlesResponse, StatsResponse } from '../../src/contracts/api/candles.ts';
import { AuditTrail } from '../../src/contracts/api/compliance.ts';
import { DataQualityReport } from '../../src/contracts/api/data-quality.ts';
import { HealthBody } from '../../src/contracts/api/health.ts';
import { BarRows, CalendarBody, LatestBody, MarketStatusBody, type BarRow } from '../../src/contracts/api/market.ts';
import { LayerHistory, ManifestList, PipelineHealth, PipelineStatusBody } from '../../src/contracts/api/pipeline.ts';
import {
  BacktestDetail,
  BacktestPage,
  ModelList,
  PredictionList,
  type EquityPoint,
  type GateReportView,
  type MetricsView,
  type StoredEquity,
  type Trade,
} from '../../src/contracts/api/research.ts';
import { StatusBody } from '../../src/contracts/api/status.ts';
import { WalkForwardRunDetail, WalkForwardRunPage } from '../../src/contracts/api/walk-forward.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Trade as ResearchTrade } from '../../src/research/backtest.ts';
import type { EquityPoint as ResearchEquityPoint } from '../../src/research/equity-curve.ts';
import type { GateReport } from '../../src/research/gates.ts';
import type { PerformanceMetrics } from '../../src/research/performance.ts';
import { raiseAlert } from '../../src/store/alerts-repo.ts';
import { appendAudit } from '../../src/store/audit-repo.ts';
import { insertBacktest, type StoredBacktest } from '../../src/store/backtests-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { insertModel } from '../../src/store/models-repo.ts';
import { finishRun, startRun } from '../../src/store/pipeline-runs-repo.ts';
import { insertPrediction } from '../../src/store/predictions-repo.ts';
import { insertTicks } from '../../src/store/ticks-repo.ts';
import type { barRow } from '../../src/store/query-rows.ts';
import { backtestFixture } from '../support/backtest-fixture.ts';
import { databaseTargets } from '../support/test-db.ts';
import { insertCompletedWalkForwardRun, walkForwardReportFixture } from '../support/walk-forward-fixture.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';
import { seedSessions } from '../server/seed-bars.ts';

/** True only when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// Compile-time half: each line fails to type-check when research or the store stops using the contract's shape.
const SAME_SHAPES: ReadonlyArray<true> = [
  true satisfies Equal<PerformanceMetrics, Static<typeof MetricsView>>,
  true satisfies Equal<GateReport, Static<typeof GateReportView>>,
  true satisfies Equal<ResearchTrade, Static<typeof Trade>>,
  true satisfies Equal<ResearchEquityPoint, Static<typeof EquityPoint>>,
  true satisfies Equal<StoredBacktest['equity'], Static<typeof StoredEquity>>,
  true satisfies Equal<ReturnType<typeof barRow>, Static<typeof BarRow>>,
];

const SYMBOL = encodeURIComponent('USD/COP');
const DAY = '2024-01-02';
const calendar = new MarketCalendar();

/** Every REST answer the dashboard reads (src/web/views, src/web/components), with its contract. */
function webReads({ backtestId, walkForwardId }: Seeded): Array<{ url: string; schema: TSchema }> {
  return [
    { url: '/health', schema: HealthBody },
    { url: '/status', schema: StatusBody },
    { url: '/market/status', schema: MarketStatusBody },
    { url: `/market/latest?symbol=${SYMBOL}`, schema: LatestBody },
    { url: `/api/candlesticks/${SYMBOL}?interval=5min&limit=300&indicators=ema20,ema50,bbUpper,bbMiddle,bbLower,rsi14,macd,macdSignal,macdHistogram`, schema: CandlesResponse },
    { url: `/api/candlesticks/${SYMBOL}?interval=1day&limit=250`, schema: CandlesResponse },
    { url: `/api/candlesticks/${SYMBOL}?interval=1min&limit=300&indicators=ema20`, schema: CandlesResponse },
    { url: `/api/stats/${SYMBOL}`, schema: StatsResponse },
    { url: '/api/alerts?limit=50', schema: AlertList },
    { url: `/api/pipeline/status?symbol=${SYMBOL}`, schema: PipelineStatusBody },
    { url: `/api/pipeline/health?symbol=${SYMBOL}`, schema: PipelineHealth },
    { url: `/api/pipeline/layer/L1?symbol=${SYMBOL}&limit=50`, schema: LayerHistory },
    { url: `/api/pipeline/manifests?layer=L1&symbol=${SYMBOL}&limit=5`, schema: ManifestList },
    { url: `/api/pipeline/data-quality?symbol=${SYMBOL}&from=2023-12-28&to=${DAY}`, schema: DataQualityReport },
    { url: `/api/calendar?from=2023-12-28&to=${DAY}`, schema: CalendarBody },
    { url: `/api/market/historical?symbol=${SYMBOL}&from=${DAY}&to=${DAY}`, schema: BarRows },
    { url: `/api/compliance/audit-trail?entity=${encodeURIComponent(`bars:USD/COP:${DAY}`)}&limit=50`, schema: AuditTrail },
    { url: `/api/backtests?symbol=${SYMBOL}&limit=100`, schema: BacktestPage },
    { url: `/api/backtests/${backtestId}`, schema: BacktestDetail },
    { url: `/api/models?symbol=${SYMBOL}`, schema: ModelList },
    { url: `/api/predictions/latest?symbol=${SYMBOL}`, schema: PredictionList },
    { url: `/api/research/walk-forward?symbol=${SYMBOL}&status=completed&limit=1`, schema: WalkForwardRunPage },
    { url: `/api/research/walk-forward/${walkForwardId}`, schema: WalkForwardRunDetail },
  ];
}

interface Seeded {
  backtestId: number;
  walkForwardId: number;
}

/** Something for each route to show: bars, a pipeline run with its manifest, an alert, an audit entry, a model, a backtest, a prediction, a cached price, a walk-forward run. */
async function seed(server: TestServer, db: Db): Promise<Seeded> {
  await seedSessions(db, calendar, [['2023-12-28'], ['2023-12-29', { flat: [3], repaired: [4] }], [DAY, { skip: Array.from({ length: 36 }, (_, i) => 24 + i) }]]);
  const run = await startRun(db, { layer: 'L1', symbol: 'USD/COP', params: { from: DAY } });
  await finishRun(db, run, { status: 'completed', rowsIn: 24, rowsOut: 24, summary: { bars: 24 }, manifest: { files: [] }, datasetHash: 'a'.repeat(64) });
  await raiseAlert(db, { kind: 'no_ticks', severity: 'warning', symbol: 'USD/COP', message: 'No tick for 60 s', details: { seconds: 60 }, dedupeKey: 'no_ticks:USD/COP' });
  await appendAudit(db, [{ actor: 'standardizer', action: 'repair.bogota_wall_clock_as_utc', entity: `bars:USD/COP:${DAY}`, details: { bars: 1 } }]);
  await insertModel(db, { id: 'ppo-1', kind: 'ppo', symbol: 'USD/COP', datasetHash: 'abc', config: {}, metrics: {}, trainingCurve: [{ iteration: 1 }], weights: new Uint8Array([1]), createdAt: OPEN_TIME - 3_600_000 });
  const id = await insertBacktest(db, { ...backtestFixture({ policyId: 'ppo-1' }).input, createdAt: OPEN_TIME - 1_800_000 });
  await insertPrediction(db, { symbol: 'USD/COP', barTime: OPEN_TIME - 300_000, modelId: 'ppo-1', position: 1, probabilities: [0.1, 0.2, 0.7], latencyMs: 12 });
  const at = new Date(OPEN_TIME - 1000).toISOString();
  const price = { symbol: 'USD/COP', price: 4001.5, bid: null, ask: null, spread: null, timestamp: at, receivedAt: at, source: 'simulator' };
  await server.deps.bus.setLatest('latest:USD/COP', price, 60_000);
  // Stored ticks: the 1-minute candles are built from them.
  await insertTicks(db, [5_000, 65_000, 70_000].map((ms, i) => ({ symbol: 'USD/COP', time: Date.parse(`${DAY}T13:00:00Z`) + ms, price: 4000 + i, bid: null, ask: null, receivedAt: Date.parse(`${DAY}T13:00:00Z`) + ms + 80, source: 'twelvedata_ws' as const })));
  const walkForwardId = await insertCompletedWalkForwardRun(db, walkForwardReportFixture(), OPEN_TIME - 900_000);
  return { backtestId: id, walkForwardId };
}

for (const target of databaseTargets()) {
  describe(`web contracts on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let seeded: Seeded;
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db });
      seeded = await seed(server, db);
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    it('keeps research and store on the contract shapes (checked when the test compiles)', () => {
      assert.ok(SAME_SHAPES.every((same) => same));
    });

    it('answers every route the dashboard reads with a body its contract schema accepts', async () => {
      for (const { url, schema } of webReads(seeded)) {
        const res = await server.app.inject({ method: 'GET', url });
        // /health answers 503 with the same body when a check fails; the dashboard reads it then too.
        assert.ok(res.statusCode === 200 || (url === '/health' && res.statusCode === 503), `${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
        const body: unknown = res.json();
        const errors = [...Value.Errors(schema, body)].slice(0, 5).map((e) => `${e.instancePath} ${e.message}`);
        assert.deepEqual(errors, [], `${url} does not match its contract`);
      }
    });

    it('says at 1min how many ticks each candle holds and since when ticks are stored', async () => {
      const res = await server.app.inject({ method: 'GET', url: `/api/candlesticks/${SYMBOL}?interval=1min&limit=300` });
      const body = res.json<Static<typeof CandlesResponse>>();
      assert.deepEqual(
        body.candles.map((c) => [c.time, c.ticks]),
        [
          [`${DAY}T13:00:00.000Z`, 1],
          [`${DAY}T13:01:00.000Z`, 2],
        ],
      );
      assert.equal(body.ticksFrom, `${DAY}T13:00:05.000Z`);
    });

    it('fails a body that drifted from its contract', () => {
      const drifted = { alerts: [{ id: 1, at: 'yesterday', kind: 'x', severity: 'loud', symbol: null, message: 'm' }] };
      assert.equal(Value.Check(AlertList, drifted), false);
    });
  });
}
