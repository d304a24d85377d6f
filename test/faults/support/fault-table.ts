/**
 * The fault table: one row per fault (fault, injected, survived, ticks lost, bars repaired, and
 * the detail behind them) with the figures of each symbol of the run, printed at the end of the
 * suite (one line per fault and symbol) and written as JSON for the bench (`bench/fault-bench.ts`)
 * and docs/reliability.md. A fault survived when every check held for every symbol.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FaultResult, SymbolResult } from './fault-session.ts';

export const FAULT_TABLE_PATH = join(fileURLToPath(new URL('../../..', import.meta.url)), 'artifacts', 'fault-table.json');

/** One symbol's figures in one fault's run. */
export interface SymbolRow {
  symbol: string;
  /** Every check held for this symbol. */
  survived: boolean;
  ticksDelivered: number;
  ticksLost: number;
  ticksInFlightAtKill: number;
  duplicateTicks: number;
  /** The slots audited: the part of the run in which the symbol's market is open. */
  barsAudited: number;
  barsRepaired: number;
  barsWrongAfterFailsafe: number;
  clientFrames: number;
  /** Stored ticks the client never received (only allowed inside an announced gap). */
  clientTicksMissed: number;
  clientGapsAnnounced: number;
  clientUnannouncedSeqs: number;
}

export interface FaultRow {
  fault: string;
  injected: string;
  /** Every assertion of the fault held, for every symbol. */
  survived: boolean;
  /** Why not, when it did not (the failed assertions, each naming its symbol). */
  failures: string[];
  /** Totals over the symbols (the bench's figures); null when the run broke off before the audit (the failure says why). */
  ticksDelivered: number | null;
  ticksLost: number | null;
  ticksInFlightAtKill: number | null;
  barsRepaired: number | null;
  /** Each symbol's figures; empty when the run broke off. */
  symbols: SymbolRow[];
  speed: number;
  realSeconds: number;
}

/** The assertions of the suite, as data: each failed check is one sentence naming its symbol. */
export function failedChecks(r: FaultResult): string[] {
  if (r.symbols.length === 0) return ['no symbol was audited'];
  return r.symbols.flatMap((s) => symbolChecks(s).map((failure) => `${s.symbol}: ${failure}`));
}

function symbolChecks(s: SymbolResult): string[] {
  const out: string[] = [];
  const t = s.ticks;
  const b = s.bars;
  const c = s.client;
  if (t.delivered === 0) out.push('the simulator delivered no tick to ingest');
  if (t.lost > 0) out.push(`${t.lost} of ${t.delivered} delivered ticks are not stored (e.g. ${t.lostSample.join(', ')})`);
  if (t.duplicates > 0) out.push(`${t.duplicates} ticks are stored more than once`);
  if (t.unexpected > 0) out.push(`${t.unexpected} stored ticks were never delivered`);
  if (b.expected === 0) out.push('the simulator has no bar in the window');
  if (b.missing > 0) out.push(`${b.missing} of ${b.expected} bars are missing after the failsafe`);
  if (b.wrong > 0) out.push(`${b.wrong} bars differ from the simulator's after the failsafe (${b.wrongSample.join('; ')})`);
  if (b.partial > 0) out.push(`${b.partial} bars are still flagged partial after the failsafe`);
  if (s.failsafe.error !== null) out.push(`the failsafe's backfill failed: ${s.failsafe.error}`);
  if (c.frames === 0) out.push('the WebSocket client received nothing');
  if (c.unannouncedSeqs > 0) out.push(`the client missed ${c.unannouncedSeqs} seqs with no gap frame (${c.holes.map((h) => `${h.from}..${h.to}`).join(', ')})`);
  if (c.duplicateSeqs > 0) out.push(`the client received ${c.duplicateSeqs} seqs twice`);
  // Each stored tick the client lacks is one seq at least: the gap frames must announce that many.
  const announced = c.gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
  if (t.notAtClient > announced) out.push(`the client never received ${t.notAtClient} stored ticks, and gap frames announced only ${announced} seqs`);
  return out;
}

function symbolRow(s: SymbolResult): SymbolRow {
  return {
    symbol: s.symbol,
    survived: symbolChecks(s).length === 0,
    ticksDelivered: s.ticks.delivered,
    ticksLost: s.ticks.lost,
    ticksInFlightAtKill: s.ticks.inFlight,
    duplicateTicks: s.ticks.duplicates,
    barsAudited: s.bars.expected,
    barsRepaired: s.bars.repaired,
    barsWrongAfterFailsafe: s.bars.wrong + s.bars.missing,
    clientFrames: s.client.frames,
    clientTicksMissed: s.ticks.notAtClient,
    clientGapsAnnounced: s.client.gaps.length,
    clientUnannouncedSeqs: s.client.unannouncedSeqs,
  };
}

export function toRow(r: FaultResult): FaultRow {
  const failures = failedChecks(r);
  const symbols = r.symbols.map(symbolRow);
  const total = (figure: (s: SymbolRow) => number): number => symbols.reduce((n, s) => n + figure(s), 0);
  return {
    fault: r.fault,
    injected: r.injected,
    survived: failures.length === 0,
    failures,
    ticksDelivered: total((s) => s.ticksDelivered),
    ticksLost: total((s) => s.ticksLost),
    ticksInFlightAtKill: total((s) => s.ticksInFlightAtKill),
    barsRepaired: total((s) => s.barsRepaired),
    symbols,
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
    barsRepaired: null,
    symbols: [],
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

/** The table as Markdown (the format of docs/reliability.md): one line per fault and symbol, the fault named on its first. */
export function faultTableMarkdown(rows: readonly FaultRow[]): string {
  const head = '| fault | injected | symbol | survived | ticks lost | in flight at kill | duplicates | bars audited | bars repaired | wrong bars | client: ticks missed, gaps announced, unannounced seqs |';
  const lines = rows.flatMap((r) => {
    if (r.symbols.length === 0) return [`| ${r.fault} | ${r.injected} | — | NO | — | — | — | — | — | — | — |`];
    return r.symbols.map((s, i) => {
      const [fault, injected] = i === 0 ? [r.fault, r.injected] : ['', ''];
      return `| ${fault} | ${injected} | ${s.symbol} | ${s.survived ? 'yes' : 'NO'} | ${s.ticksLost} of ${s.ticksDelivered} | ${s.ticksInFlightAtKill} | ${s.duplicateTicks} | ${s.barsAudited} | ${s.barsRepaired} | ${s.barsWrongAfterFailsafe} | ${s.clientTicksMissed}, ${s.clientGapsAnnounced}, ${s.clientUnannouncedSeqs} |`;
    });
  });
  return [head, '|---|---|---|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}
