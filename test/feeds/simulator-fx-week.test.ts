/**
 * The simulator prints every pair over the global FX week, from Sunday 17:00 New York to Friday
 * 17:00 New York (21:00Z in summer, 22:00Z in winter), as TwelveData's aggregated forex quotes do,
 * over REST and the WebSocket; the local pairs' in-session bars are what they always were.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS } from '../../src/domain/bar.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import type { SeriesValue } from '../support/twelvedata-series.ts';

const SYMBOLS = ['USD/COP', 'USD/BRL', 'USD/MXN', 'USD/CLP', 'EUR/USD'];
const KEY = 'fx-week-test-key';
const SEED = 17;
/** Tuesday 2024-07-09 15:00Z: both weekends below are history. */
const SUMMER_NOW = Date.UTC(2024, 6, 9, 15, 0);
/** Tuesday 2025-01-07 15:00Z. */
const WINTER_NOW = Date.UTC(2025, 0, 7, 15, 0);
/**
 * sha256 of USD/COP's in-session 5min bars (08:00-13:00 Bogota, 13:00-18:00Z) from Wednesday
 * 2024-07-03 to Monday 2024-07-08 and from Wednesday 2025-01-01 to Monday 2025-01-06 (seed 17),
 * computed by this test against the simulator before it printed the FX week.
 */
const COP_IN_SESSION_SHA256 = 'e67f80827ef1142bfbff0e54d7998ea4c6ff3e700373a242c2f3595464c8a0e7';

type Json = Record<string, unknown>;

const utcTime = (datetime: string): number => Date.parse(`${datetime.replace(' ', 'T')}Z`);
const iso = (t: number): string => new Date(t).toISOString();

async function start(now: number): Promise<{ sim: RunningSimulator; clock: ManualClock }> {
  const clock = new ManualClock(now);
  const sim = await startSimulator({ clock, seed: SEED, symbols: SYMBOLS, ticksPerSecond: 0.1, plan: { perMinute: 1e6, perDay: 1e9 } });
  return { sim, clock };
}

/** 5min bars of one symbol with from <= open < to (UTC), oldest first. */
async function fiveMinuteBars(sim: RunningSimulator, symbol: string, from: number, to: number): Promise<SeriesValue[]> {
  const dateParam = (t: number): string => iso(t).slice(0, 19).replace('T', ' ');
  const query = new URLSearchParams({ symbol, interval: '5min', timezone: 'UTC', start_date: dateParam(from), end_date: dateParam(to), apikey: KEY });
  const res = await fetch(`${sim.restUrl}/time_series?${query.toString()}`);
  const body = (await res.json()) as Json;
  assert.equal(res.status, 200);
  if (body['status'] === 'error') return [];
  assert.equal(body['status'], 'ok', JSON.stringify(body));
  return [...(body['values'] as SeriesValue[])].reverse();
}

/** Every slot open in [from, to). */
function slotsBetween(from: number, to: number): number[] {
  return Array.from({ length: (to - from) / BAR_MS }, (_, i) => from + i * BAR_MS);
}

/** Asserts EUR/USD's bars round a weekend: up to the Friday close, none until the Sunday open, then every slot. */
async function assertWeekendGap(sim: RunningSimulator, fridayClose: number, sundayOpen: number): Promise<void> {
  const from = fridayClose - 2 * 60 * 60_000;
  const to = sundayOpen + 3 * 60 * 60_000;
  const times = (await fiveMinuteBars(sim, 'EUR/USD', from, to)).map((v) => utcTime(v.datetime));
  const expected = [...slotsBetween(from, fridayClose), ...slotsBetween(sundayOpen, to)];
  assert.deepEqual(times.map(iso), expected.map(iso));
}

