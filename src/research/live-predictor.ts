/**
 * Live serving: on every final bar in session, the production policy's decision, stored in
 * `predictions` and published on the bus (`predictions` channel), with its latency.
 *
 * - The model: the symbol's production model in the registry, looked up at start, every
 *   `reloadIntervalMs` (default one minute) and at once on a `models` broadcast (send one after a
 *   promotion). No production model: no prediction.
 * - The observation: the bar from the event (it may not be durable yet: the writer stores it
 *   concurrently) after the stored bars of the `historySessions` sessions before it (default 10,
 *   i.e. ~600 bars), through the same indicators and features as the pipeline (the model's L3
 *   options) and the model's own normalization. Indicators run from the first of those bars, so
 *   the exponential ones differ from the pipeline's full-history values by a factor of about
 *   (49/51)^600 ≈ 4e-11 of their seed: nothing a float32 input notices.
 * - The position the policy holds: its decision at the previous bar of the same session (a
 *   stored prediction of the same model); flat at a session's first bar, as in the backtest.
 * - Latency: from the event's arrival to the decision (reading bars and features included),
 *   wall time; stored with the prediction and observed in `tasa_prediction_latency_seconds`.
 * Events of one symbol are handled one after the other, in order.
 */
import { performance } from 'node:perf_hooks';
import type { Bus, BusEvent, Unsubscribe } from '../bus/index.ts';
import { ALL_SYMBOLS } from '../bus/index.ts';
import type { CancelTimer, Clock } from '../clock.ts';
import type { BarEvent, PredictionMessage } from '../contracts/bus-messages.ts';
import type { Bar, BarSource } from '../domain/bar.ts';
import type { Calendars, Session } from '../domain/calendar.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { barsBetween } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { productionModel } from '../store/models-repo.ts';
import { insertPrediction, latestPredictions } from '../store/predictions-repo.ts';
import { computeFeatures } from './features.ts';
import { computeIndicators } from './indicators.ts';
import { assertModelFeatures, modelInputs, normalizedRows, windowObserver, type ModelInputs } from './model-observer.ts';
import type { PpoPolicy } from './ppo/ppo-policy.ts';
import { toSeries } from './series.ts';
import type { Decision, Position } from './types.ts';

export interface LivePredictorOptions {
  db: Db;
  bus: Bus;
  clock: Clock;
  calendar: Calendars;
  logger: Logger;
  metrics?: Pick<Metrics, 'predictionLatency'>;
  symbols: readonly string[];
  reloadIntervalMs?: number;
  historySessions?: number;
}

