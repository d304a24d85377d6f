/**
 * A synthetic RlDataset for PPO tests and benchmarks: feature 0 is a ±1 signal whose sign is the
 * sign of the next bar's return (`edge` in log return; each bar opens at the previous close, so a
 * decision's fill captures it), the other features are Gaussian noise. The
 * best policy is obvious (long when the signal is +1, short when -1); a policy that learned
 * nothing earns about 0 minus its costs.
 */
import type { IsoDate } from '../../src/domain/time.ts';
import { SeededRandom } from '../../src/domain/random.ts';
import type { Episode, RlDataset, Split } from '../../src/research/types.ts';

export interface SyntheticRlOptions {
  sessions?: number;
  barsPerSession?: number;
  features?: number;
  window?: number;
  /** |next return| in log-return units (default 5e-4 = 5 bps). */
  edge?: number;
  spreadBps?: number;
  feeBps?: number;
  seed?: number;
}

const BAR_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export function syntheticRlDataset(opts: SyntheticRlOptions = {}): RlDataset {
  const o = { sessions: 20, barsPerSession: 20, features: 2, window: 2, edge: 5e-4, spreadBps: 0.5, feeBps: 0, seed: 11, ...opts };
  const rng = new SeededRandom(o.seed, 99);
  const trainEnd = Math.round(o.sessions * 0.7);
  const validationEnd = Math.round(o.sessions * 0.85);
  const splitOf = (k: number): Split => (k < trainEnd ? 'train' : k < validationEnd ? 'validation' : 'test');
  const episodes = Array.from({ length: o.sessions }, (_, k) => syntheticEpisode(k, splitOf(k), o, rng));
  const range = (split: Split) => {
    const sessions = episodes.filter((e) => e.split === split).map((e) => e.session);
    return { from: sessions[0] as IsoDate, to: sessions[sessions.length - 1] as IsoDate, sessions: sessions.length };
  };
  return {
    symbol: 'SYN/COP',
    featureNames: Array.from({ length: o.features }, (_, j) => (j === 0 ? 'signal' : `noise${j}`)),
    window: o.window,
    costs: { spreadBps: o.spreadBps, feeBps: o.feeBps },
    normalization: { means: new Array<number>(o.features).fill(0), stds: new Array<number>(o.features).fill(1) },
    splits: { train: range('train'), validation: range('validation'), test: range('test') },
    purgeSessions: 0,
    episodes,
    hash: `synthetic-${o.seed}-${o.sessions}x${o.barsPerSession}x${o.features}x${o.window}`,
  };
}

function syntheticEpisode(k: number, split: Split, o: Required<SyntheticRlOptions>, rng: SeededRandom): Episode {
  const n = o.barsPerSession;
  const start = Date.UTC(2024, 0, 1, 13) + k * DAY_MS;
  const times = Float64Array.from({ length: n }, (_, i) => start + i * BAR_MS);
  const features = new Float32Array(n * o.features);
  const opens = new Float64Array(n);
  const closes = new Float64Array(n);
  opens[0] = closes[0] = 4000;
  for (let i = 0; i < n; i++) {
    const signal = rng.next() < 0.5 ? -1 : 1;
    features[i * o.features] = signal;
    for (let j = 1; j < o.features; j++) features[i * o.features + j] = rng.normal();
    if (i < n - 1) {
      opens[i + 1] = closes[i] as number;
      closes[i + 1] = (closes[i] as number) * Math.exp(signal * o.edge);
    }
  }
  return { session: new Date(start).toISOString().slice(0, 10), split, times, opens, closes, features, mask: new Uint8Array(n * o.features).fill(1) };
}
