/**
 * The failsafe job (hourly and just after the close): backfill whatever the live path missed in
 * the last few sessions (empty slots, and partial bars: built while the feed covered only part of
 * their slot, replaced by the vendor's bar), reconcile each closed session once with the vendor's
 * bars (the vendor's bar is final after the close: every stored bar that differs is replaced, see
 * reconcile.ts), then check each session's coverage of the complete bars that should exist by now.
 * A session still below target after the backfill gets one open alert (repeat runs update it
 * rather than add rows); a session back at target has its alert resolved. On a day without a
 * session it does nothing at all, whatever the cron says.
 */
import type { Clock } from '../clock.ts';
import type { Calendars, Session } from '../domain/calendar.ts';
import { BAR_DUE_GRACE_MS, recentSessions } from '../domain/gaps.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import { errorMessage } from '../errors.ts';
import { raiseAlert, resolveAlert } from '../store/alerts-repo.ts';
import type { Db } from '../store/db.ts';
import { coverageOf, type SessionCoverage } from '../store/coverage.ts';
import { gapFillPass, planGapFill, slotsToFill, type GapFillSummary } from './gap-fill.ts';
import { sessionsToReconcile } from './reconcile.ts';
import type { HistorySource } from './history-source.ts';
import { recordedRun, type RunOutcome } from '../store/recorded-run.ts';

export const FAILSAFE_DEFAULTS = {
  sessions: 5,
  graceMs: BAR_DUE_GRACE_MS,
  targetCoverage: 0.95,
};

export const COVERAGE_ALERT_KIND = 'coverage_below_target';

export interface FailsafeOptions {
  db: Db;
  calendar: Calendars;
  source: HistorySource;
  symbol: SymbolCode;
  clock: Clock;
  /** How many recent sessions to check, the one in progress included; default 5. */
  sessions?: number;
  graceMs?: number;
  /** Share of due bars a session must have, 0..1; default 0.95. */
  targetCoverage?: number;
  maxRequests?: number;
}

export interface AlertCounts {
  raised: number;
  /** Still open from an earlier run: updated, not duplicated. */
  repeated: number;
  resolved: number;
}

export interface FailsafeResult {
  status: 'completed' | 'skipped';
  reason: 'non_trading_day' | null;
  runId: number | null;
  /** Null when skipped, or when the backfill failed (see `fillError`). */
  gapFill: GapFillSummary | null;
  /** Why the backfill failed; coverage is still checked and alerted on (the run is recorded as failed). */
  fillError: string | null;
  coverage: SessionCoverage[];
  alerts: AlertCounts;
}

export interface FailsafeNeed {
  symbol: SymbolCode;
  /** Due slots of the recent sessions without a complete bar (missing or partial). */
  missingBars: number;
  /** REST requests filling them (and reconciling the closed sessions) takes. */
  requestsNeeded: number;
}

/**
 * What a failsafe run of the symbol would fill and fetch, as of now, from the database alone
 * (nothing fetched or written): the same scope and plan as the run itself.
 */
export async function failsafeNeed(o: Omit<FailsafeOptions, 'maxRequests'>): Promise<FailsafeNeed> {
  const now = o.clock.now();
  if (!isSessionDay(o, now)) return { symbol: o.symbol, missingBars: 0, requestsNeeded: 0 };
  const scope = failsafeScope(o, now);
  const reconcile = await sessionsToReconcile(o.db, o.symbol, scope.sessions, scope.dueBy);
  const plan = await planGapFill({ ...o, from: scope.from, to: scope.to, dueBy: scope.dueBy, reconcile });
  return { symbol: o.symbol, missingBars: slotsToFill(plan.before), requestsNeeded: plan.windows.length };
}

/** Due slots still without a complete bar after the run (0 when skipped), from its coverage check. */
export function missingAfter(r: FailsafeResult): number {
  return r.coverage.reduce((sum, c) => sum + c.due - (c.present - c.partial), 0);
}

function isSessionDay(o: Pick<FailsafeOptions, 'calendar' | 'symbol'>, now: number): boolean {
  return o.calendar.of(o.symbol).tradesOnDayOf(now);
}

