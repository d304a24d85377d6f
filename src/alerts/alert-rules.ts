/**
 * The alert rules, pure: observations in, alert decisions out (raise with a dedupe key, resolve
 * a key, or nothing). No I/O and no clock reads: the engine (alert-engine.ts) gathers the
 * observations from the bus, the database and the calendar and stores what the rules decide.
 *
 * Every rule describes a condition that holds for a while, so each has one dedupe key per
 * symbol (or one for the whole system): raising it again while it is open only counts an
 * occurrence, and the alert resolves when the condition clears.
 */
import type { Config } from '../config.ts';
import type { Session } from '../domain/calendar.ts';
import { toIsoUtc } from '../domain/time.ts';
import { COVERAGE_ALERT_KIND } from '../jobs/failsafe.ts';
import { windowUsage, type ApiKeyState } from '../store/api-keys-repo.ts';
import type { AlertInput } from '../store/alerts-repo.ts';

export const ALERT_KINDS = {
  priceMove: 'price_move',
  noTicks: 'no_ticks',
  feedDisconnected: 'feed_disconnected',
  keyBudgetLow: 'key_budget_low',
  /** Raised by the failsafe job (a session it could not fill); the engine forwards it. */
  sessionGap: COVERAGE_ALERT_KIND,
} as const;

export type AlertKind = (typeof ALERT_KINDS)[keyof typeof ALERT_KINDS];

/** An alert to raise: what `raiseAlert` stores, with its time. */
export type AlertCandidate = AlertInput & { at: number };

export type RuleDecision = { action: 'raise'; alert: AlertCandidate } | { action: 'resolve'; dedupeKey: string };

export interface AlertThresholds {
  /** Percent move within a bar (its high-low range vs its open) or close vs the previous bar's close. */
  priceMovePct: number;
  /** No tick for this long while the market is open. */
  staleMs: number;
  /** Day credits left, percent of the day limit of the usable keys. */
  keyBudgetPct: number;
  /** The feed must stay down this long before it is alerted (a reconnect usually takes seconds). */
  feedDownGraceMs: number;
}

export const DEFAULT_FEED_DOWN_GRACE_MS = 30_000;

export function thresholdsFromConfig(
  config: Pick<Config, 'TASA_ALERT_PRICE_MOVE_PCT' | 'TASA_ALERT_STALE_SECONDS' | 'TASA_ALERT_KEY_BUDGET_PCT'>,
  feedDownGraceMs = DEFAULT_FEED_DOWN_GRACE_MS,
): AlertThresholds {
  return {
    priceMovePct: config.TASA_ALERT_PRICE_MOVE_PCT,
    staleMs: config.TASA_ALERT_STALE_SECONDS * 1000,
    keyBudgetPct: config.TASA_ALERT_KEY_BUDGET_PCT,
    feedDownGraceMs,
  };
}

export const dedupeKeys = {
  priceMove: (symbol: string) => `${ALERT_KINDS.priceMove}:${symbol}`,
  noTicks: (symbol: string) => `${ALERT_KINDS.noTicks}:${symbol}`,
  feedDisconnected: () => ALERT_KINDS.feedDisconnected,
  keyBudgetLow: () => ALERT_KINDS.keyBudgetLow,
};

// ---- price move ----

/** The prices of a bar as the `bars` channel carries them (forming or final). */
export interface BarPrices {
  /** Open time, epoch ms. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface PriceMoveInput {
  symbol: string;
  bar: BarPrices;
  /** Close of the latest final bar before this one; null when none is known. */
  previousClose: number | null;
  thresholdPct: number;
  at: number;
}

export interface PriceMoves {
  /** (high - low) / open, percent. */
  withinBarPct: number;
  /** |close - previousClose| / previousClose, percent; null without a previous close. */
  vsPreviousPct: number | null;
}

export function priceMoves(bar: BarPrices, previousClose: number | null): PriceMoves {
  return {
    withinBarPct: ((bar.high - bar.low) / bar.open) * 100,
    vsPreviousPct: previousClose === null ? null : (Math.abs(bar.close - previousClose) / previousClose) * 100,
  };
}

