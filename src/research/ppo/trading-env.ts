/**
 * The trading environment PPO learns in: one episode is one session of an RlDataset.
 *
 * At the close of bar i (i = 0 .. n-2) the agent picks a position (action 0, 1, 2 -> short,
 * flat, long). Its reward is what the backtest books for the same positions, through the same
 * execution model (execution-model.ts): the target fills at open[i+1] paying the costs (of its
 * hour when the spread is per hour: the fill time is bar i+1's open time, a session-end exit's
 * the last bar's close time, as in the backtest), the
 * session's position is closed at close[n-1] (the last step pays that exit), and the reward of
 * step i is the log change of the account's equity from close[i] to close[i+1], i.e. the
 * backtest's log return of bar i+1. The rewards of an episode therefore sum to the session's
 * net log return in the backtest. Note what step i's reward holds: the gap close[i] -> open[i+1]
 * earned by the position decided at step i-1, then the fill and the move open[i+1] -> close[i+1]
 * of the new position. Every episode starts flat.
 *
 * Observation = the network input: the feature window at bar i (`observationAt`) followed by the
 * position held going into the decision, one-hot (see actor-critic.ts).
 */
import { BAR_MS } from '../../domain/bar.ts';
import { instrumentCalendar } from '../../domain/calendar.ts';
import { TasaError } from '../../errors.ts';
import { Account, CostSchedule } from '../execution-model.ts';
import { observationAt } from '../rl-dataset.ts';
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
  private readonly costs: CostSchedule;
  /** One unit of equity at each episode's start; rewards are log changes of it. */
  private account: Account;
  private equity = 1;

  constructor(
    readonly dataset: RlDataset,
    readonly split: Split = 'train',
  ) {
    this.episodes = dataset.episodes.filter((e) => e.split === split && e.times.length >= 2);
    if (this.episodes.length === 0) {
      throw new TasaError('bad_input', `The RL dataset of ${dataset.symbol} has no ${split} episode with two bars or more.`, { input: split });
    }
    this.observationSize = inputSize({ featureNames: dataset.featureNames, window: dataset.window });
    // The hours of a per-hour spread are the market's own; a dataset knows only its symbol (a synthetic one
    // has no market, which a flat spread does not need).
    this.costs = new CostSchedule(dataset.costs, dataset.costs.spreadBpsByHour === undefined ? null : instrumentCalendar(dataset.symbol));
    this.account = new Account(1, this.costs);
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
    this.account = new Account(1, this.costs);
    this.equity = 1;
    return this.observe();
  }

  /** Takes the position of `action` (0 short, 1 flat, 2 long) at the current bar's close. */
  step(action: number): StepResult {
    const e = this.episode;
    if (e === undefined || this.finished) throw new TasaError('bad_argument', 'step() was called without a running episode; call reset() first.', { input: 'step' });
    const position = POSITIONS[action];
    if (position === undefined || !Number.isInteger(action)) throw new TasaError('bad_argument', `Action ${action} is not 0 (short), 1 (flat) or 2 (long).`, { input: String(action) });
    this.bar += 1;
    this.account.fill(position, e.opens[this.bar]!, e.times[this.bar]!);
    this.held = position;
    const close = e.closes[this.bar]!;
    const done = this.bar >= e.times.length - 1;
    if (done) {
      this.account.fill(0, close, e.times[this.bar]! + BAR_MS);
      this.held = 0;
      this.finished = true;
    }
    const equity = this.account.equityAt(close);
    const reward = Math.log(equity / this.equity);
    this.equity = equity;
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
