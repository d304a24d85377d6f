/**
 * The fault table: one row per fault (fault, injected, survived, ticks lost, bars repaired, and
 * the detail behind them), printed at the end of the suite and written as JSON for the bench
 * (`bench/fault-bench.ts`) and docs/reliability.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaultResult } from './fault-session.ts';

export const FAULT_TABLE_PATH = join(fileURLToPath(new URL('../../..', import.meta.url)), 'artifacts', 'fault-table.json');

export interface FaultRow {
  fault: string;
  injected: string;
  /** Every assertion of the fault held. */
  survived: boolean;
  /** Why not, when it did not (the failed assertions). */
  failures: string[];
  /** The counts are null when the run broke off before the audit (the failure says why). */
  ticksDelivered: number | null;
  ticksLost: number | null;
  ticksInFlightAtKill: number | null;
  duplicateTicks: number | null;
  barsRepaired: number | null;
  barsWrongAfterFailsafe: number | null;
  clientFrames: number | null;
  /** Stored ticks the client never received (only allowed inside an announced gap). */
  clientTicksMissed: number | null;
  clientGapsAnnounced: number | null;
  clientUnannouncedSeqs: number | null;
  speed: number;
  realSeconds: number;
}

/** The assertions of the suite, as data: each failed check is one sentence. */
export function failedChecks(r: FaultResult): string[] {
  const out: string[] = [];
  const t = r.ticks;
  const b = r.bars;
  const c = r.client;
  if (t.delivered === 0) out.push('the simulator delivered no tick to ingest');
  if (t.lost > 0) out.push(`${t.lost} of ${t.delivered} delivered ticks are not stored (e.g. ${t.lostSample.join(', ')})`);
  if (t.duplicates > 0) out.push(`${t.duplicates} ticks are stored more than once`);
  if (t.unexpected > 0) out.push(`${t.unexpected} stored ticks were never delivered`);
  if (b.missing > 0) out.push(`${b.missing} of ${b.expected} bars are missing after the failsafe`);
  if (b.wrong > 0) out.push(`${b.wrong} bars differ from the simulator's after the failsafe (${b.wrongSample.join('; ')})`);
  if (b.partial > 0) out.push(`${b.partial} bars are still flagged partial after the failsafe`);
  if (r.failsafe.error !== null) out.push(`the failsafe's backfill failed: ${r.failsafe.error}`);
  if (c.frames === 0) out.push('the WebSocket client received nothing');
  if (c.unannouncedSeqs > 0) out.push(`the client missed ${c.unannouncedSeqs} seqs with no gap frame (${c.holes.map((h) => `${h.from}..${h.to}`).join(', ')})`);
  if (c.duplicateSeqs > 0) out.push(`the client received ${c.duplicateSeqs} seqs twice`);
  if (t.notAtClient > 0 && c.gaps.length === 0) out.push(`the client never received ${t.notAtClient} stored ticks, and no gap frame told it`);
  return out;
}

export function toRow(r: FaultResult): FaultRow {
  const failures = failedChecks(r);
  return {
    fault: r.fault,
    injected: r.injected,
    survived: failures.length === 0,
    failures,
    ticksDelivered: r.ticks.delivered,
    ticksLost: r.ticks.lost,
    ticksInFlightAtKill: r.ticks.inFlight,
    duplicateTicks: r.ticks.duplicates,
    barsRepaired: r.bars.repaired,
    barsWrongAfterFailsafe: r.bars.wrong + r.bars.missing,
    clientFrames: r.client.frames,
    clientTicksMissed: r.ticks.notAtClient,
    clientGapsAnnounced: r.client.gaps.length,
    clientUnannouncedSeqs: r.client.unannouncedSeqs,
    speed: r.speed,
    realSeconds: Math.round(r.realSeconds),
  };
}

/** The row of a fault whose run broke off (a process that never became active, a timeout...). */
export function brokenRow(spec: Pick<FaultRow, 'fault' | 'injected' | 'speed'>, err: unknown, realSeconds: number): FaultRow {
  const reason = err instanceof Error ? err.message : String(err);
  return {
    ...spec,
    survived: false,
    failures: [`the run broke off: ${reason}`],
    ticksDelivered: null,
    ticksLost: null,
    ticksInFlightAtKill: null,
    duplicateTicks: null,
    barsRepaired: null,
    barsWrongAfterFailsafe: null,
    clientFrames: null,
    clientTicksMissed: null,
    clientGapsAnnounced: null,
    clientUnannouncedSeqs: null,
    realSeconds: Math.round(realSeconds),
  };
}

/** The whole suite's table goes where the bench reads it; a subset's (FAULTS=...) beside it, so the bench never reports a part as the whole. */
export function writeFaultTable(rows: readonly FaultRow[], details: readonly FaultResult[], subset: boolean): string {
  const path = subset ? FAULT_TABLE_PATH.replace(/\.json$/, '-subset.json') : FAULT_TABLE_PATH;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ rows, details }, null, 2)}\n`);
  return path;
}

/** The table as Markdown (the format of docs/reliability.md). */
export function faultTableMarkdown(rows: readonly FaultRow[]): string {
  const head = '| fault | injected | survived | ticks lost | in flight at kill | duplicates | bars repaired | wrong bars | client: ticks missed, gaps announced, unannounced seqs |';
  const n = (v: number | null): string => (v === null ? '—' : String(v));
  const lines = rows.map(
    (r) =>
      `| ${r.fault} | ${r.injected} | ${r.survived ? 'yes' : 'NO'} | ${r.ticksLost === null ? '—' : `${r.ticksLost} of ${n(r.ticksDelivered)}`} | ${n(r.ticksInFlightAtKill)} | ${n(r.duplicateTicks)} | ${n(r.barsRepaired)} | ${n(r.barsWrongAfterFailsafe)} | ${n(r.clientTicksMissed)}, ${n(r.clientGapsAnnounced)}, ${n(r.clientUnannouncedSeqs)} |`,
  );
  return [head, '|---|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}