/** A raise when the bar moved more than the threshold within itself or against the previous close; else null. */
export function priceMoveAlert(i: PriceMoveInput): AlertCandidate | null {
  const moves = priceMoves(i.bar, i.previousClose);
  const within = moves.withinBarPct > i.thresholdPct;
  const vsPrevious = moves.vsPreviousPct !== null && moves.vsPreviousPct > i.thresholdPct;
  if (!within && !vsPrevious) return null;
  const parts: string[] = [];
  if (within) parts.push(`${pct(moves.withinBarPct)} within the bar (low ${i.bar.low}, high ${i.bar.high})`);
  if (vsPrevious && moves.vsPreviousPct !== null) parts.push(`${pct(moves.vsPreviousPct)} vs the previous close ${String(i.previousClose)} (close ${i.bar.close})`);
  return {
    kind: ALERT_KINDS.priceMove,
    severity: 'warning',
    symbol: i.symbol,
    message: `${i.symbol} moved ${parts.join(' and ')} in the ${toIsoUtc(i.bar.time)} bar, over the ${pct(i.thresholdPct)} threshold.`,
    details: { barTime: toIsoUtc(i.bar.time), open: i.bar.open, high: i.bar.high, low: i.bar.low, close: i.bar.close, previousClose: i.previousClose, ...moves, thresholdPct: i.thresholdPct },
    dedupeKey: dedupeKeys.priceMove(i.symbol),
    at: i.at,
  };
}

// ---- no ticks in session ----

export interface StalenessInput {
  symbol: string;
  now: number;
  /** The session open at `now`, or null outside sessions. */
  session: Session | null;
  /** Receive time of the latest tick; null when none is known. */
  lastTickAt: number | null;
  staleMs: number;
}

/**
 * Raise when no tick arrived for longer than `staleMs` in session, counted from the later of
 * the last tick and the session open; resolve as soon as that is not so (a tick came, or the
 * session closed: "no tick" means nothing outside market hours).
 */
export function stalenessDecision(i: StalenessInput): RuleDecision {
  const dedupeKey = dedupeKeys.noTicks(i.symbol);
  if (i.session === null) return { action: 'resolve', dedupeKey };
  const since = Math.max(i.lastTickAt ?? i.session.open, i.session.open);
  const silentMs = i.now - since;
  if (silentMs <= i.staleMs) return { action: 'resolve', dedupeKey };
  const seconds = Math.round(silentMs / 1000);
  const last = i.lastTickAt === null ? 'no tick known' : `last tick received ${toIsoUtc(i.lastTickAt)}`;
  return {
    action: 'raise',
    alert: {
      kind: ALERT_KINDS.noTicks,
      severity: 'critical',
      symbol: i.symbol,
      message: `No ${i.symbol} tick for ${seconds} s in the ${i.session.date} session (${last}); the limit is ${Math.round(i.staleMs / 1000)} s.`,
      details: { session: i.session.date, lastTickAt: i.lastTickAt === null ? null : toIsoUtc(i.lastTickAt), silentSeconds: seconds, staleSeconds: i.staleMs / 1000 },
      dedupeKey,
      at: i.now,
    },
  };
}

// ---- feed disconnected ----

/** The part of the ingest status snapshot (SystemStatus.ingest) this rule reads. */
export interface FeedObservation {
  /** Lifecycle state: ACTIVE while streaming, ERROR when ingestion stopped on an error. */
  state: string;
  feed: { state: string; detail: string | null };
}

export interface FeedDownInput {
  now: number;
  marketOpen: boolean;
  /** The latest ingest snapshot; null when no ingest process reports (unknown: no decision). */
  ingest: FeedObservation | null;
  /** When the feed was first seen down in the current stretch; null when it was up. */
  downSince: number | null;
  graceMs: number;
}

export interface FeedDownResult {
  decision: RuleDecision | null;
  /** Carry into the next evaluation. */
  downSince: number | null;
}

