import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { MINUTE_MS } from '../../src/domain/time.ts';
import { keyId, startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/feeds/simulator/index.ts';
import type { SeriesValue } from '../support/twelvedata-series.ts';

/** Tuesday 2024-03-05 15:00Z = 10:00 Bogota. */
const NOW = Date.UTC(2024, 2, 5, 15, 0);
const KEY = 'rest-test-key';
const BAD_KEY_MESSAGE =
  '**apikey** parameter is incorrect or not specified. You can get your free API key instantly following this link: https://twelvedata.com/pricing. If you believe that everything is correct, you can contact us at https://twelvedata.com/contact/customer';
const BAD_SYMBOL_MESSAGE =
  '**symbol** or **figi** parameter is missing or invalid. Please provide a valid symbol according to API documentation: https://twelvedata.com/docs#reference-data';
const NO_DATA_MESSAGE = 'No data is available on the specified dates. Try setting different start/end dates.';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

async function start(overrides: Partial<SimulatorOptions> = {}): Promise<{ sim: RunningSimulator; clock: ManualClock }> {
  const clock = new ManualClock(NOW);
  // Huge credits unless a test is about them, so the other tests can make as many calls as they like.
  const sim = await startSimulator({ clock, seed: 42, plan: { perMinute: 1e6, perDay: 1e9 }, ...overrides });
  return { sim, clock };
}

async function get(sim: RunningSimulator, path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${sim.restUrl}${path}`, init);
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // CSV
  }
  return { status: res.status, headers: res.headers, text, body };
}

const withKey = (path: string): string => `${path}${path.includes('?') ? '&' : '?'}apikey=${KEY}`;
const values = (r: Reply): SeriesValue[] => r.body['values'] as SeriesValue[];

describe('simulator REST: auth and errors', () => {
  let sim: RunningSimulator;
  before(async () => ({ sim } = await start({ apiKeys: [KEY, 'other-key'] })));
  after(() => sim.close());

  it('accepts the key as ?apikey= and as "Authorization: apikey KEY"', async () => {
    assert.equal((await get(sim, withKey('/price?symbol=USD/COP'))).status, 200);
    assert.equal((await get(sim, '/price?symbol=USD/COP', { headers: { Authorization: `apikey ${KEY}` } })).status, 200);
  });

  it('answers a bad or missing key with the verbatim 401 body', async () => {
    for (const path of ['/price?symbol=USD/COP&apikey=wrong', '/price?symbol=USD/COP']) {
      const r = await get(sim, path);
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { code: 401, message: BAD_KEY_MESSAGE, status: 'error' });
    }
  });

  it('answers an unknown or missing symbol with the verbatim 404 body', async () => {
    for (const path of ['/time_series?symbol=FOO/BAR&interval=5min', '/time_series?interval=5min']) {
      const r = await get(sim, withKey(path));
      assert.equal(r.status, 404);
      assert.deepEqual(r.body, { code: 404, message: BAD_SYMBOL_MESSAGE, status: 'error' });
    }
  });

  it('validates the interval against the documented list with the verbatim message', async () => {
    const r = await get(sim, withKey('/time_series?symbol=USD/COP&interval=0.99min'));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      code: 400,
      message: 'Invalid **interval** provided: 0.99min. Supported intervals: 1min, 5min, 15min, 30min, 45min, 1h, 2h, 4h, 8h, 1day, 1week, 1month',
      status: 'error',
    });
  });

  it('answers an empty window with the verbatim "No data" 400, also for the future', async () => {
    for (const window of ['start_date=2024-03-02&end_date=2024-03-03', 'start_date=2024-03-06']) {
      const r = await get(sim, withKey(`/time_series?symbol=USD/COP&interval=5min&${window}`));
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { code: 400, message: NO_DATA_MESSAGE, status: 'error' });
    }
  });

  it('refuses bad outputsize, order, timezone (case-sensitive) and dates with 400', async () => {
    for (const bad of ['outputsize=0', 'outputsize=5001', 'order=up', 'timezone=america/bogota', 'timezone=Mars/Base', 'start_date=2024-13-01', 'format=XML']) {
      const r = await get(sim, withKey(`/time_series?symbol=USD/COP&interval=5min&${bad}`));
      assert.equal(r.status, 400, bad);
      assert.equal(r.body['code'], 400);
    }
  });

  it('answers an unknown endpoint with a 404 error body', async () => {
    const r = await get(sim, withKey('/earnings?symbol=USD/COP'));
    assert.equal(r.status, 404);
    assert.equal(r.body['status'], 'error');
  });
});

describe('simulator REST: /time_series', () => {
  let sim: RunningSimulator;
  before(async () => ({ sim } = await start({ symbols: ['USD/COP', 'EUR/USD'] })));
  after(() => sim.close());

  it('returns the forex shape: meta, string OHLC without volume, newest first, 30 by default', async () => {
    const r = await get(sim, withKey('/time_series?symbol=USD/COP&interval=5min'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body['meta'], {
      symbol: 'USD/COP',
      interval: '5min',
      currency_base: 'US Dollar',
      currency_quote: 'Colombian Peso',
      exchange_timezone: 'UTC',
      type: 'Physical Currency',
    });
    assert.equal(r.body['status'], 'ok');
    const v = values(r);
    assert.equal(v.length, 30);
    assert.deepEqual(Object.keys(v[0] ?? {}), ['datetime', 'open', 'high', 'low', 'close']);
    assert.equal(v[0]?.datetime, '2024-03-05 14:55:00', 'the last finished bar (nothing printed yet at exactly 15:00)');
    assert.equal(v[1]?.datetime, '2024-03-05 14:50:00');
    assert.match(v[0]?.close ?? '', /^\d{4}\.\d{5}$/);
  });

  it('honours outputsize, order=ASC and dp', async () => {
    const r = await get(sim, withKey('/time_series?symbol=USD/COP&interval=15min&outputsize=4&order=ASC&dp=2'));
    assert.deepEqual(values(r).map((b) => b.datetime), ['2024-03-05 14:00:00', '2024-03-05 14:15:00', '2024-03-05 14:30:00', '2024-03-05 14:45:00']);
    assert.match(values(r)[0]?.open ?? '', /^\d+\.\d{2}$/);
  });

  it('selects [start_date, end_date) in all three date forms, with the maximum outputsize', async () => {
    const day = await get(sim, withKey('/time_series?symbol=USD/COP&interval=1h&start_date=2024-03-04&end_date=2024-03-05&order=asc'));
    assert.equal(values(day).length, 24);
    assert.equal(values(day)[0]?.datetime, '2024-03-04 00:00:00');
    assert.equal(values(day)[23]?.datetime, '2024-03-04 23:00:00');
    for (const [from, to] of [['2024-03-04T13:00:00', '2024-03-04T13:30:00'], ['2024-03-04 13:00:00', '2024-03-04 13:30:00']]) {
      const r = await get(sim, withKey(`/time_series?symbol=USD/COP&interval=5min&start_date=${from}&end_date=${to}`));
      assert.deepEqual(values(r).map((b) => b.datetime.slice(11)), ['13:25:00', '13:20:00', '13:15:00', '13:10:00', '13:05:00', '13:00:00']);
    }
  });

  it('shows America/Bogota times 5 hours behind UTC for the same bars, and reads dates in that zone', async () => {
    const utc = values(await get(sim, withKey('/time_series?symbol=USD/COP&interval=5min&outputsize=5')));
    const bogota = values(await get(sim, withKey('/time_series?symbol=USD/COP&interval=5min&outputsize=5&timezone=America/Bogota')));
    assert.deepEqual(bogota.map((b) => b.close), utc.map((b) => b.close));
    assert.deepEqual(bogota.map((b) => b.datetime), ['09:55', '09:50', '09:45', '09:40', '09:35'].map((t) => `2024-03-05 ${t}:00`));
    const windowed = await get(sim, withKey('/time_series?symbol=USD/COP&interval=5min&timezone=America/Bogota&start_date=2024-03-05 08:00:00&end_date=2024-03-05 08:10:00'));
    assert.deepEqual(values(windowed).map((b) => b.datetime), ['2024-03-05 08:05:00', '2024-03-05 08:00:00']);
  });

  it('writes CSV with ";" by default and another delimiter on request', async () => {
    const r = await get(sim, withKey('/time_series?symbol=USD/COP&interval=5min&outputsize=2&format=CSV'));
    assert.match(r.headers.get('content-type') ?? '', /text\/csv/);
    const lines = r.text.split('\n');
    assert.equal(lines[0], 'datetime;open;high;low;close');
    assert.match(lines[1] ?? '', /^2024-03-05 14:55:00;\d+\.\d{5};\d+\.\d{5};\d+\.\d{5};\d+\.\d{5}$/);
    assert.equal(lines.length, 3);
    const comma = await get(sim, withKey('/time_series?symbol=USD/COP&interval=5min&outputsize=1&format=csv&delimiter=,'));
    assert.equal(comma.text.split('\n')[0], 'datetime,open,high,low,close');
  });

  it('agrees across intervals: 1h = its twelve 5min bars, 1day dated by the UTC day', async () => {
    const hour = values(await get(sim, withKey('/time_series?symbol=USD/COP&interval=1h&start_date=2024-03-05 13:00:00&end_date=2024-03-05 14:00:00')))[0];
    const fives = values(await get(sim, withKey('/time_series?symbol=USD/COP&interval=5min&start_date=2024-03-05 13:00:00&end_date=2024-03-05 14:00:00&order=asc')));
    assert.equal(fives.length, 12);
    assert.equal(hour?.open, fives[0]?.open);
    assert.equal(hour?.close, fives[11]?.close);
    assert.equal(Number(hour?.high), Math.max(...fives.map((b) => Number(b.high))));
    assert.equal(Number(hour?.low), Math.min(...fives.map((b) => Number(b.low))));
    const daily = values(await get(sim, withKey('/time_series?symbol=USD/COP&interval=1day&outputsize=4&timezone=America/Bogota')));
    // Sunday prints from 17:00 New York (the FX week), Saturday not at all.
    assert.deepEqual(daily.map((b) => b.datetime), ['2024-03-05', '2024-03-04', '2024-03-03', '2024-03-01'], 'Saturday has no daily bar');
  });

  it('is deterministic: the same seed gives the same bars, another seed other bars', async () => {
    const path = withKey('/time_series?symbol=USD/COP&interval=5min&outputsize=50');
    const { sim: same } = await start({ symbols: ['USD/COP', 'EUR/USD'] });
    const { sim: other } = await start({ seed: 43 });
    try {
      const mine = await get(sim, path);
      assert.deepEqual((await get(same, path)).body, mine.body);
      assert.notDeepEqual(values(await get(other, path)), values(mine));
    } finally {
      await same.close();
      await other.close();
    }
  });

  it('answers a batch request keyed by symbol, an unknown symbol as an error entry', async () => {
    const r = await get(sim, withKey('/time_series?symbol=USD/COP,EUR/USD,FOO/BAR&interval=1h&outputsize=2'));
    assert.equal(r.status, 200);
    const usdCop = r.body['USD/COP'] as Record<string, unknown>;
    const eurUsd = r.body['EUR/USD'] as Record<string, Record<string, unknown>>;
    assert.equal((usdCop['values'] as unknown[]).length, 2);
    assert.equal(eurUsd['meta']?.['currency_base'], 'Euro');
    assert.deepEqual(r.body['FOO/BAR'], { code: 404, message: BAD_SYMBOL_MESSAGE, status: 'error' });
  });
});

describe('simulator REST: /quote, /price, /exchange_rate', () => {
  let sim: RunningSimulator;
  let clock: ManualClock;
  before(async () => ({ sim, clock } = await start()));
  after(() => sim.close());

  it('/price is {"price": string} at the last printed tick, equal to the forming bar close', async () => {
    await clock.advance(2 * MINUTE_MS + 17_000);
    const price = await get(sim, withKey('/price?symbol=USD/COP'));
    assert.deepEqual(Object.keys(price.body), ['price']);
    assert.match(price.body['price'] as string, /^\d{4}\.\d{5}$/);
    const forming = values(await get(sim, withKey('/time_series?symbol=USD/COP&interval=5min&outputsize=1')))[0];
    assert.equal(forming?.datetime, '2024-03-05 15:00:00');
    assert.equal(forming?.close, price.body['price']);
  });

  it('/exchange_rate is {symbol, rate: number, timestamp: integer seconds}', async () => {
    const r = await get(sim, withKey('/exchange_rate?symbol=USD/COP'));
    assert.deepEqual(Object.keys(r.body), ['symbol', 'rate', 'timestamp']);
    assert.equal(r.body['symbol'], 'USD/COP');
    assert.equal(typeof r.body['rate'], 'number');
    assert.ok(Number.isInteger(r.body['timestamp']) && (r.body['timestamp'] as number) <= clock.now() / 1000);
  });

  it('/quote has the documented keys, strings for prices, numbers for times, a boolean market flag', async () => {
    const q = (await get(sim, withKey('/quote?symbol=USD/COP'))).body;
    for (const key of ['open', 'high', 'low', 'close', 'previous_close', 'change', 'percent_change']) assert.equal(typeof q[key], 'string', key);
    assert.equal(q['symbol'], 'USD/COP');
    assert.equal(q['datetime'], '2024-03-05');
    assert.equal(q['timestamp'], Date.UTC(2024, 2, 5) / 1000);
    assert.ok(Number.isInteger(q['last_quote_at']));
    assert.equal(q['is_market_open'], true);
    const year = q['fifty_two_week'] as Record<string, string>;
    assert.deepEqual(Object.keys(year), ['low', 'high', 'low_change', 'high_change', 'low_change_percent', 'high_change_percent', 'range']);
    assert.equal(year['range'], `${year['low']} - ${year['high']}`);
    const daily = values(await get(sim, withKey('/time_series?symbol=USD/COP&interval=1day&outputsize=2')));
    assert.equal(q['close'], daily[0]?.close);
    assert.equal(q['previous_close'], daily[1]?.close);
  });
});

describe('simulator REST: credits', () => {
  it('charges 1 credit per symbol per minute, 429s with the real wording, recovers next minute', async () => {
    const { sim, clock } = await start({ plan: { perMinute: 8, perDay: 800 }, symbols: ['USD/COP', 'EUR/USD'] });
    try {
      const first = await get(sim, withKey('/price?symbol=USD/COP,EUR/USD'));
      assert.equal(first.headers.get('api-credits-used'), '2');
      assert.equal(first.headers.get('api-credits-left'), '6');
      for (let i = 0; i < 6; i++) assert.equal((await get(sim, withKey('/price?symbol=USD/COP'))).status, 200);
      const refused = await get(sim, withKey('/price?symbol=USD/COP'));
      assert.equal(refused.status, 429);
      assert.deepEqual(refused.body, {
        code: 429,
        message:
          'You have run out of API credits for the current minute. 9 API credits were used, with the current limit being 8. Wait for the next minute or consider switching to a higher tier plan at https://twelvedata.com/pricing',
        status: 'error',
      });
      assert.equal(refused.headers.get('api-credits-left'), '0');
      const otherKey = await get(sim, '/price?symbol=USD/COP&apikey=someone-else');
      assert.equal(otherKey.status, 200, 'credits are per key');
      await clock.advance(MINUTE_MS);
      const next = await get(sim, withKey('/price?symbol=USD/COP'));
      assert.equal(next.status, 200);
      assert.equal(next.headers.get('api-credits-used'), '1');
    } finally {
      await sim.close();
    }
  });

  it('429s for the day with the real wording once the daily credits are spent, until the next UTC day', async () => {
    const { sim, clock } = await start({ plan: { perMinute: 100, perDay: 5 } });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await get(sim, withKey('/price?symbol=USD/COP'))).status, 200);
      await clock.advance(MINUTE_MS);
      const refused = await get(sim, withKey('/price?symbol=USD/COP'));
      assert.equal(refused.status, 429);
      assert.equal(
        refused.body['message'],
        'You have run out of API credits for the day. 5 API credits were used, with the current limit being 5. Wait for the next day or consider switching to a higher tier plan at https://twelvedata.com/pricing',
      );
      await clock.advanceTo(Date.UTC(2024, 2, 6));
      assert.equal((await get(sim, withKey('/price?symbol=USD/COP'))).status, 200);
    } finally {
      await sim.close();
    }
  });

  it('reports credits per hashed key in stats, never the key', async () => {
    const { sim } = await start();
    try {
      await get(sim, withKey('/price?symbol=USD/COP'));
      const stats = sim.stats();
      assert.equal(stats.credits[keyId(KEY)]?.total, 1);
      assert.equal(keyId(KEY).length, 10);
      assert.ok(!JSON.stringify(stats).includes(KEY));
    } finally {
      await sim.close();
    }
  });
});

describe('simulator REST: error status modes and the 429 burst fault', () => {
  it('errorStatusMode body-200 sends error bodies with HTTP 200', async () => {
    const { sim } = await start({ errorStatusMode: 'body-200', apiKeys: [KEY] });
    try {
      const r = await get(sim, '/price?symbol=USD/COP&apikey=wrong');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { code: 401, message: BAD_KEY_MESSAGE, status: 'error' });
      const bad = await get(sim, withKey('/time_series?symbol=USD/COP&interval=7min'));
      assert.equal(bad.status, 200);
      assert.equal(bad.body['code'], 400);
    } finally {
      await sim.close();
    }
  });

  it('answers a burst of N requests with 429 without charging credits, then serves again', async () => {
    const { sim } = await start({ plan: { perMinute: 8, perDay: 800 }, faults: { rest429Burst: 1 } });
    try {
      sim.faults.burst429(1);
      for (let i = 0; i < 2; i++) {
        const r = await get(sim, withKey('/price?symbol=USD/COP'));
        assert.equal(r.status, 429);
        assert.match(r.body['message'] as string, /^You have run out of API credits for the current minute\. 8 API credits were used/);
      }
      const served = await get(sim, withKey('/price?symbol=USD/COP'));
      assert.equal(served.status, 200);
      assert.equal(served.headers.get('api-credits-used'), '1');
      assert.equal(sim.stats().faults.rest429, 2);
    } finally {
      await sim.close();
    }
  });
});