export async function runFailsafe(o: FailsafeOptions): Promise<FailsafeResult> {
  const now = o.clock.now();
  if (!isSessionDay(o, now)) {
    return { status: 'skipped', reason: 'non_trading_day', runId: null, gapFill: null, fillError: null, coverage: [], alerts: { raised: 0, repeated: 0, resolved: 0 } };
  }
  const scope = failsafeScope(o, now);
  const params = { from: scope.from, to: scope.to, dueBy: new Date(scope.dueBy).toISOString(), targetCoverage: scope.target, maxRequests: o.maxRequests ?? null };
  return recordedRun(o.db, o.clock, { layer: 'failsafe', symbol: o.symbol, params }, (runId) => backfillAndCheck(o, scope, runId), runOutcome);
}

interface FailsafeScope {
  sessions: Session[];
  from: IsoDate;
  to: IsoDate;
  dueBy: number;
  target: number;
}

function failsafeScope(o: FailsafeOptions, now: number): FailsafeScope {
  const dueBy = now - (o.graceMs ?? FAILSAFE_DEFAULTS.graceMs);
  const calendar = o.calendar.of(o.symbol);
  const sessions = recentSessions(calendar, dueBy, o.sessions ?? FAILSAFE_DEFAULTS.sessions);
  const from = sessions[0]?.date ?? calendar.localDate(dueBy);
  return { sessions, from, to: sessions.at(-1)?.date ?? from, dueBy, target: o.targetCoverage ?? FAILSAFE_DEFAULTS.targetCoverage };
}

async function backfillAndCheck(o: FailsafeOptions, scope: FailsafeScope, runId: number): Promise<FailsafeResult> {
  // Alerting must not depend on REST being reachable: a failed backfill still gets its coverage checked.
  let fillError: string | null = null;
  const gapFill = await sessionsToReconcile(o.db, o.symbol, scope.sessions, scope.dueBy)
    .then((reconcile) => gapFillPass({ ...o, from: scope.from, to: scope.to, dueBy: scope.dueBy, actor: 'failsafe', reconcile }))
    .catch((err: unknown) => {
      fillError = errorMessage(err);
      return null;
    });
  const coverage = await coverageOf(o.db, o.calendar.of(o.symbol), o.symbol, scope.sessions, scope.dueBy);
  const alerts = await reconcileAlerts(o, coverage, scope.target, { runId, budgetExhausted: gapFill?.budgetExhausted ?? false, fillError });
  return { status: 'completed', reason: null, runId, gapFill, fillError, coverage, alerts };
}

function runOutcome(r: FailsafeResult): RunOutcome {
  return {
    status: r.fillError === null ? 'completed' : 'failed',
    error: r.fillError,
    rowsIn: r.gapFill?.fetchedBars ?? 0,
    rowsOut: (r.gapFill?.filledBars ?? 0) + (r.gapFill?.barsReconciled ?? 0),
    summary: { ...r.gapFill, coverage: r.coverage, alerts: r.alerts },
  };
}

async function reconcileAlerts(o: FailsafeOptions, coverage: readonly SessionCoverage[], target: number, context: Record<string, unknown>): Promise<AlertCounts> {
  const counts: AlertCounts = { raised: 0, repeated: 0, resolved: 0 };
  const at = o.clock.now();
  for (const c of coverage) {
    const dedupeKey = `${COVERAGE_ALERT_KIND}:${o.symbol}:${c.date}`;
    if (c.coverage >= target) {
      if (await resolveAlert(o.db, dedupeKey, at)) counts.resolved++;
      continue;
    }
    const { created } = await raiseAlert(o.db, {
      kind: COVERAGE_ALERT_KIND,
      severity: c.present === 0 ? 'critical' : 'warning',
      symbol: o.symbol,
      message: coverageMessage(o.symbol, c, target),
      details: { ...c, target, ...context },
      dedupeKey,
      at,
    });
    if (created) counts.raised++;
    else counts.repeated++;
  }
  return counts;
}

function coverageMessage(symbol: SymbolCode, c: SessionCoverage, target: number): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const partial = c.partial === 0 ? '' : ` (${c.partial} more partial)`;
  return `${symbol} ${c.date}: ${c.present - c.partial} of ${c.due} due bars stored complete${partial} (${pct(c.coverage)}) after backfill, below the ${pct(target)} target.`;
}
