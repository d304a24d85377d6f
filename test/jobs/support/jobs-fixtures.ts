/** Shared pieces of the job tests: a clock that skips its own waits, the simulator, stored rows. */
import { ManualClock } from '../../../src/clock.ts';
import { BAR_MS, type Bar } from '../../../src/domain/bar.ts';
import { MarketCalendar, type Session } from '../../../src/domain/calendar.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/feeds/simulator/index.ts';
import type { CreditPlan } from '../../../src/feeds/twelvedata/key-pool.ts';
import { createRestSource, type RestSource } from '../../../src/jobs/history-source.ts';
import type { Db } from '../../../src/store/db.ts';

export const SYMBOL = 'USD/COP';
export const calendar = new MarketCalendar();

/**
 * A manual clock whose `sleep` moves time forward at once: a key pool waiting for the next minute
 * returns immediately, yet everything (the simulator's credit windows too) sees the minute pass.
 */
export class SleepSkippingClock extends ManualClock {
  override sleep(ms: number): Promise<void> {
    const done = super.sleep(ms);
    void this.advance(ms);
    return done;
  }
}

export interface SimSetup {
  sim: RunningSimulator;
  clock: SleepSkippingClock;
}

export async function startSim(now: number, overrides: Partial<SimulatorOptions> = {}): Promise<SimSetup> {
  const clock = new SleepSkippingClock(now);
  const sim = await startSimulator({ clock, seed: 7, plan: { perMinute: 8, perDay: 800 }, ...overrides });
  return { sim, clock };
}

/**
 * The production REST client and budgeted key pool, pointed at the simulator. `simulated: false`
 * configures it as TwelveData (the simulator answers in TwelveData's protocol): what the stored
 * bars are called follows the configuration, not anything in the answers.
 */
export function restSource(db: Db, setup: SimSetup, plan?: CreditPlan, simulated = true): RestSource {
  return createRestSource({ db, clock: setup.clock, keys: ['jobs-test-key'], plan, baseUrl: setup.sim.restUrl, simulated, timeoutMs: 60 * 60_000 });
}

export interface SimBar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** The simulator's own answer for [from, to), read directly (another key, so no credit is shared). */
export async function simulatorBars(sim: RunningSimulator, from: number, to: number, symbol = SYMBOL): Promise<Map<number, SimBar>> {
  const params = new URLSearchParams({
    symbol,
    interval: '5min',
    start_date: new Date(from).toISOString().slice(0, 19),
    end_date: new Date(to).toISOString().slice(0, 19),
    timezone: 'UTC',
    outputsize: '5000',
    apikey: 'reference-reader',
  });
  const res = await fetch(`${sim.restUrl}/time_series?${params.toString()}`);
  const body = (await res.json()) as { values?: Array<Record<string, string>> };
  const bars = (body.values ?? []).map((v) => ({
    time: Date.parse(`${v['datetime']?.replace(' ', 'T')}Z`),
    open: Number(v['open']),
    high: Number(v['high']),
    low: Number(v['low']),
    close: Number(v['close']),
  }));
  return new Map(bars.map((b) => [b.time, b]));
}

/** A live-looking bar, deliberately unlike the simulator's values so an overwrite would show. */
export function liveBar(time: number, close = 3900): Bar {
  return { symbol: SYMBOL, time, open: close, high: close + 1, low: close - 1, close, volume: null, tickCount: 12, source: 'twelvedata_ws', revision: 1, flags: [] };
}

/** Every slot of the session except those listed (by index in the grid). */
export function sessionSlotsExcept(session: Session, missing: readonly number[]): number[] {
  const skip = new Set(missing);
  return calendar.barGrid(session).filter((_, i) => !skip.has(i));
}

export function sessionOf(date: string): Session {
  const session = calendar.sessionFor(date);
  if (session === null) throw new Error(`${date} has no session`);
  return session;
}

export function slotRange(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i * BAR_MS);
}

export async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number }>(sql, params);
  return row?.n ?? 0;
}
