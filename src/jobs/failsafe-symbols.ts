/**
 * The failsafe job over every configured symbol, on one key pool. Run one after the other with
 * nothing shared, the first symbols could spend the minute's and the day's credits and starve the
 * last, whatever each was missing. So every symbol's need is measured first (failsafe.ts
 * `failsafeNeed`: the same scope and gap plan as the run), the symbols run most missing first
 * (ties by symbol), and the run's REST budget is split max-min fairly (fair-share.ts): each is
 * offered an equal share, and what one does not need goes to the others in order of need.
 */
import type { SymbolCode } from '../domain/symbol.ts';
import type { Logger } from '../log.ts';
import { fairShares } from './fair-share.ts';
import { failsafeNeed, missingAfter, runFailsafe, type FailsafeNeed, type FailsafeOptions, type FailsafeResult } from './failsafe.ts';

export interface FailsafeSymbolsOptions extends Omit<FailsafeOptions, 'symbol' | 'maxRequests'> {
  symbols: readonly SymbolCode[];
  /** REST requests this run may make, all symbols together; default no limit but the keys' credits. */
  maxRequests?: number;
  /** Credits the keys have left today (`BudgetedKeyPool.creditsLeftToday`); without it, no limit is known. */
  creditsLeft?: () => Promise<number>;
  logger?: Pick<Logger, 'info'>;
}

/** One symbol's part of the run. */
export interface SymbolShare {
  symbol: SymbolCode;
  missingBefore: number;
  requestsNeeded: number;
  requestsAllowed: number;
  requestsUsed: number;
  missingAfter: number;
}

export interface FailsafeSymbolsResult {
  /** Requests this run could make, all symbols together; null: no limit known. */
  budget: number | null;
  /** The symbols in the order they ran (most missing first). */
  order: SymbolShare[];
  results: Record<SymbolCode, FailsafeResult>;
}

export async function runFailsafeForSymbols(o: FailsafeSymbolsOptions): Promise<FailsafeSymbolsResult> {
  const needs: FailsafeNeed[] = [];
  for (const symbol of o.symbols) needs.push(await failsafeNeed({ ...o, symbol }));
  const ordered = byNeed(needs);
  const budget = Math.min(o.maxRequests ?? Number.POSITIVE_INFINITY, (await o.creditsLeft?.()) ?? Number.POSITIVE_INFINITY);
  const allowed = fairShares(ordered.map((n) => ({ key: n.symbol, needed: n.requestsNeeded })), budget);
  o.logger?.info({ budget: finiteOrNull(budget), order: ordered.map((n) => n.symbol) }, `failsafe: ${orderLine(ordered, allowed, budget)}`);
  const order: SymbolShare[] = [];
  const results: Record<SymbolCode, FailsafeResult> = {};
  for (const need of ordered) {
    const requestsAllowed = allowed.get(need.symbol) ?? 0;
    // With no known limit the run is not capped: bars that fell due since the measure are filled too.
    const result = await runFailsafe({ ...o, symbol: need.symbol, maxRequests: Number.isFinite(budget) ? requestsAllowed : undefined });
    results[need.symbol] = result;
    order.push({ symbol: need.symbol, missingBefore: need.missingBars, requestsNeeded: need.requestsNeeded, requestsAllowed, requestsUsed: result.gapFill?.requests ?? 0, missingAfter: missingAfter(result) });
  }
  return { budget: finiteOrNull(budget), order, results };
}

/** Most missing bars first; ties by symbol. */
export function byNeed(needs: readonly FailsafeNeed[]): FailsafeNeed[] {
  return [...needs].sort((a, b) => b.missingBars - a.missingBars || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

function orderLine(ordered: readonly FailsafeNeed[], allowed: ReadonlyMap<SymbolCode, number>, budget: number): string {
  const parts = ordered.map((n) => `${n.symbol} (${n.missingBars} missing, ${allowed.get(n.symbol) ?? 0} of ${n.requestsNeeded} requests)`);
  return `order ${parts.join(', ')}; budget ${Number.isFinite(budget) ? String(budget) : 'unlimited'}`;
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}
