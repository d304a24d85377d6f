/** TwelveDataRest against the real simulator over HTTP, on a ManualClock (credits, waits and backoff run on it). */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.ts';
import { TasaError } from '../../../src/errors.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/feeds/simulator/index.ts';
import { resolveInstruments } from '../../../src/feeds/simulator/instruments.ts';
import { ModelPriceSource } from '../../../src/feeds/simulator/price-model.ts';
import { KeyPool, TwelveDataError, TwelveDataRest, type CreditPlan } from '../../../src/feeds/twelvedata/index.ts';
import { captureLogger, drive, realDelay } from './helpers.ts';

/** Tuesday 2024-03-05 15:00:20Z. */
const NOW = Date.UTC(2024, 2, 5, 15, 0, 20);
const MINUTE = 60_000;
const KEY = 'rest-good-key-0001';
const OTHER_KEY = 'rest-good-key-0002';
const SEED = 11;
const NO_TIMEOUT = 30 * 86_400_000;

interface Rig {
  clock: ManualClock;
  sim: RunningSimulator;
  pool: KeyPool;
  rest: TwelveDataRest;
  lines: string[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rig(opts: { sim?: Partial<SimulatorOptions>; keys?: string[]; plan?: CreditPlan; baseUrl?: string } = {}): Promise<Rig> {
  const clock = new ManualClock(NOW);
  const sim = await startSimulator({ clock, port: 0, seed: SEED, apiKeys: [KEY, OTHER_KEY], ...opts.sim });
  cleanups.push(() => sim.close());
  const { logger, lines } = captureLogger();
  const pool = new KeyPool({ keys: opts.keys ?? [KEY], clock, logger, ...(opts.plan ? { plan: opts.plan } : {}) });
  // The tests move the clock fast while requests are in flight: no clock-driven request timeout.
  const rest = new TwelveDataRest({ baseUrl: opts.baseUrl ?? sim.restUrl, pool, clock, logger, retryBackoff: { jitter: 0 }, timeoutMs: NO_TIMEOUT });
  return { clock, sim, pool, rest, lines };
}

function nextMinute(t: number): number {
  return Math.floor(t / MINUTE) * MINUTE + MINUTE;
}

/** The simulator's own 5-minute bars, as REST prints them (5 decimals). */
function simulatorBars(start: number, end: number): Array<{ time: number; open: number; high: number; low: number; close: number }> {
  const [instrument] = resolveInstruments(['USD/COP']);
  assert.ok(instrument);
  const source = new ModelPriceSource(instrument, SEED);
  const r = (v: number): number => Number(v.toFixed(5));
  const bars = [];
  for (let t = start; t < end; t += 5 * MINUTE) {
    const ohlc = source.slotOhlc(t);
    if (ohlc) bars.push({ time: t, open: r(ohlc.open), high: r(ohlc.high), low: r(ohlc.low), close: r(ohlc.close) });
  }
  return bars;
}

describe('TwelveDataRest', () => {
  it('pages /time_series over a range longer than 5000 bars: every bar once, in order, equal to the simulator', async () => {
    const { rest, sim, lines } = await rig();
    const start = Date.UTC(2024, 0, 29);
    const end = Date.UTC(2024, 2, 2);
    const result = await rest.timeSeries({ symbol: 'USD/COP', interval: '5min', start, end });
    const expected = simulatorBars(start, end);
    assert.ok(expected.length > 5000, `range holds ${expected.length} bars`);
    assert.equal(result.pages.length, 2);
    assert.ok(result.pages.every((p) => p.rows.length <= 5000 && /^[0-9a-f]{64}$/.test(p.sha256)));
    assert.deepEqual(
      result.bars.map(({ time, open, high, low, close }) => ({ time, open, high, low, close })),
      expected,
    );
    assert.ok(result.bars.every((b) => b.volume === null), 'forex bars have no volume');
    assert.deepEqual(result.rejected, []);
    assert.match(result.pages[0]?.origin ?? '', /^twelvedata:\/time_series\?symbol=USD%2FCOP&interval=5min&start_date=2024-01-29T00%3A00%3A00/);
    assert.equal(sim.stats().restRequests, 2);
    assert.ok(!JSON.stringify([result.pages.map((p) => p.origin), lines]).includes(KEY));
  });

  it('short pages: more requests than the minute allows wait for the next minute on the clock', async () => {
    const { rest, clock, sim } = await rig();
    const start = Date.UTC(2024, 2, 4);
    const end = Date.UTC(2024, 2, 5);
    const result = await drive(clock, rest.timeSeries({ symbol: 'USD/COP', start, end, outputsize: 30 }));
    assert.deepEqual(
      result.bars.map((b) => b.time),
      simulatorBars(start, end).map((b) => b.time),
    );
    assert.equal(result.pages.length, 10);
    assert.ok(clock.now() >= nextMinute(NOW), 'the 9th request waited for the next minute');
    assert.equal(sim.stats().credits[Object.keys(sim.stats().credits)[0] ?? '']?.refused, 0, 'the pool never let the server refuse');
  });

  it('a range with no data (a weekend) is an empty result, not an error', async () => {
    const { rest } = await rig();
    // Saturday to Sunday 17:00 New York (22:00Z in March before DST), when the FX week reopens.
    const result = await rest.timeSeries({ symbol: 'USD/COP', start: Date.UTC(2024, 2, 2), end: Date.UTC(2024, 2, 3, 22, 0) });
    assert.deepEqual(result.bars, []);
    assert.deepEqual(result.pages, []);
  });

  for (const errorStatusMode of ['http', 'body-200'] as const) {
    describe(`errors with ${errorStatusMode === 'http' ? 'their HTTP status' : 'HTTP 200'}`, () => {
      it('429 for the minute: waits for the next minute window on the clock, then succeeds', async () => {
        const { rest, clock, sim, pool } = await rig({ sim: { errorStatusMode } });
        sim.faults.burst429(1);
        const price = await drive(clock, rest.price('USD/COP'), 1000);
        assert.ok(price.price > 0);
        assert.ok(clock.now() >= nextMinute(NOW) && clock.now() < nextMinute(NOW) + 2000, `answered at ${new Date(clock.now()).toISOString()}`);
        assert.equal(sim.stats().restRequests, 2);
        assert.equal((await pool.status())[0]?.status, 'ok');
      });

      it('401: the key is marked bad and another key serves', async () => {
        const { rest, pool, sim, lines } = await rig({ sim: { errorStatusMode, apiKeys: [OTHER_KEY] }, keys: [KEY, OTHER_KEY] });
        const quote = await rest.quote('USD/COP');
        assert.equal(quote.symbol, 'USD/COP');
        const status = await pool.status();
        assert.deepEqual(status.map((s) => s.status), ['bad', 'ok']);
        assert.match(status[0]?.badReason ?? '', /401: \*\*apikey\*\* parameter is incorrect/);
        assert.equal(sim.stats().restRequests, 2);
        await rest.price('USD/COP');
        assert.equal(sim.stats().restRequests, 3, 'the bad key is not tried again');
        assert.ok(!JSON.stringify([lines, status]).includes(KEY) && !JSON.stringify(lines).includes(OTHER_KEY));
      });

      it('every key refused: a typed error, no key in it', async () => {
        const { rest } = await rig({ sim: { errorStatusMode, apiKeys: ['someone-else'] }, keys: [KEY, OTHER_KEY] });
        const err = await rest.price('USD/COP').catch((e: unknown) => e);
        assert.ok(err instanceof TasaError);
        assert.equal(err.code, 'bad_argument');
        assert.ok(!`${err.message} ${err.hint ?? ''} ${err.input ?? ''}`.includes(KEY));
      });

      it('day limit: the server says the day is spent, the key rests until the next UTC day', async () => {
        const { rest, clock, pool } = await rig({ sim: { errorStatusMode, plan: { perMinute: 100, perDay: 3 } }, keys: [KEY, OTHER_KEY] });
        for (let i = 0; i < 6; i++) await rest.price('USD/COP');
        assert.deepEqual((await pool.status()).map((s) => s.dayUsed), [3, 3], 'the pool thinks 800 a day are allowed');
        const seventh = rest.price('USD/COP');
        let statuses: string[] = [];
        for (let tries = 0; tries < 200 && statuses.join() !== 'day_exhausted,day_exhausted'; tries++) {
          await realDelay(10);
          statuses = (await pool.status()).map((s) => s.status);
        }
        assert.deepEqual(statuses, ['day_exhausted', 'day_exhausted'], 'both 429s recorded');
        const tomorrow = Date.UTC(2024, 2, 6);
        const price = await drive(clock, seventh, 10 * MINUTE);
        assert.ok(price.price > 0);
        assert.ok(clock.now() >= tomorrow && clock.now() < tomorrow + 10 * MINUTE);
      });

      it('an unknown symbol is a not_found error naming the endpoint; the key stays good', async () => {
        const { rest, pool } = await rig({ sim: { errorStatusMode } });
        const err = await rest.quote('ZZZ/QQQ').catch((e: unknown) => e);
        assert.ok(err instanceof TwelveDataError);
        assert.equal(err.code, 'not_found');
        assert.equal(err.endpoint, '/quote');
        assert.equal(err.status, 404);
        assert.equal((await pool.status())[0]?.status, 'ok');
      });
    });
  }

  it('quote and price: numbers parsed, times in ms, price = last printed tick', async () => {
    const { rest } = await rig();
    const quote = await rest.quote('USD/COP');
    const price = await rest.price('USD/COP');
    for (const field of ['open', 'high', 'low', 'close', 'previousClose', 'change', 'percentChange'] as const) {
      assert.equal(typeof quote[field], 'number', field);
    }
    assert.equal(quote.isMarketOpen, true);
    assert.equal(quote.timestamp, Date.UTC(2024, 2, 5), 'the current 1day bar opens at midnight UTC');
    assert.ok(quote.lastQuoteAt !== null && quote.lastQuoteAt <= NOW && NOW - quote.lastQuoteAt < MINUTE);
    assert.equal(quote.raw['symbol'], 'USD/COP');
    assert.ok((quote.low ?? 0) <= (quote.close ?? 0) && (quote.close ?? 0) <= (quote.high ?? 0));
    assert.equal(price.price, quote.close);
    assert.equal(price.receivedAt, NOW);
  });

  it('network failures: bounded retries with backoff on the clock, then a network error', async () => {
    const dead = await rig();
    const deadUrl = dead.sim.restUrl;
    await dead.sim.close();
    const { clock, lines } = dead;
    const pool = new KeyPool({ keys: [KEY], clock });
    const rest = new TwelveDataRest({ baseUrl: deadUrl, pool, clock, maxRetries: 2, retryBackoff: { initialMs: 1000, jitter: 0 }, timeoutMs: NO_TIMEOUT });
    const err = await drive(clock, rest.price('USD/COP'), 500).catch((e: unknown) => e);
    assert.ok(err instanceof TwelveDataError);
    assert.equal(err.kind, 'network');
    assert.equal(err.endpoint, '/price');
    assert.ok(clock.now() - NOW >= 3000, 'waited 1 s then 2 s');
    assert.equal((await pool.status())[0]?.minuteUsed, 3, 'each attempt took a credit');
    assert.ok(!JSON.stringify(lines).includes(KEY));
  });

  it('a server that never answers: each attempt times out on the clock, is retried, then fails', async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve()) && server.closeAllConnections()));
    const clock = new ManualClock(NOW);
    const pool = new KeyPool({ keys: [KEY], clock });
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const rest = new TwelveDataRest({ baseUrl, pool, clock, timeoutMs: 5000, maxRetries: 1, retryBackoff: { initialMs: 1000, jitter: 0 } });
    const err = await drive(clock, rest.price('USD/COP'), 500).catch((e: unknown) => e);
    assert.ok(err instanceof TwelveDataError);
    assert.equal(err.kind, 'network');
    assert.match(err.message, /no answer within 5000 ms/);
    assert.ok(clock.now() - NOW >= 11_000, 'two 5 s attempts and a 1 s pause');
    assert.equal((await pool.status())[0]?.minuteUsed, 2, 'two attempts, two credits');
  });
});
