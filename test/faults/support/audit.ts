/**
 * The checker: what was stored against what the simulator delivered (ticks) and what its REST
 * history says (bars). Definitions (docs/reliability.md):
 * - every figure is of one symbol over its audit window: the part of the run in which its market
 *   is open (the slots from the clock's start to USD/COP's close, cut to the symbol's session);
 * - delivered: distinct ticks (symbol, exchange second, price, bid, ask) the simulator wrote to a
 *   live ingest connection, with exchange time inside the window;
 * - lost: delivered, not in the ticks table, and not in flight at a kill -9;
 * - in flight: delivered to a process within IN_FLIGHT_MS (wall time) of its kill -9: it may have
 *   died before making them durable. They are counted apart; the bar repair must cover their bars;
 * - duplicates: rows beyond the first for one tick; unexpected: stored ticks never delivered.
 */
import { BAR_MS, type Bar } from '../../../src/domain/bar.ts';
import { barsBetween } from '../../../src/store/bars-repo.ts';
import type { Db } from '../../../src/store/db.ts';
import { ticksBetween } from '../../../src/store/ticks-repo.ts';
import { tickKey, type TickLedger } from './tick-ledger.ts';

const IN_FLIGHT_MS = 1_000;
const API_KEY = 'fault-suite-truth';

/** One symbol's audited slots: [from, to), both on the 5-minute grid. */
export interface AuditWindow {
  symbol: string;
  from: number;
  to: number;
}

export interface TickAudit {
  delivered: number;
  stored: number;
  lost: number;
  inFlight: number;
  duplicates: number;
  unexpected: number;
  /** Stored ticks the WebSocket client never received (allowed only inside an announced gap). */
  notAtClient: number;
  /** A few lost ticks' exchange times (ISO), for the failure message. */
  lostSample: string[];
}

export interface BarAudit {
  expected: number;
  /** Before the failsafe: slots with no bar, bars flagged partial. */
  missingBefore: number;
  partialBefore: number;
  /** After the failsafe. */
  missing: number;
  partial: number;
  /** Bars whose OHLC differs from the simulator's bar. */
  wrong: number;
  /** Slots missing or partial before the failsafe that are right after it. */
  repaired: number;
  /** Bars carrying the `backfilled` flag (their values came from REST). */
  backfilled: number;
  wrongSample: string[];
  /** Open times (UTC HH:MM) of the bars flagged partial before the failsafe. */
  partialBeforeTimes: string[];
}

export async function auditTicks(db: Db, ledger: TickLedger, window: AuditWindow, kills: readonly number[], atClient: ReadonlySet<string>): Promise<TickAudit> {
  const delivered = ledger.between(window.symbol, window.from, window.to);
  const counts = new Map<string, number>();
  for (const t of await ticksBetween(db, window.symbol, window.from, window.to)) {
    const key = tickKey(t.symbol, t.time, t.price, t.bid, t.ask);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const deliveredKeys = new Set(delivered.map((t) => t.key));
  const absent = delivered.filter((t) => !counts.has(t.key));
  const inFlight = absent.filter((t) => kills.some((k) => Math.abs(t.sentAt - k) <= IN_FLIGHT_MS));
  const lost = absent.filter((t) => !inFlight.includes(t));
  let duplicates = 0;
  let stored = 0;
  for (const n of counts.values()) {
    stored += n;
    duplicates += n - 1;
  }
  return {
    delivered: delivered.length,
    stored,
    lost: lost.length,
    inFlight: inFlight.length,
    duplicates,
    unexpected: [...counts.keys()].filter((k) => !deliveredKeys.has(k)).length,
    notAtClient: [...counts.keys()].filter((k) => !atClient.has(k)).length,
    lostSample: lost.slice(0, 5).map((t) => new Date(t.time).toISOString()),
  };
}

export async function snapshotBars(db: Db, window: AuditWindow): Promise<Bar[]> {
  return barsBetween(db, window.symbol, window.from, window.to);
}

export async function auditBars(db: Db, window: AuditWindow, before: readonly Bar[], restUrl: string): Promise<BarAudit> {
  const truth = await simulatorBars(restUrl, window);
  const after = new Map((await snapshotBars(db, window)).map((b) => [b.time, b]));
  const beforeByTime = new Map(before.map((b) => [b.time, b]));
  const slots = [...truth.keys()].sort((a, b) => a - b);
  const wrongSample: string[] = [];
  let missing = 0;
  let wrong = 0;
  let repaired = 0;
  for (const time of slots) {
    const bar = after.get(time);
    const want = truth.get(time) as Ohlc4;
    if (!bar) {
      missing++;
      continue;
    }
    const got: Ohlc4 = [bar.open, bar.high, bar.low, bar.close];
    const right = got.every((v, i) => v === want[i]);
    if (!right) {
      wrong++;
      if (wrongSample.length < 5) wrongSample.push(`${new Date(time).toISOString()} stored ${got.join('/')} (${bar.source} r${bar.revision} [${bar.flags.join(',')}] coverage ${bar.coverage ?? '-'}) vs ${want.join('/')}`);
    }
    const had = beforeByTime.get(time);
    if (right && !bar.flags.includes('partial') && (!had || had.flags.includes('partial'))) repaired++;
  }
  const stored = [...after.values()];
  return {
    expected: slots.length,
    missingBefore: slots.filter((t) => !beforeByTime.has(t)).length,
    partialBefore: before.filter((b) => b.flags.includes('partial')).length,
    missing,
    partial: stored.filter((b) => b.flags.includes('partial')).length,
    wrong,
    repaired,
    backfilled: stored.filter((b) => b.flags.includes('backfilled')).length,
    wrongSample,
    partialBeforeTimes: before.filter((b) => b.flags.includes('partial')).map((b) => new Date(b.time).toISOString().slice(11, 16)),
  };
}

type Ohlc4 = [number, number, number, number];

/** The simulator's own bars for the window, straight from its REST /time_series (retrying a 429). */
async function simulatorBars(restUrl: string, window: AuditWindow): Promise<Map<number, Ohlc4>> {
  const params = new URLSearchParams({
    symbol: window.symbol,
    interval: '5min',
    start_date: tdTime(window.from),
    end_date: tdTime(window.to),
    timezone: 'UTC',
    order: 'ASC',
    outputsize: '5000',
    apikey: API_KEY,
  });
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${restUrl}/time_series?${params.toString()}`);
    const body = (await res.json()) as { status: string; values?: Array<{ datetime: string; open: string; high: string; low: string; close: string }> };
    if (res.status === 429 && attempt < 20) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (body.status !== 'ok' || !body.values) throw new Error(`simulator /time_series answered ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    const bars = new Map<number, Ohlc4>();
    for (const v of body.values) {
      const time = Date.parse(`${v.datetime.replace(' ', 'T')}Z`);
      if (time >= window.from && time < window.to && time % BAR_MS === 0) bars.set(time, [Number(v.open), Number(v.high), Number(v.low), Number(v.close)]);
    }
    return bars;
  }
}

function tdTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
