/**
 * The pipeline as recorded in `pipeline_runs`, seen by layer (L0..L6, see pipeline/layers.ts):
 * each layer's last run, its history, failed runs and stale layers.
 */
import type { Clock } from '../../clock.ts';
import type { MarketCalendar } from '../../domain/calendar.ts';
import { DAY_MS, toIsoUtc } from '../../domain/time.ts';
import { L1_GRACE_MS, LAYER_INFO, layerOfStep, type LayerId, type LayerInfo } from '../../pipeline/layers.ts';
import type { Db } from '../../store/db.ts';
import { latestRunPerLayer, listRuns, type PipelineRun, type RunStatus } from '../../store/pipeline-runs-repo.ts';
import type { LayerHealth, LayerStatus, PipelineHealth, RunView } from '../../contracts/api/pipeline.ts';

export function runView(run: PipelineRun): RunView {
  return {
    id: run.id,
    layer: layerOfStep(run.layer),
    step: run.layer,
    symbol: run.symbol,
    status: run.status,
    startedAt: toIsoUtc(run.startedAt),
    finishedAt: run.finishedAt === null ? null : toIsoUtc(run.finishedAt),
    durationMs: run.finishedAt === null ? null : run.finishedAt - run.startedAt,
    rowsIn: run.rowsIn,
    rowsOut: run.rowsOut,
    datasetHash: run.datasetHash,
    error: run.error,
    params: run.params,
    summary: run.summary,
    hasManifest: run.manifest !== null,
  };
}

/** A run that ended well enough to build on: completed, or skipped because its output was already there. */
const SUCCESS: readonly RunStatus[] = ['completed', 'skipped'];
const ALL_STEPS = LAYER_INFO.flatMap((l) => l.steps);

interface LayerRuns {
  info: LayerInfo;
  last: PipelineRun | null;
  success: PipelineRun | null;
}

async function layerRuns(db: Db, symbol: string | undefined): Promise<LayerRuns[]> {
  const [last, success] = await Promise.all([
    latestRunPerLayer(db, ALL_STEPS, { symbol }),
    latestRunPerLayer(db, ALL_STEPS, { symbol, statuses: SUCCESS }),
  ]);
  return LAYER_INFO.map((info) => ({ info, last: newest(info.steps.map((s) => last.get(s))), success: newest(info.steps.map((s) => success.get(s))) }));
}

function newest(runs: ReadonlyArray<PipelineRun | undefined>): PipelineRun | null {
  let best: PipelineRun | null = null;
  for (const run of runs) if (run !== undefined && (best === null || run.id > best.id)) best = run;
  return best;
}

export async function pipelineStatus(db: Db, symbol?: string): Promise<LayerStatus[]> {
  return (await layerRuns(db, symbol)).map(({ info, last, success }) => ({
    layer: info.id,
    name: info.name,
    description: info.description,
    steps: [...info.steps],
    lastRun: last === null ? null : runView(last),
    lastSuccess: success === null ? null : runView(success),
  }));
}

export async function pipelineHealth(db: Db, o: { calendar: MarketCalendar; clock: Clock; days: number; limit: number; symbol?: string }): Promise<PipelineHealth> {
  const now = o.clock.now();
  const since = now - o.days * DAY_MS;
  const [failed, runs] = await Promise.all([listRuns(db, { status: 'failed', startedFrom: since, limit: o.limit + 1, symbol: o.symbol }), layerRuns(db, o.symbol)]);
  const byLayer = new Map<LayerId, LayerRuns>(runs.map((r) => [r.info.id, r]));
  const layers = runs.map((r) => layerHealth(r, byLayer, o.calendar, now));
  const failedRuns = failed.slice(0, o.limit).map(runView);
  return { healthy: failed.length === 0 && layers.every((l) => !l.stale), days: o.days, since: toIsoUtc(since), failedRuns, failedRunsTruncated: failed.length > o.limit, layers };
}

function layerHealth(r: LayerRuns, byLayer: ReadonlyMap<LayerId, LayerRuns>, calendar: MarketCalendar, now: number): LayerHealth {
  const base = {
    layer: r.info.id,
    name: r.info.name,
    description: r.info.description,
    steps: [...r.info.steps],
    freshness: r.info.freshness,
    lastSuccessAt: isoOrNull(r.success?.finishedAt ?? null),
  };
  const verdict = staleness(r, byLayer, calendar, now);
  return { ...base, expectedAfter: isoOrNull(verdict.expectedAfter), stale: verdict.reason !== null, reason: verdict.reason };
}

function staleness(r: LayerRuns, byLayer: ReadonlyMap<LayerId, LayerRuns>, calendar: MarketCalendar, now: number): { expectedAfter: number | null; reason: string | null } {
  const done = r.success?.finishedAt ?? null;
  if (r.info.freshness === 'on_demand') return { expectedAfter: null, reason: null };
  if (r.info.freshness === 'after_each_session') {
    // The last session whose close is at least the grace period ago must be covered.
    const close = calendar.previousSession(now - L1_GRACE_MS).close;
    if (done === null) return { expectedAfter: close, reason: `${r.info.id} never completed a run.` };
    return { expectedAfter: close, reason: done < close ? `${r.info.id} has not completed a run since the session close at ${toIsoUtc(close)}.` : null };
  }
  const parent = r.info.parent === null ? undefined : byLayer.get(r.info.parent);
  const parentDone = parent?.success?.finishedAt ?? null;
  if (parentDone === null) return { expectedAfter: null, reason: null };
  if (r.success === null) return { expectedAfter: parentDone, reason: `${r.info.id} never completed a run although ${r.info.parent ?? ''} has data.` };
  // The run read its inputs when it started: a parent finished after that is newer input.
  return {
    expectedAfter: parentDone,
    reason: r.success.startedAt < parentDone ? `${r.info.parent ?? ''} changed at ${toIsoUtc(parentDone)}, after ${r.info.id}'s last run started (${toIsoUtc(r.success.startedAt)}).` : null,
  };
}

function isoOrNull(t: number | null): string | null {
  return t === null ? null : toIsoUtc(t);
}