describe('simulator: the FX week from Sunday 17:00 to Friday 17:00 New York', () => {
  describe('REST, summer (New York on UTC-4)', () => {
    let sim: RunningSimulator;
    before(async () => ({ sim } = await start(SUMMER_NOW)));
    after(() => sim.close());

    it('gives EUR/USD bars until Friday 21:00Z, none until Sunday 21:00Z, then every slot', async () => {
      await assertWeekendGap(sim, Date.UTC(2024, 6, 5, 21, 0), Date.UTC(2024, 6, 7, 21, 0));
    });

    it('prints every pair on Sunday evening, its last bar closing at the level Monday opens at', async () => {
      for (const symbol of SYMBOLS) {
        const bars = await fiveMinuteBars(sim, symbol, Date.UTC(2024, 6, 7, 20, 0), Date.UTC(2024, 6, 8, 0, 5));
        assert.deepEqual(bars.map((v) => v.datetime).slice(0, 1), ['2024-07-07 21:00:00'], symbol);
        assert.equal(bars.length, 37, symbol);
        const sundayLast = bars[35] as SeriesValue;
        const mondayFirst = bars[36] as SeriesValue;
        assert.equal(mondayFirst.open, sundayLast.close, `${symbol}: Monday opens where Sunday evening ends`);
      }
    });
  });

  describe('REST, winter (New York on UTC-5)', () => {
    let sim: RunningSimulator;
    before(async () => ({ sim } = await start(WINTER_NOW)));
    after(() => sim.close());

    it('gives EUR/USD bars until Friday 22:00Z, none until Sunday 22:00Z, then every slot', async () => {
      await assertWeekendGap(sim, Date.UTC(2025, 0, 3, 22, 0), Date.UTC(2025, 0, 5, 22, 0));
    });
  });

  it("keeps USD/COP's in-session bars exactly as they were", async () => {
    const hash = createHash('sha256');
    for (const [now, from] of [[SUMMER_NOW, Date.UTC(2024, 6, 3)], [WINTER_NOW, Date.UTC(2025, 0, 1)]] as const) {
      const { sim } = await start(now);
      try {
        const bars = await fiveMinuteBars(sim, 'USD/COP', from, from + 6 * 24 * 60 * 60_000);
        const inSession = bars.filter((v) => {
          const hour = new Date(utcTime(v.datetime)).getUTCHours();
          return hour >= 13 && hour < 18;
        });
        assert.equal(inSession.length, 4 * 60, 'four sessions of 60 bars');
        hash.update(JSON.stringify(inSession));
      } finally {
        await sim.close();
      }
    }
    assert.equal(hash.digest('hex'), COP_IN_SESSION_SHA256);
  });

  it('streams no EUR/USD tick from Friday 22:00Z to Sunday 22:00Z in winter, and ticks again by Sunday 22:30Z', async () => {
    const fridayBeforeClose = Date.UTC(2025, 0, 3, 21, 45);
    const { sim, clock } = await start(fridayBeforeClose);
    const ws = new WebSocket(`${sim.wsUrl}?apikey=${KEY}`);
    const events: Json[] = [];
    ws.on('message', (data: Buffer) => events.push(JSON.parse(data.toString('utf8')) as Json));
    const prices = (): Json[] => events.filter((e) => e['event'] === 'price');
    try {
      await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
      ws.send(JSON.stringify({ action: 'subscribe', params: { symbols: 'EUR/USD' } }));
      await until(() => events.some((e) => e['event'] === 'subscribe-status'), 'subscribe-status');
      await clock.advanceTo(Date.UTC(2025, 0, 5, 22, 35));
      await until(() => prices().length >= sim.stats().ticksSent && prices().length > 0, 'every sent price');
      const times = prices().map((p) => (p['timestamp'] as number) * 1000);
      const saturday = [Date.UTC(2025, 0, 4), Date.UTC(2025, 0, 5)];
      assert.equal(times.filter((t) => t >= (saturday[0] as number) && t < (saturday[1] as number)).length, 0, 'no tick on Saturday');
      assert.equal(times.filter((t) => t >= Date.UTC(2025, 0, 3, 22, 0) && t < Date.UTC(2025, 0, 5, 22, 0)).length, 0, 'no tick while the week is shut');
      assert.ok(times.some((t) => t < Date.UTC(2025, 0, 3, 22, 0)), 'ticks on Friday before the close');
      assert.ok(times.some((t) => t >= Date.UTC(2025, 0, 5, 22, 30) && t < Date.UTC(2025, 0, 5, 22, 35)), 'ticks on Sunday at 22:30Z');
    } finally {
      ws.terminate();
      await sim.close();
    }
  });
});

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
