/**
 * The trading environment PPO learns in: one episode is one session of an RlDataset.
 *
 * At the close of bar i (i = 0 .. n-2) the agent picks a position (action 0, 1, 2 -> short,
 * flat, long) and earns `rewardOf(position, nextReturns[i], previous, costs)`. The episode ends
 * after the decision at bar n-2; the position is then closed at bar n-1's close, so that last
 * step also pays `rewardOf(0, 0, position, costs)`. Every episode starts flat.
 *
 * Observation = the network input: the feature window at bar i (`observationAt`) followed by the
 * position held going into the decision, one-hot (see actor-critic.ts).
 */
import { TasaError } from '../../errors.ts';
import { observationAt, rewardOf } from '../rl-dataset.ts';
import { POSITIONS, type Episode, type Position, type RlDataset, type Split } from '../types.ts';
import { encodeInput, inputSize } from './actor-critic.ts';

export interface StepResult {
  /** The next observation; after the last step, the (unused) observation of the final bar, flat. */
  observation: Float32Array;
  reward: number;
  done: boolean;
}

export class TradingEnv {
  /** The split's episodes with at least one decision, in dataset order. */
  readonly episodes: readonly Episode[];
  readonly observationSize: number;
  private episode: Episode | undefined;
  private bar = 0;
  private held: Position = 0;
  private finished = true;

  constructor(
    readonly dataset: RlDataset,
    readonly split: Split = 'train',
  ) {
    this.episodes = dataset.episodes.filter((e) => e.split === split && e.times.length >= 2);
    if (this.episodes.length === 0) {
      throw new TasaError('bad_input', `The RL dataset of ${dataset.symbol} has no ${split} episode with two bars or more.`, { input: split });
    }
    this.observationSize = inputSize({ featureNames: dataset.featureNames, window: dataset.window });
  }

  /** Starts an episode (an Episode, or an index in `episodes`) flat at its first bar. */
  reset(episode: Episode | number): Float32Array {
    const e = typeof episode === 'number' ? this.episodes[episode] : episode;
    if (e === undefined || e.times.length < 2) {
      const name = typeof episode === 'number' ? `${this.split} episode #${episode}` : `Episode ${episode.session}`;
      throw new TasaError('bad_argument', `${name} does not exist or has fewer than two bars.`, { input: 'episode' });
    }
    this.episode = e;
    this.bar = 0;
    this.held = 0;
    this.finished = false;
    return this.observe();
  }

  /** Takes the position of `action` (0 short, 1 flat, 2 long) at the current bar's close. */
  step(action: number): StepResult {
    const e = this.episode;
    if (e === undefined || this.finished) throw new TasaError('bad_argument', 'step() was called without a running episode; call reset() first.', { input: 'step' });
    const position = POSITIONS[action];
    if (position === undefined || !Number.isInteger(action)) throw new TasaError('bad_argument', `Action ${action} is not 0 (short), 1 (flat) or 2 (long).`, { input: String(action) });
    const costs = this.dataset.costs;
    let reward = rewardOf(position, e.nextReturns[this.bar] ?? Number.NaN, this.held, costs);
    this.bar += 1;
    this.held = position;
    const done = this.bar >= e.times.length - 1;
    if (done) {
      reward += rewardOf(0, 0, position, costs);
      this.held = 0;
      this.finished = true;
    }
    return { observation: this.observe(), reward, done };
  }

  get position(): Position {
    return this.held;
  }

  /** Index of the bar at whose close the next decision is taken. */
  get index(): number {
    return this.bar;
  }

  get currentEpisode(): Episode | undefined {
    return this.episode;
  }

  private observe(): Float32Array {
    const e = this.episode as Episode;
    return encodeInput(observationAt(this.dataset, e, this.bar, this.held), this.held);
  }
}
