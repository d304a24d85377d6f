/**
 * The canonical data layers L0..L6, what each holds, and which `pipeline_runs.layer` values
 * (the "steps" that ran) belong to each. This is the one place that maps recorded step names
 * to layers; the API's pipeline status, history and health read it.
 *
 * Steps recorded today:
 * - `L0`: `tasa import` storing a file's rows as received in `raw_bars`.
 * - `L1`: `tasa import` standardizing those rows into `bars` + `sessions`.
 * - `backfill` (`tasa backfill`, the admin backfill job), `failsafe` (the hourly gap fill) and
 *   `sync` (the stream reconciler): they write REST or stream rows into L0 and/or L1 in one run,
 *   and what they leave behind is L1 bars, so they count as L1 runs.
 * - `L2`..`L6`: the pipeline's layer runner records the layer id itself.
 */
import { LAYERS, type LayerId } from './layout.ts';

export { LAYERS, type LayerId };

/**
 * When a layer is expected to have been refreshed:
 * - `on_demand`: only when someone runs it (file imports); never stale by age.
 * - `after_each_session`: a completed run after the close of the last session (plus a grace).
 * - `after_parent`: a completed run at least as recent as its parent layer's last completed run.
 */
export type LayerFreshness = 'on_demand' | 'after_each_session' | 'after_parent';

export interface LayerInfo {
  id: LayerId;
  name: string;
  description: string;
  /** `pipeline_runs.layer` values recorded for this layer. */
  steps: readonly string[];
  freshness: LayerFreshness;
  /** The layer this one is computed from; null for L0. */
  parent: LayerId | null;
}

const INFO: { [K in LayerId]: Omit<LayerInfo, 'id'> } = {
  L0: {
    name: 'raw',
    description: 'Every row as received (files, REST answers) in raw_bars, append-only, with its origin sha256 and line.',
    steps: ['L0'],
    freshness: 'on_demand',
    parent: null,
  },
  L1: {
    name: 'standardized',
    description: 'Clean 5-minute bars (bars) on the session grid with flags and revisions, and session quality (sessions).',
    steps: ['L1', 'backfill', 'failsafe', 'sync'],
    freshness: 'after_each_session',
    parent: 'L0',
  },
  L2: { name: 'indicators', description: 'Technical indicators per bar over the research series.', steps: ['L2'], freshness: 'after_parent', parent: 'L1' },
  L3: { name: 'features', description: 'The feature table, one row per bar.', steps: ['L3'], freshness: 'after_parent', parent: 'L2' },
  L4: { name: 'rl_dataset', description: 'The reinforcement-learning dataset: one episode per session, split train/validation/test.', steps: ['L4'], freshness: 'after_parent', parent: 'L3' },
  L5: { name: 'policies', description: 'Trained (PPO) and baseline policies.', steps: ['L5'], freshness: 'after_parent', parent: 'L4' },
  L6: { name: 'backtests', description: 'Event-driven backtests of the policies, with gates and reports.', steps: ['L6'], freshness: 'after_parent', parent: 'L5' },
};

export const LAYER_INFO: readonly LayerInfo[] = LAYERS.map((id) => ({ id, ...INFO[id] }));

export function layerInfo(id: LayerId): LayerInfo {
  return { id, ...INFO[id] };
}

const LAYER_OF_STEP = new Map<string, LayerId>(LAYER_INFO.flatMap((l) => l.steps.map((step) => [step, l.id] as const)));

/** The layer a recorded step belongs to; null for a step this table does not know. */
export function layerOfStep(step: string): LayerId | null {
  return LAYER_OF_STEP.get(step) ?? null;
}

/** How long after a session's close L1 may lag before it counts as stale (the failsafe runs at 13:05 and hourly). */
export const L1_GRACE_MS = 60 * 60_000;