export interface LivePredictor {
  /** The production model in use per symbol (null: none), after the last lookup. */
  models(): Record<string, string | null>;
  /** Looks the production models up now. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

interface ServedModel {
  id: string;
  policy: PpoPolicy;
  inputs: ModelInputs;
}

const DEFAULT_RELOAD_MS = 60_000;
const DEFAULT_HISTORY_SESSIONS = 10;

export async function startLivePredictor(o: LivePredictorOptions): Promise<LivePredictor> {
  const predictor = new Predictor(o);
  await predictor.start();
  return predictor;
}

class Predictor implements LivePredictor {
  private readonly served = new Map<string, ServedModel | null>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly symbols: Set<string>;
  private unsubscribe: Unsubscribe[] = [];
  private timer: CancelTimer | null = null;
  private stopped = false;

  constructor(private readonly o: LivePredictorOptions) {
    this.symbols = new Set(o.symbols);
  }

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe.push(await this.o.bus.subscribe(ALL_SYMBOLS, (e) => this.onEvent(e), { channels: ['bars'] }));
    this.unsubscribe.push(await this.o.bus.onBroadcast('models', () => this.reloadQuietly()));
    this.schedule();
  }

  models(): Record<string, string | null> {
    return Object.fromEntries([...this.symbols].map((s) => [s, this.served.get(s)?.id ?? null]));
  }

  async reload(): Promise<void> {
    for (const symbol of this.symbols) {
      const model = await productionModel(this.o.db, symbol);
      const current = this.served.get(symbol);
      if (model === null || model.weights === null) {
        if (current) this.o.logger.info({ symbol, model: current.id }, 'predictor: no production model any more');
        this.served.set(symbol, null);
        continue;
      }
      if (current?.id === model.id) continue;
      // Loaded once there is a model to serve: it brings TensorFlow.js (the forward pass itself is plain JS).
      const { loadPpoPolicy } = await import('./ppo/ppo-policy.ts');
      const policy = loadPpoPolicy(model.id, model.weights);
      this.served.set(symbol, { id: model.id, policy, inputs: modelInputs(model.id, policy.model.observation, policy.metadata) });
      this.o.logger.info({ symbol, model: model.id }, 'predictor: serving the production model');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.();
    this.timer = null;
    await Promise.all(this.unsubscribe.map((u) => u()));
    this.unsubscribe = [];
    await Promise.all(this.chains.values());
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimer(this.o.reloadIntervalMs ?? DEFAULT_RELOAD_MS, () => {
      void this.reloadQuietly().then(() => this.schedule());
    });
  }

  private async reloadQuietly(): Promise<void> {
    try {
      await this.reload();
    } catch (err) {
      this.o.logger.warn({ err: errorMessage(err) }, 'predictor: looking up the production models failed; keeping the current ones');
    }
  }

  private onEvent(e: BusEvent): void {
    if (this.stopped || e.channel !== 'bars' || !this.symbols.has(e.symbol)) return;
    const received = performance.now();
    const bar = finalBar(e.symbol, e.data);
    if (bar === null) return;
    const session = this.o.calendar.of(e.symbol).sessionAt(bar.time);
    if (session === null) return;
    const previous = this.chains.get(e.symbol) ?? Promise.resolve();
    const next = previous.then(() => this.predictQuietly(bar, session, received));
    this.chains.set(e.symbol, next);
  }

  private async predictQuietly(bar: Bar, session: Session, received: number): Promise<void> {
    try {
      await this.predict(bar, session, received);
    } catch (err) {
      this.o.logger.warn({ symbol: bar.symbol, bar: new Date(bar.time).toISOString(), err: errorMessage(err) }, 'predictor: no prediction for this bar');
    }
  }

  private async predict(bar: Bar, session: Session, received: number): Promise<void> {
    const model = this.served.get(bar.symbol);
    if (!model) return;
    const window = await this.observe(model, bar, session);
    const position = await this.heldPosition(model.id, bar, session);
    const decision: Decision = model.policy.decideFeatures(window, position);
    const latencyMs = performance.now() - received;
    const inserted = await insertPrediction(this.o.db, {
      symbol: bar.symbol,
      barTime: bar.time,
      modelId: model.id,
      position: decision.position,
      probabilities: decision.probabilities,
      latencyMs,
      createdAt: this.o.clock.now(),
    });
    if (!inserted) return; // a revision of a bar already decided on
    this.o.metrics?.predictionLatency.observe({ model: model.id }, latencyMs / 1000);
    const message: PredictionMessage = { barTime: new Date(bar.time).toISOString(), modelId: model.id, position: decision.position, probabilities: decision.probabilities, latencyMs };
    // Not awaited: while Redis is unreachable the event waits in the bus's buffer, and the next bar (or stop()) must not wait for it.
    this.o.bus.publish('predictions', bar.symbol, message).catch((err: unknown) => {
      this.o.logger.warn({ symbol: bar.symbol, err: errorMessage(err) }, 'predictor: prediction stored but not published');
    });
  }

  /** The model's feature window at `bar` (see the file comment). */
  private async observe(model: ServedModel, bar: Bar, session: Session): Promise<Float32Array> {
    const calendar = this.o.calendar.of(bar.symbol);
    let first = session;
    for (let i = 0; i < (this.o.historySessions ?? DEFAULT_HISTORY_SESSIONS); i++) first = calendar.previousSession(first.open);
    const stored = await barsBetween(this.o.db, bar.symbol, first.open, bar.time);
    const series = toSeries([...stored, bar], calendar);
    const table = computeFeatures(series, computeIndicators(series), model.inputs.featureOptions);
    assertModelFeatures(model.id, model.inputs, table.names);
    const n = series.length;
    let start = n - 1;
    while (start > 0 && n - start < model.inputs.window && series[start - 1]!.session === series[n - 1]!.session) start--;
    const rows = normalizedRows(table, start, n, model.inputs.normalization);
    const observe = windowObserver(series.slice(start).map((b) => b.session), rows, table.names.length, model.inputs.window);
    return observe(n - 1 - start);
  }

  /** The model's decision at the previous bar of this session, or flat. */
  private async heldPosition(modelId: string, bar: Bar, session: Session): Promise<Position> {
    const recent = await latestPredictions(this.o.db, bar.symbol, 10);
    const previous = recent.find((p) => p.modelId === modelId && p.barTime < bar.time);
    return previous !== undefined && previous.barTime >= session.open ? previous.position : 0;
  }
}

/** The bar of a final, non-empty `bars` event; null for anything else. */
export function finalBar(symbol: string, d: BarEvent): Bar | null {
  if (d.empty === true || !d.final) return null;
  const time = Date.parse(d.time);
  if (!Number.isFinite(time)) return null;
  const { open, high, low, close } = d;
  // Only time and prices feed the features; the source is what the event says.
  return { symbol, time, open, high, low, close, volume: null, tickCount: null, source: d.source as BarSource, revision: 1, flags: [] };
}
