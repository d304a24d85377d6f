/**
 * Honest selection of a PPO model (pure, no I/O):
 * - Within a seed, early stopping on the VALIDATION split only: the greedy policy is scored every
 *   few iterations (mean net log return per validation session, through the execution model, i.e.
 *   what the backtest books); the best-scoring checkpoint is kept, and training stops after
 *   `patience` evaluations without a better one.
 * - Across seeds, the candidate with the best validation score is chosen. The test split plays no
 *   part in either choice: it is scored once per candidate, after every choice is made, and the
 *   spread of the seeds' results (mean, min, max, std) is reported with the chosen one.
 */

/** The selection's defaults (PpoConfig's `seeds`, `evalEvery`, `patience`; the research config's `training`). */
export const DEFAULT_SELECTION = Object.freeze({ seeds: 3, evalEvery: 5, patience: 4 });

/** One validation score of a checkpoint: mean net log return per validation session. */
export interface CheckpointScore {
  iteration: number;
  /** Environment steps trained when it was scored. */
  steps: number;
  score: number;
}

/** Early stopping on validation scores: keeps the best checkpoint; exhausted after `patience` scores without a better one. */
export class EarlyStopping {
  readonly scores: CheckpointScore[] = [];
  best: CheckpointScore | null = null;
  private sinceBest = 0;

  constructor(readonly patience: number) {}

  /** Records a score; true when it beats every earlier one (a tie keeps the earlier, less trained checkpoint). */
  offer(score: CheckpointScore): boolean {
    this.scores.push(score);
    if (this.best === null || score.score > this.best.score) {
      this.best = score;
      this.sinceBest = 0;
      return true;
    }
    this.sinceBest += 1;
    return false;
  }

  get exhausted(): boolean {
    return this.sinceBest >= this.patience;
  }
}

/** Mean, extremes and sample standard deviation (n - 1; 0 for one value) of a set of results. */
export interface ResultSpread {
  count: number;
  mean: number;
  min: number;
  max: number;
  std: number;
}

/** The spread of `values`; null when there is none. */
export function spreadOf(values: readonly number[]): ResultSpread | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const squares = values.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { count: n, mean, min: Math.min(...values), max: Math.max(...values), std: n < 2 ? 0 : Math.sqrt(squares / (n - 1)) };
}

/** What the choice across seeds needs of each: its seed and its best validation score (null without a validation split). */
export interface SeedCandidate {
  seed: number;
  validation: number | null;
}

/** Index of the candidate with the best validation score (the first on a tie, the first when none has a score). */
export function chooseSeed(candidates: readonly SeedCandidate[]): number {
  let chosen = 0;
  candidates.forEach((c, i) => {
    const best = candidates[chosen]?.validation ?? null;
    if (c.validation !== null && (best === null || c.validation > best)) chosen = i;
  });
  return chosen;
}

/** In bps, the unit people read a per-session log return in. */
function bps(x: number): string {
  return `${(x * 1e4).toFixed(1)} bps`;
}

/**
 * One sentence on the choice: whether the chosen seed beats flat on validation (and so whether any
 * does), with the spread across seeds. `flat` is the flat policy's validation score (0 unless
 * costs are charged for nothing).
 */
export function selectionVerdict(chosenSeed: number, chosen: number | null, flat: number | null, spread: ResultSpread | null): string {
  if (chosen === null || flat === null) return `Seed ${chosenSeed} chosen without a validation split: nothing was selected on held-out data.`;
  const across = spread === null || spread.count < 2 ? '' : ` (${spread.count} seeds: mean ${bps(spread.mean)}, min ${bps(spread.min)}, max ${bps(spread.max)}, std ${bps(spread.std)})`;
  if (chosen > flat) return `Seed ${chosenSeed} beats flat on validation: ${bps(chosen)} per session against ${bps(flat)}${across}.`;
  return `No seed beats flat on validation: the best, seed ${chosenSeed}, earns ${bps(chosen)} per session against flat's ${bps(flat)}${across}; the model has no edge on held-out data.`;
}
