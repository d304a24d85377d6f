/**
 * A dataset split as the pipeline's newest L6 backtest of a symbol saw it: the session dates of
 * that split in the L4 dataset the L6 run read (its parent), and the costs that dataset charges
 * (L6 charges every policy, baselines included, the dataset's costs). `tasa paper replay --split`
 * replays exactly those sessions at those costs, so its trades can be held to L6's.
 */
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { resolveRlDatasetConfig, SPLITS } from '../research/rl-dataset.ts';
import type { Split, TradingCosts } from '../research/types.ts';
import type { Db } from '../store/db.ts';
import { getRun, listRuns, type PipelineRun } from '../store/pipeline-runs-repo.ts';
import { datasetConfigOf } from './layers/l4-dataset.ts';
import { parseManifest } from './manifest.ts';

export interface BacktestedSplit {
  split: Split;
  /** First and last session of the split (Bogota dates, inclusive). */
  from: IsoDate;
  to: IsoDate;
  sessions: number;
  costs: TradingCosts;
  l6RunId: number;
  l4RunId: number;
}

export function parseSplit(value: string): Split {
  const split = SPLITS.find((s) => s === value);
  if (split === undefined) throw new TasaError('bad_argument', `--split must be one of ${SPLITS.join(', ')}, got "${value}".`, { input: value });
  return split;
}

export async function backtestedSplit(db: Db, symbol: string, split: Split): Promise<BacktestedSplit> {
  const [l6] = await listRuns(db, { layer: 'L6', symbol, status: 'completed', withManifest: true, limit: 1 });
  if (l6 === undefined) {
    throw new TasaError('not_found', `There is no completed L6 run of ${symbol}, so no split to take the dates from.`, { input: symbol, hint: 'Run the pipeline (tasa pipeline run), or give --from/--to.' });
  }
  const l4 = await datasetRunOf(db, l6);
  const dates = splitDates(l4, split);
  const costs = resolveRlDatasetConfig(datasetConfigOf(parseManifest(l4.manifest, `of L4 run ${l4.id}`).config)).costs;
  return { split, ...dates, costs, l6RunId: l6.id, l4RunId: l4.id };
}

/** The L4 run an L6 run backtested (a skipped L4 run's ref names the run that wrote the dataset). */
async function datasetRunOf(db: Db, l6: PipelineRun): Promise<PipelineRun> {
  const parent = parseManifest(l6.manifest, `of L6 run ${l6.id}`).parentRuns.find((p) => p.layer === 'L4');
  const l4 = parent === undefined ? null : await getRun(db, parent.runId);
  if (l4 === null || l4.layer !== 'L4' || l4.manifest === null) {
    throw new TasaError('not_found', `L6 run ${l6.id} names no recorded L4 dataset run.`, { input: String(l6.id), hint: 'Rerun the pipeline (tasa pipeline run --layers L4-L6).' });
  }
  return l4;
}

function splitDates(l4: PipelineRun, split: Split): { from: IsoDate; to: IsoDate; sessions: number } {
  const splits = l4.summary['splits'] as Partial<Record<Split, { from?: unknown; to?: unknown; sessions?: unknown }>> | undefined;
  const s = splits?.[split];
  if (typeof s?.from !== 'string' || typeof s.to !== 'string' || typeof s.sessions !== 'number') {
    throw new TasaError('bad_input', `L4 run ${l4.id} recorded no ${split} split.`, { input: String(l4.id), hint: 'Rerun the pipeline (tasa pipeline run --layers L4-L6 --force).' });
  }
  return { from: s.from, to: s.to, sessions: s.sessions };
}