const FEED_DOWN_STATES = new Set(['disconnected', 'reconnecting', 'stopped']);

/** Whether ingestion should be streaming but is not: an ACTIVE lifecycle with the feed down, or an ERROR. */
export function feedIsDown(ingest: FeedObservation): boolean {
  return ingest.state === 'ERROR' || (ingest.state === 'ACTIVE' && FEED_DOWN_STATES.has(ingest.feed.state));
}

/** Raise once the feed has been down in session for `graceMs`; resolve when it is up or the market closed. */
export function feedDownDecision(i: FeedDownInput): FeedDownResult {
  const dedupeKey = dedupeKeys.feedDisconnected();
  if (!i.marketOpen) return { decision: { action: 'resolve', dedupeKey }, downSince: null };
  if (i.ingest === null) return { decision: null, downSince: i.downSince };
  if (!feedIsDown(i.ingest)) return { decision: { action: 'resolve', dedupeKey }, downSince: null };
  const downSince = i.downSince ?? i.now;
  if (i.now - downSince < i.graceMs) return { decision: null, downSince };
  const seconds = Math.round((i.now - downSince) / 1000);
  const why = i.ingest.state === 'ERROR' ? 'ingestion stopped on an error' : `the feed is ${i.ingest.feed.state}`;
  return {
    downSince,
    decision: {
      action: 'raise',
      alert: {
        kind: ALERT_KINDS.feedDisconnected,
        severity: 'critical',
        symbol: null,
        message: `Live feed down for ${seconds} s in session: ${why}${i.ingest.feed.detail === null ? '' : ` (${i.ingest.feed.detail})`}.`,
        details: { lifecycle: i.ingest.state, feedState: i.ingest.feed.state, detail: i.ingest.feed.detail, downSince: toIsoUtc(downSince), downSeconds: seconds },
        dedupeKey,
        at: i.now,
      },
    },
  };
}

// ---- key budget ----

export interface KeyBudget {
  /** Day credits left on the usable keys. */
  left: number;
  /** Day limit of the usable keys. */
  limit: number;
  usableKeys: number;
  badKeys: number;
}

/** Day credits left across the keys that are not `bad`, in the windows current at `now`. */
export function keyBudget(keys: readonly ApiKeyState[], now: number): KeyBudget {
  const usable = keys.filter((k) => k.status === 'ok');
  const left = usable.reduce((sum, k) => sum + Math.max(0, k.dayLimit - windowUsage(k, now).dayUsed), 0);
  const limit = usable.reduce((sum, k) => sum + k.dayLimit, 0);
  return { left, limit, usableKeys: usable.length, badKeys: keys.length - usable.length };
}

/**
 * Raise when the usable keys have less than `thresholdPct` of their day credits left (or none
 * is usable); resolve otherwise. No keys registered: nothing to say (null).
 */
export function keyBudgetDecision(keys: readonly ApiKeyState[], now: number, thresholdPct: number): RuleDecision | null {
  if (keys.length === 0) return null;
  const dedupeKey = dedupeKeys.keyBudgetLow();
  const b = keyBudget(keys, now);
  const leftPct = b.limit === 0 ? 0 : (b.left / b.limit) * 100;
  if (b.usableKeys > 0 && leftPct >= thresholdPct) return { action: 'resolve', dedupeKey };
  const message =
    b.usableKeys === 0
      ? `No usable TwelveData key: all ${b.badKeys} are marked bad.`
      : `TwelveData day budget nearly spent: ${b.left} of ${b.limit} credits left (${pct(leftPct)}), below ${pct(thresholdPct)}.`;
  return {
    action: 'raise',
    alert: {
      kind: ALERT_KINDS.keyBudgetLow,
      severity: b.left === 0 ? 'critical' : 'warning',
      symbol: null,
      message,
      details: { ...b, leftPct, thresholdPct },
      dedupeKey,
      at: now,
    },
  };
}

function pct(x: number): string {
  return `${x.toFixed(2)} %`;
}
