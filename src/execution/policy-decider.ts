/**
 * A policy's decisions bar by bar, equal to L6's `decideTargets` over the same series:
 * - indicators streamed from the first bar given (`IndicatorState`, the code `computeIndicators`
 *   runs), so each row is bit-identical to the pipeline's over the same history;
 * - a trained policy's features computed over a trailing buffer: its current session and at least
 *   `lookback` rows before it. Every feature reads at most its longest horizon or window of rows
 *   back and rolling sums are summed afresh per row (features.ts), so the rows of the session equal
 *   those computed over the whole series;
 * - the position the policy holds: its previous decision in the session, flat at a session's first bar.
 * Bars must come in time order, one per slot.
 */
import { TasaError } from '../errors.ts';
import { computeFeatures, type FeatureOptions } from '../research/features.ts';
import { IndicatorState } from '../research/indicators.ts';
import { normalizedRows, windowObserver, assertModelFeatures, type ModelInputs } from '../research/model-observer.ts';
import type { PolicyUnderTest } from '../research/policy-evaluation.ts';
import type { IndicatorRow, Position, SeriesBar } from '../research/types.ts';

const NO_FEATURES = new Float32Array(0);
/** The longest default horizon or window of features.ts (ret_*_30). */
const DEFAULT_LONGEST_WINDOW = 30;

export class PolicyDecider {
  private readonly indicators = new IndicatorState();
  private readonly lookback: number;
  /** Trailing rows kept for the features (a baseline keeps none). */
  private readonly bars: SeriesBar[] = [];
  private readonly rows: IndicatorRow[] = [];
  private last: { bar: SeriesBar; position: Position } | null = null;

  constructor(private readonly under: PolicyUnderTest) {
    this.lookback = under.inputs === null ? 0 : longestWindow(under.inputs.featureOptions) + 1;
  }

  /** The open time of the latest bar seen; null before any. */
  get lastTime(): number | null {
    return this.last?.bar.time ?? null;
  }

  /** The latest decision (the position held after the latest bar); flat before any. */
  get position(): Position {
    return this.last?.position ?? 0;
  }

  /** History: bars that feed the indicators (and buffer) without a decision; the position held becomes flat. */
  warmUp(bar: SeriesBar): void {
    const row = this.append(bar);
    this.last = { bar: row.bar, position: 0 };
  }

  /** The policy's decision at the close of `bar`. */
  decide(bar: SeriesBar): Position {
    const previous = this.last;
    const { bar: copy, indicators } = this.append(bar);
    const held: Position = previous !== null && previous.bar.session === bar.session ? previous.position : 0;
    const features = this.under.inputs === null ? NO_FEATURES : this.observe(this.under.inputs);
    const position = this.under.policy.decide({ bar: copy, indicators: { ...indicators }, features, position: held }).position;
    if (position !== -1 && position !== 0 && position !== 1) {
      throw new TasaError('bad_input', `Policy ${this.under.policy.id} returned position ${String(position)} at ${new Date(bar.time).toISOString()}; a position is -1, 0 or 1.`, { input: this.under.policy.id });
    }
    this.last = { bar: copy, position };
    return position;
  }

  private append(bar: SeriesBar): { bar: SeriesBar; indicators: IndicatorRow } {
    const copy = { ...bar };
    const indicators = this.indicators.add(copy);
    if (this.under.inputs !== null) {
      this.bars.push(copy);
      this.rows.push(indicators);
      this.trim(bar.session);
    }
    return { bar: copy, indicators };
  }

  /** Keeps the session of the newest bar and `lookback` rows before it. */
  private trim(session: string): void {
    let sessionStart = this.bars.length - 1;
    while (sessionStart > 0 && this.bars[sessionStart - 1]!.session === session) sessionStart--;
    const drop = sessionStart - this.lookback;
    if (drop <= 0) return;
    this.bars.splice(0, drop);
    this.rows.splice(0, drop);
  }

  /** The model's window at the newest bar, as live-predictor and L6 build it. */
  private observe(inputs: ModelInputs): Float32Array {
    const table = computeFeatures(this.bars, this.rows, inputs.featureOptions);
    assertModelFeatures(this.under.policy.id, inputs, table.names);
    const n = this.bars.length;
    let start = n - 1;
    while (start > 0 && this.bars[start - 1]!.session === this.bars[n - 1]!.session) start--;
    const rows = normalizedRows(table, start, n, inputs.normalization);
    const observe = windowObserver(this.bars.slice(start).map((b) => b.session), rows, table.names.length, inputs.window);
    return observe(n - 1 - start);
  }
}

function longestWindow(o: FeatureOptions): number {
  const all = [...(o.returnHorizons ?? []), ...(o.rollingWindows ?? []), ...(o.momentumHorizons ?? []), o.realizedVolWindow ?? 0];
  return Math.max(DEFAULT_LONGEST_WINDOW, ...all);
}
