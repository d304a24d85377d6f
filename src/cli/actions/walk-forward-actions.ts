/** What the walk-forward commands run (loaded on demand by ../commands/pipeline-commands.ts). */
import { writeFile } from 'node:fs/promises';
import { systemClock } from '../../clock.ts';
import { toBogotaText } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { failStaleRuns } from '../../pipeline/walk-forward-run.ts';
import type { WalkForwardReport } from '../../research/walk-forward-evaluation.ts';
import { getWalkForwardRun, listFolds, listWalkForwardRuns, walkForwardReportHtml, type StoredWalkForwardRun } from '../../store/walk-forward-repo.ts';
import { parseIntegerArg, parseSymbolArg } from '../args.ts';
import { createContext, withStore } from '../context.ts';

export interface ShowWalkForwardCliOptions {
  report?: string;
}

/** The newest walk-forward runs, one line each; a run whose process died is failed as stale first. */
export async function listWalkForward(o: { symbol?: string }): Promise<void> {
  const runs = await withStore(createContext(), async (db) => {
    await failStaleRuns({ db, clock: systemClock }, 'cli');
    return listWalkForwardRuns(db, o.symbol === undefined ? {} : { symbol: parseSymbolArg(o.symbol) });
  });
  if (runs.length === 0) console.log('no walk-forward run yet (tasa pipeline run with L6 makes one)');
  for (const r of runs) console.log(runLine(r));
}

/** One run: its folds, each policy's summary and verdict; `--report` writes the HTML report. */
export async function showWalkForward(idText: string, o: ShowWalkForwardCliOptions): Promise<void> {
  const id = parseIntegerArg('<id>', idText, 1);
  const { run, folds, html } = await withStore(createContext(), async (db) => {
    const found = await getWalkForwardRun(db, id);
    if (found === null) throw new TasaError('not_found', `There is no walk-forward run ${id}.`, { input: String(id), hint: 'tasa walk-forward list' });
    return { run: found, folds: await listFolds(db, id), html: o.report === undefined ? null : await walkForwardReportHtml(db, id) };
  });
  console.log(runLine(run));
  for (const f of folds) console.log(`  fold ${f.fold + 1}: ${f.status}${f.worker === null ? '' : ` (${f.worker})`}${f.error === null ? '' : `: ${f.error}`}`);
  const report = run.report as unknown as WalkForwardReport | null;
  if (report !== null) {
    for (const p of report.policies) console.log(`  ${p.policyId}: ${p.verdict}`);
  }
  if (o.report !== undefined) {
    if (html === null) throw new TasaError('conflict', `Walk-forward run ${id} is ${run.status}: it has no report yet.`, { input: String(id) });
    await writeFile(o.report, html);
    console.log(`report written to ${o.report}`);
  }
}

function runLine(r: StoredWalkForwardRun): string {
  const verdict = (r.report as unknown as WalkForwardReport | null)?.verdict ?? r.error ?? '';
  return `walk-forward ${r.id} ${r.symbol} ${r.status} ${toBogotaText(r.createdAt)} Bogota ${r.folds} folds${verdict === '' ? '' : `: ${verdict}`}`;
}
