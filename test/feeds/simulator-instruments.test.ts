/**
 * The simulator serves every shipped instrument (issue 15): one WebSocket subscribe for all of
 * them, REST batch time series keyed by symbol with bars in each instrument's price band, per-symbol
 * determinism, and intraday volatility and tick rates that follow each pair's own market hours.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS, type Ohlc } from '../../src/domain/bar.ts';
import { instrumentOf, instruments, shippedInstrument, useInstruments, type Instrument } from '../../src/domain/symbol.ts';
import { DAY_MS } from '../../src/domain/time.ts';
import { CATALOG_SYMBOLS, startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { resolveInstruments, type SimInstrument } from '../../src/feeds/simulator/instruments.ts';
import { ModelPriceSource, isWeekendDay } from '../../src/feeds/simulator/price-model.ts';
import { TickPath } from '../../src/feeds/simulator/tick-path.ts';
import { VolatilityProfile } from '../../src/feeds/simulator/volatility-profile.ts';
import type { SeriesValue } from '../support/twelvedata-series.ts';

const SYMBOLS = ['USD/COP', 'USD/BRL', 'USD/MXN', 'USD/CLP', 'EUR/USD'];
const KEY = 'instruments-test-key';
const SEED = 17;
/** Tuesday 2024-07-09 15:00Z: 11:00 in Santiago (UTC-4 in winter), 10:00 in Bogota. */
const NOW = Date.UTC(2024, 6, 9, 15, 0);

type Json = Record<string, unknown>;

async function start(seed = SEED, now = NOW): Promise<{ sim: RunningSimulator; clock: ManualClock }> {
  const clock = new ManualClock(now);
  const sim = await startSimulator({ clock, seed, symbols: SYMBOLS, ticksPerSecond: 0.1, plan: { perMinute: 1e6, perDay: 1e9 } });
  return { sim, clock };
}

