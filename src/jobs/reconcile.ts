/**
 * Post-session reconciliation: once a session has closed, the vendor's bar is final. The failsafe
 * fetches each closed session whole (in the gap fill's request windows, so a session costs at most
 * one request, shared with its fills) and compares every stored bar with the vendor's; a bar that
 * differs (a complete live bar whose open or close tie, between ticks sharing a second, broke
 * otherwise; an earlier backfill the vendor has since revised) is replaced by the vendor's values,
 * flagged `reconciled`, as a new revision (the old values go to bar_revisions).
 *
 * Each session is reconciled once: the `reconcile.session` audit entry records a fingerprint of the
 * session's stored bars after the comparison, and the session is due again only when they change
 * (a later fault, a revision, an import). A stored bar the vendor lacks is kept, and reported.
 */
import { createHash } from 'node:crypto';
import type { Bar } from '../domain/bar.ts';
import type { Session } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { RestBar } from '../feeds/twelvedata/time-series.ts';
import { appendAudit, listAudit } from '../store/audit-repo.ts';
import { barsBetween, upsertBarsDetail } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { isoTime } from '../store/rows.ts';
import { reconcileSpan, type ReconcileSpan } from './gap-plan.ts';
import { vendorBar, type HistoryBarSource } from './history-source.ts';

export const RECONCILE_ACTION = 'reconcile.session';

export interface ReconcileContext {
  symbol: SymbolCode;
  source: HistoryBarSource;
  actor: string;
  /** Clock time of the write, for the audit entry. */
  at: number;
}

export interface SessionReconciliation {
  /** Stored bars the vendor had a bar for. */
  compared: number;
  /** Of those, replaced by the vendor's bar. */
  replaced: number;
  /** Stored bars the vendor's answer lacks: kept as they are. */
  vendorMissing: number;
}

/** The audit entity of a session's bars (shared with the gap fill's entries). */
function sessionEntity(symbol: SymbolCode, date: string): string {
  return `bars:${symbol}:${date}`;
}

/**
 * The closed sessions (every slot ended by `dueBy`) not yet reconciled, or whose stored bars have
 * changed since they were.
 */
export async function sessionsToReconcile(db: Db, symbol: SymbolCode, sessions: readonly Session[], dueBy: number): Promise<Session[]> {
  const due: Session[] = [];
  for (const session of sessions.filter((s) => s.close <= dueBy)) {
    const [last] = await listAudit(db, { action: RECONCILE_ACTION, entity: sessionEntity(symbol, session.date), newestFirst: true, limit: 1 });
    const span = reconcileSpan(session);
    const stored = await barsBetween(db, symbol, span.from, span.to);
    if (last?.details['fingerprint'] !== barsFingerprint(stored)) due.push(session);
  }
  return due;
}

/**
 * Compares the stored bars of the span with the vendor's (`fetched`: the window's answer), writes
 * the vendor's bar where they differ and records the audit entry. Run inside the window's
 * transaction, after its fills.
 */
export async function reconcileWithVendor(tx: Db, ctx: ReconcileContext, span: ReconcileSpan, fetched: readonly RestBar[]): Promise<SessionReconciliation> {
  const vendor = new Map(fetched.filter((b) => b.time >= span.from && b.time < span.to).map((b) => [b.time, b]));
  const stored = await barsBetween(tx, ctx.symbol, span.from, span.to);
  const vendorMissing = stored.filter((bar) => !vendor.has(bar.time)).map((bar) => bar.time);
  const replacing = stored.flatMap((bar) => {
    const theirs = vendor.get(bar.time);
    return theirs === undefined || sameValues(bar, theirs) ? [] : [vendorBar(ctx.source, ctx.symbol, theirs, 'reconciled')];
  });
  const { written, refused } = await upsertBarsDetail(tx, replacing);
  const after = await barsBetween(tx, ctx.symbol, span.from, span.to);
  const result = { compared: stored.length - vendorMissing.length, replaced: written.length, vendorMissing: vendorMissing.length };
  await appendAudit(tx, [
    {
      actor: ctx.actor,
      action: RECONCILE_ACTION,
      entity: sessionEntity(ctx.symbol, span.date),
      at: ctx.at,
      details: {
        ...result,
        refused,
        vendorBars: vendor.size,
        replacedTimes: written.map(isoTime),
        vendorMissingTimes: vendorMissing.map(isoTime),
        source: ctx.source,
        // An answer without a single bar of the session (the vendor not ready yet) proves nothing:
        // no fingerprint, so the next run asks again.
        fingerprint: vendor.size === 0 ? null : barsFingerprint(after),
      },
    },
  ]);
  return result;
}

/**
 * Whether the stored bar carries the vendor's values: OHLC exactly, and the volume when both sides
 * have one. Spot FX has no volume: the live bar's is null while TwelveData may send 0, which is
 * not a difference worth a revision of every bar.
 */
function sameValues(bar: Bar, theirs: RestBar): boolean {
  const sameVolume = bar.volume === null || theirs.volume === null || bar.volume === theirs.volume;
  return bar.open === theirs.open && bar.high === theirs.high && bar.low === theirs.low && bar.close === theirs.close && sameVolume;
}

/** sha256 of every stored value of the bars (revision included): any write to them changes it. */
function barsFingerprint(bars: readonly Bar[]): string {
  const rows = bars.map((b) => [b.time, b.open, b.high, b.low, b.close, b.volume, b.tickCount, b.source, [...b.flags].sort(), b.coverage ?? null, b.revision]);
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}