async function getJson(sim: RunningSimulator, path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sim.restUrl}${path}${path.includes('?') ? '&' : '?'}apikey=${KEY}`);
  return { status: res.status, body: (await res.json()) as Json };
}

function batchPath(outputsize: number): string {
  return `/time_series?symbol=${SYMBOLS.join(',')}&interval=5min&outputsize=${outputsize}&timezone=UTC`;
}

function seriesOf(body: Json, symbol: string): { meta: Json; values: SeriesValue[] } {
  const entry = body[symbol] as { meta?: Json; values?: SeriesValue[] } | undefined;
  assert.ok(entry?.meta && entry.values, `${symbol} is answered: ${JSON.stringify(entry)}`);
  return { meta: entry.meta, values: entry.values };
}

const utcTime = (datetime: string): number => Date.parse(`${datetime.replace(' ', 'T')}Z`);
const ohlcOf = (v: SeriesValue): Ohlc => ({ open: Number(v.open), high: Number(v.high), low: Number(v.low), close: Number(v.close) });

function simInstrument(symbol: string): SimInstrument {
  return resolveInstruments([symbol])[0] as SimInstrument;
}

describe('simulator: every shipped instrument over the wire', () => {
  let sim: RunningSimulator;
  let clock: ManualClock;
  before(async () => ({ sim, clock } = await start()));
  after(() => sim.close());

  it('has every shipped instrument in its catalog', () => {
    assert.deepEqual([...SYMBOLS].sort(), instruments().map((i) => i.symbol).sort());
    assert.deepEqual([...CATALOG_SYMBOLS].sort(), [...SYMBOLS].sort());
  });

  it('answers one subscribe for all five with all five in success, then price events of each', async () => {
    const ws = new WebSocket(`${sim.wsUrl}?apikey=${KEY}`);
    const events: Json[] = [];
    ws.on('message', (data: Buffer) => events.push(JSON.parse(data.toString('utf8')) as Json));
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    try {
      ws.send(JSON.stringify({ action: 'subscribe', params: { symbols: SYMBOLS.join(',') } }));
      await until(() => events.some((e) => e['event'] === 'subscribe-status'), 'subscribe-status');
      const status = events.find((e) => e['event'] === 'subscribe-status') as Json;
      assert.equal(status['status'], 'ok');
      assert.equal(status['fails'], null);
      assert.deepEqual(status['success'], SYMBOLS.map((symbol) => ({ symbol, exchange: 'FOREX', country: '', type: 'Physical Currency' })));
      await clock.advance(2 * BAR_MS);
      await until(() => events.filter((e) => e['event'] === 'price').length >= sim.stats().ticksSent, 'every sent price');
      const prices = events.filter((e) => e['event'] === 'price');
      for (const symbol of SYMBOLS) {
        const mine = prices.filter((p) => p['symbol'] === symbol);
        assert.ok(mine.length >= 4, `${symbol}: ${mine.length} price events`);
        const band = instrumentOf(symbol).priceBand;
        assert.ok(mine.every((p) => (p['price'] as number) >= band.min && (p['price'] as number) <= band.max), `${symbol} prices in its band`);
      }
    } finally {
      ws.terminate();
    }
  });

  it('answers a batch time_series for all five, keyed by symbol, with the model bars inside each price band', async () => {
    const { status, body } = await getJson(sim, batchPath(120));
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), [...SYMBOLS].sort());
    for (const symbol of SYMBOLS) {
      const { meta, values } = seriesOf(body, symbol);
      assert.equal(meta['symbol'], symbol);
      const model = new ModelPriceSource(simInstrument(symbol), SEED);
      const band = instrumentOf(symbol).priceBand;
      const finished = values.filter((v) => utcTime(v.datetime) + BAR_MS <= clock.now());
      assert.ok(finished.length >= 100, `${symbol}: ${finished.length} finished bars`);
      for (const v of finished) {
        const bar = ohlcOf(v);
        assert.deepEqual(bar, model.slotOhlc(utcTime(v.datetime)), `${symbol} ${v.datetime}`);
        assert.ok(bar.low >= band.min && bar.high <= band.max, `${symbol} ${v.datetime} ${JSON.stringify(bar)} outside ${band.min}-${band.max}`);
      }
    }
  });

  it('gives each symbol the same bars for the same seed, other bars for another seed', async () => {
    const { sim: same } = await start(SEED, clock.now());
    const { sim: other } = await start(SEED + 1, clock.now());
    try {
      const mine = (await getJson(sim, batchPath(60))).body;
      const again = (await getJson(same, batchPath(60))).body;
      const another = (await getJson(other, batchPath(60))).body;
      for (const symbol of SYMBOLS) {
        assert.deepEqual(seriesOf(again, symbol).values, seriesOf(mine, symbol).values, symbol);
        assert.notDeepEqual(seriesOf(another, symbol).values, seriesOf(mine, symbol).values, symbol);
      }
    } finally {
      await same.close();
      await other.close();
    }
  });
});

describe('simulator: each pair follows its own market hours', () => {
  it('takes the hours of the configured instrument, and its own catalog hours for a pair not configured', () => {
    const shipped = instruments();
    const clp = shippedInstrument('USD/CLP');
    const moved: Instrument = { ...clp, market: { ...clp.market, session: { open: '10:00', close: '15:00' } } };
    try {
      useInstruments(shipped.map((i) => (i.symbol === 'USD/CLP' ? moved : i)));
      assert.deepEqual(simInstrument('USD/CLP').session, { zone: 'America/Santiago', open: '10:00', close: '15:00', opensDayBefore: false });
      useInstruments(shipped.filter((i) => i.symbol !== 'USD/CLP'));
      assert.deepEqual(simInstrument('USD/CLP').session, { zone: 'America/Santiago', open: '08:30', close: '13:30', opensDayBefore: false });
    } finally {
      useInstruments(shipped);
    }
  });

  it('moves the USD/CLP open with Santiago DST: 08:30 is 11:30Z in January and 12:30Z in July', () => {
    const clp = simInstrument('USD/CLP');
    const profile = new VolatilityProfile(clp.session, clp.offSessionMultiplier);
    const summerOpen = profile.multiplierAt(Date.UTC(2024, 0, 9, 11, 30));
    const winterOpen = profile.multiplierAt(Date.UTC(2024, 6, 9, 12, 30));
    assert.equal(summerOpen, winterOpen);
    assert.ok(profile.multiplierAt(Date.UTC(2024, 6, 9, 11, 30)) < winterOpen / 4, 'an hour before the winter open is quiet');
    // 2024-04-07 03:00Z Santiago goes from UTC-3 to UTC-4: the same UTC day's 08:30 is 12:30Z.
    assert.equal(profile.multiplierAt(Date.UTC(2024, 3, 7, 12, 30)), winterOpen);
    assert.ok(profile.multiplierAt(Date.UTC(2024, 3, 7, 11, 30)) < winterOpen / 4);
  });

  it('makes USD/CLP move most in the Santiago session, its open busiest, in summer and in winter', () => {
    const clp = instrumentOf('USD/CLP');
    const model = new ModelPriceSource(simInstrument('USD/CLP'), SEED);
    const open = minuteOf(clp.market.session.open);
    const close = minuteOf(clp.market.session.close);
    for (const firstDay of [Date.UTC(2024, 0, 8), Date.UTC(2024, 5, 10)]) {
      const moves = slotMoves(model, firstDay, 4 * 7, clp.market.zone);
      const inside = mean(moves.filter((m) => m.localMinute >= open && m.localMinute < close));
      const outside = mean(moves.filter((m) => m.localMinute < open || m.localMinute >= close));
      assert.ok(inside > 2.5 * outside, `${new Date(firstDay).toISOString()}: in session ${inside}, outside ${outside}`);
      const firstHalfHour = mean(moves.filter((m) => m.localMinute >= open && m.localMinute < open + 30));
      const hourBefore = mean(moves.filter((m) => m.localMinute >= open - 60 && m.localMinute < open));
      assert.ok(firstHalfHour > 4 * hourBefore, `${new Date(firstDay).toISOString()}: open ${firstHalfHour}, hour before ${hourBefore}`);
    }
  });

  it('makes EUR/USD busiest at the London/New York overlap and quieter in the Asian hours', () => {
    const model = new ModelPriceSource(simInstrument('EUR/USD'), SEED);
    const moves = slotMoves(model, Date.UTC(2024, 2, 18), 4 * 7, 'America/New_York');
    const overlap = mean(moves.filter((m) => m.localMinute >= 8 * 60 && m.localMinute < 12 * 60));
    const asia = mean(moves.filter((m) => m.localMinute >= 19 * 60 || m.localMinute < 3 * 60));
    const london = mean(moves.filter((m) => m.localMinute >= 3 * 60 && m.localMinute < 8 * 60));
    assert.ok(overlap > london && london > asia, `overlap ${overlap}, London ${london}, Asia ${asia}`);
    assert.ok(overlap > 2 * asia, `overlap ${overlap}, Asia ${asia}`);
  });

  it('ticks at the full rate in the Santiago session and a third of it outside, for USD/CLP', () => {
    const clp = simInstrument('USD/CLP');
    const path = new TickPath(new ModelPriceSource(clp, SEED), clp, SEED, 3);
    // Winter (UTC-4): 08:30 Santiago is 12:30Z; 10:30Z is 06:30, before the open.
    const inSession = path.ticksInSlot(Date.UTC(2024, 6, 9, 12, 30)).length;
    const before = path.ticksInSlot(Date.UTC(2024, 6, 9, 10, 30)).length;
    assert.ok(inSession >= 3 * 300 * 0.8 && inSession <= 3 * 300 * 1.2, `${inSession} ticks in session`);
    assert.ok(before >= 300 * 0.8 && before <= 300 * 1.2, `${before} ticks before the open`);
  });
});

interface SlotMove {
  localMinute: number;
  absLogReturn: number;
}

/** |log(close/open)| of every printed weekday slot of `days` days from `firstDay`, with the slot's minute of day in `zone`. */
function slotMoves(model: ModelPriceSource, firstDay: number, days: number, zone: string): SlotMove[] {
  const wallClock = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const moves: SlotMove[] = [];
  for (let day = firstDay; day < firstDay + days * DAY_MS; day += DAY_MS) {
    if (isWeekendDay(day / DAY_MS)) continue;
    for (let slot = day; slot < day + DAY_MS; slot += BAR_MS) {
      const bar = model.slotOhlc(slot);
      if (bar === null) continue; // Friday after 17:00 New York
      moves.push({ localMinute: minuteOf(wallClock.format(slot)), absLogReturn: Math.abs(Math.log(bar.close / bar.open)) });
    }
  }
  return moves;
}

function mean(moves: SlotMove[]): number {
  assert.ok(moves.length > 0);
  return moves.reduce((sum, m) => sum + m.absLogReturn, 0) / moves.length;
}

function minuteOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
