import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS } from '../../src/domain/bar.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/feeds/simulator/index.ts';

/** Tuesday 2024-03-05 12:59:30Z, half a minute before the 08:00 Bogota open. */
const START = Date.UTC(2024, 2, 5, 12, 59, 30);
const SESSION_OPEN = Date.UTC(2024, 2, 5, 13, 0);
const KEY = 'ws-test-key';
const BAD_KEY_BODY = {
  code: 401,
  message:
    '**apikey** parameter is incorrect or not specified. You can get your free API key instantly following this link: https://twelvedata.com/pricing. If you believe that everything is correct, you can contact us at https://twelvedata.com/contact/customer',
  status: 'error',
};

type Event = Record<string, unknown>;

/** A `ws` client that records every frame and can wait for a condition. */
class TestClient {
  readonly frames: string[] = [];
  closeCode: number | null = null;
  private wake: () => void = () => {};

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(data.toString('utf8'));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  events(): Event[] {
    return this.frames.flatMap((f) => {
      try {
        return [JSON.parse(f) as Event];
      } catch {
        return [];
      }
    });
  }

  prices(): Event[] {
    return this.events().filter((e) => e['event'] === 'price');
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first event with this `event` name after the first `skip` frames. */
  async next(event: string, skip = 0): Promise<Event> {
    let found: Event | undefined;
    await this.waitFor(() => (found = this.framesAfter(skip).find((e) => e['event'] === event)) !== undefined, event);
    return found as Event;
  }

  async waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 20);
      });
    }
  }

  close(): void {
    this.ws.terminate();
  }

  private framesAfter(skip: number): Event[] {
    return this.frames.slice(skip).flatMap((f) => {
      try {
        return [JSON.parse(f) as Event];
      } catch {
        return [];
      }
    });
  }
}

const clients: TestClient[] = [];
after(() => clients.forEach((c) => c.close()));

function connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
  const ws = new WebSocket(url, { headers });
  const client = new TestClient(ws);
  clients.push(client);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

/** Connects expecting the upgrade to fail; returns the HTTP status and body of the refusal. */
function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', () => {});
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
  });
}

async function start(overrides: Partial<SimulatorOptions> = {}): Promise<{ sim: RunningSimulator; clock: ManualClock }> {
  const clock = new ManualClock(START);
  const sim = await startSimulator({ clock, seed: 9, ticksPerSecond: 0.1, plan: { perMinute: 1e6, perDay: 1e9 }, ...overrides });
  return { sim, clock };
}

async function subscribed(sim: RunningSimulator, symbols = 'USD/COP'): Promise<TestClient> {
  const client = await connect(`${sim.wsUrl}?apikey=${KEY}`);
  client.send({ action: 'subscribe', params: { symbols } });
  await client.next('subscribe-status');
  return client;
}

/** Advances the clock and waits until the client has every price event the simulator sent. */
async function advanceAndDrain(clock: ManualClock, sim: RunningSimulator, client: TestClient, ms: number): Promise<void> {
  await clock.advance(ms);
  await client.waitFor(() => client.prices().length >= sim.stats().ticksSent, 'all sent ticks');
}

const USD_COP_SUCCESS = { symbol: 'USD/COP', exchange: 'FOREX', country: '', type: 'Physical Currency' };

describe('simulator WebSocket: connection and messages', () => {
  let sim: RunningSimulator;
  let clock: ManualClock;
  before(async () => ({ sim, clock } = await start({ apiKeys: [KEY], symbols: ['USD/COP', 'EUR/USD'] })));
  after(() => sim.close());

  it('accepts the key as ?apikey= and as the X-TD-APIKEY header', async () => {
    const byQuery = await connect(`${sim.wsUrl}?apikey=${KEY}`);
    const byHeader = await connect(sim.wsUrl, { 'X-TD-APIKEY': KEY });
    assert.equal(byQuery.ws.readyState, WebSocket.OPEN);
    assert.equal(byHeader.ws.readyState, WebSocket.OPEN);
    byQuery.close();
    byHeader.close();
  });

  it('refuses the upgrade with the 401 body for a bad or missing key', async () => {
    assert.deepEqual(await refusedUpgrade(`${sim.wsUrl}?apikey=wrong`), { status: 401, body: BAD_KEY_BODY });
    assert.deepEqual(await refusedUpgrade(sim.wsUrl), { status: 401, body: BAD_KEY_BODY });
  });

  it('answers subscribe with subscribe-status, null for an empty array', async () => {
    const client = await connect(`${sim.wsUrl}?apikey=${KEY}`);
    client.send({ action: 'subscribe', params: { symbols: 'USD/COP' } });
    assert.deepEqual(await client.next('subscribe-status'), { event: 'subscribe-status', status: 'ok', success: [USD_COP_SUCCESS], fails: null });
    client.close();
  });

  it('lists an unknown symbol in fails (symbol only) and says error when every symbol fails', async () => {
    const client = await connect(`${sim.wsUrl}?apikey=${KEY}`);
    client.send({ action: 'subscribe', params: { symbols: [{ symbol: 'USD/COP', type: 'Forex' }, { symbol: 'BTC' }] } });
    assert.deepEqual(await client.next('subscribe-status'), { event: 'subscribe-status', status: 'ok', success: [USD_COP_SUCCESS], fails: [{ symbol: 'BTC' }] });
    const before = client.frames.length;
    client.send({ action: 'subscribe', params: { symbols: 'BTC' } });
    assert.deepEqual(await client.next('subscribe-status', before), { event: 'subscribe-status', status: 'error', success: null, fails: [{ symbol: 'BTC' }] });
    client.close();
  });

  it('replies to a heartbeat with {"event":"heartbeat","status":"ok"}', async () => {
    const client = await connect(`${sim.wsUrl}?apikey=${KEY}`);
    client.send({ action: 'heartbeat' });
    await client.next('heartbeat');
    assert.equal(client.frames[0], '{"event":"heartbeat","status":"ok"}');
    client.close();
  });

  it('answers malformed JSON and a subscribe without symbols with error events', async () => {
    const client = await connect(`${sim.wsUrl}?apikey=${KEY}`);
    client.send('{"action": "subscribe", ');
    const parseError = await client.next('message-processing');
    assert.equal(parseError['status'], 'error');
    assert.ok(Array.isArray(parseError['messages']));
    client.send({ action: 'subscribe', params: {} });
    const subscribeError = await client.next('subscribe-status');
    assert.equal(subscribeError['status'], 'error');
    assert.ok(Array.isArray(subscribeError['messages']));
    client.close();
  });

  it('sends price events with the forex shape and integer-second exchange timestamps', async () => {
    const client = await subscribed(sim, 'USD/COP,EUR/USD');
    await advanceAndDrain(clock, sim, client, BAR_MS);
    const prices = client.prices();
    assert.ok(prices.length > 5, `${prices.length} price events`);
    const usdCop = prices.find((p) => p['symbol'] === 'USD/COP') ?? {};
    assert.deepEqual(Object.keys(usdCop), ['event', 'symbol', 'currency_base', 'currency_quote', 'type', 'timestamp', 'price', 'bid', 'ask']);
    assert.equal(usdCop['currency_base'], 'US Dollar');
    assert.equal(usdCop['currency_quote'], 'Colombian Peso');
    assert.equal(usdCop['type'], 'Physical Currency');
    for (const p of prices) {
      const ts = p['timestamp'] as number;
      assert.ok(Number.isInteger(ts) && ts * 1000 > START - 1000 && ts * 1000 <= clock.now(), `timestamp ${ts}`);
      assert.ok((p['bid'] as number) <= (p['price'] as number) && (p['price'] as number) <= (p['ask'] as number));
    }
    assert.ok(prices.some((p) => p['symbol'] === 'EUR/USD'));
    client.send({ action: 'unsubscribe', params: { symbols: 'EUR/USD' } });
    assert.equal((await client.next('unsubscribe-status'))['status'], 'ok');
    const count = client.prices().length;
    await advanceAndDrain(clock, sim, client, 60_000);
    assert.ok(client.prices().slice(count).every((p) => p['symbol'] === 'USD/COP'));
    client.send({ action: 'reset' });
    await client.next('reset-status');
    assert.deepEqual(sim.stats().subscriptions, {});
    client.close();
  });
});

describe('simulator WebSocket: options', () => {
  it('sends [] instead of null when nullArrays is off', async () => {
    const { sim } = await start({ nullArrays: false });
    try {
      const client = await connect(`${sim.wsUrl}?apikey=${KEY}`);
      client.send({ action: 'subscribe', params: { symbols: 'USD/COP' } });
      assert.deepEqual(await client.next('subscribe-status'), { event: 'subscribe-status', status: 'ok', success: [USD_COP_SUCCESS], fails: [] });
    } finally {
      await sim.close();
    }
  });

  it('refuses the upgrade with HTTP 200 and the error body in errors-as-200 mode', async () => {
    const { sim } = await start({ apiKeys: [KEY], errorStatusMode: 'body-200' });
    try {
      assert.deepEqual(await refusedUpgrade(`${sim.wsUrl}?apikey=wrong`), { status: 200, body: BAD_KEY_BODY });
    } finally {
      await sim.close();
    }
  });

  it('closes a socket without heartbeats after heartbeatTimeoutMs, keeps one that sends them', async () => {
    const { sim, clock } = await start({ heartbeatTimeoutMs: 20_000 });
    try {
      const silent = await connect(`${sim.wsUrl}?apikey=${KEY}`);
      const alive = await connect(`${sim.wsUrl}?apikey=${KEY}`);
      await clock.advance(15_000);
      alive.send({ action: 'heartbeat' });
      await alive.next('heartbeat');
      await clock.advance(10_000);
      await silent.waitFor(() => silent.closeCode !== null, 'the silent socket to close');
      assert.equal(silent.closeCode, 1000);
      assert.equal(alive.closeCode, null);
      assert.equal(sim.stats().faults.heartbeatTimeouts, 1);
    } finally {
      await sim.close();
    }
  });

  it('caps connections per key by closing the oldest, and symbols per connection', async () => {
    const { sim } = await start({ maxConnectionsPerKey: 2, maxSymbolsPerConnection: 1, symbols: ['USD/COP', 'EUR/USD'] });
    try {
      const first = await connect(`${sim.wsUrl}?apikey=${KEY}`);
      const second = await connect(`${sim.wsUrl}?apikey=${KEY}`);
      const third = await connect(`${sim.wsUrl}?apikey=${KEY}`);
      await first.waitFor(() => first.closeCode !== null, 'the oldest to be evicted');
      assert.equal(first.closeCode, 1008);
      assert.equal(second.closeCode, null);
      third.send({ action: 'subscribe', params: { symbols: 'USD/COP,EUR/USD' } });
      const status = await third.next('subscribe-status');
      assert.deepEqual(status['fails'], [{ symbol: 'EUR/USD' }]);
    } finally {
      await sim.close();
    }
  });
});

describe('simulator WebSocket: the live stream joins REST history without a seam', () => {
  it('streams ticks that aggregate exactly to the REST 5min bars of the same slots', async () => {
    const { sim, clock } = await start();
    try {
      const client = await subscribed(sim);
      await advanceAndDrain(clock, sim, client, 30_000 + 3 * BAR_MS);
      const bySlot = new Map<number, number[]>();
      for (const p of client.prices()) {
        const slot = Math.floor(((p['timestamp'] as number) * 1000) / BAR_MS) * BAR_MS;
        bySlot.set(slot, [...(bySlot.get(slot) ?? []), p['price'] as number]);
      }
      const res = await fetch(`${sim.restUrl}/time_series?symbol=USD/COP&interval=5min&order=asc&start_date=2024-03-05 13:00:00&end_date=2024-03-05 13:15:00&apikey=${KEY}`);
      const rest = ((await res.json()) as { values: Array<Record<string, string>> }).values;
      assert.equal(rest.length, 3);
      for (const [i, bar] of rest.entries()) {
        const prices = bySlot.get(SESSION_OPEN + i * BAR_MS) ?? [];
        assert.ok(prices.length >= 4, `slot ${i} has ${prices.length} ticks`);
        const fromTicks = { open: prices[0], high: Math.max(...prices), low: Math.min(...prices), close: prices.at(-1) };
        assert.deepEqual(fromTicks, { open: Number(bar['open']), high: Number(bar['high']), low: Number(bar['low']), close: Number(bar['close']) }, `slot ${bar['datetime']}`);
      }
    } finally {
      await sim.close();
    }
  });
});

describe('simulator WebSocket: faults', () => {
  it('drops every connection now and every N ms', async () => {
    const { sim, clock } = await start({ faults: { dropEveryMs: 60_000 } });
    try {
      const a = await subscribed(sim);
      assert.equal(sim.faults.dropAll(), 1);
      await a.waitFor(() => a.closeCode !== null, 'the drop');
      assert.equal(a.closeCode, 1006, 'terminated without a close frame, like a reset connection');
      const b = await subscribed(sim);
      await clock.advance(60_000);
      await b.waitFor(() => b.closeCode !== null, 'the periodic drop');
      assert.equal(sim.stats().faults.drops, 2);
      assert.equal(sim.stats().faults.connectionsDropped, 2);
    } finally {
      await sim.close();
    }
  });

  it('stalls: no frames and no heartbeat replies during the stall, both resume after it', async () => {
    const { sim, clock } = await start();
    try {
      const client = await subscribed(sim);
      await advanceAndDrain(clock, sim, client, 60_000);
      const framesBefore = client.frames.length;
      const pricesBefore = client.prices().length;
      assert.ok(pricesBefore > 0);
      sim.faults.stall(120_000);
      client.send({ action: 'heartbeat' });
      await clock.advance(100_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(client.frames.length, framesBefore, 'nothing at all arrives during a stall');
      assert.ok(sim.stats().faults.framesSuppressed > 1);
      await clock.advance(30_000);
      client.send({ action: 'heartbeat' });
      await client.next('heartbeat', framesBefore);
      await advanceAndDrain(clock, sim, client, 60_000);
      assert.ok(client.prices().length > pricesBefore, 'prices flow again');
    } finally {
      await sim.close();
    }
  });

  it('inserts malformed (invalid JSON) frames at the configured rate without losing prices', async () => {
    const { sim, clock } = await start({ faults: { malformedRate: 1 } });
    try {
      const client = await subscribed(sim);
      await advanceAndDrain(clock, sim, client, 60_000);
      const garbage = client.frames.filter((f) => !isJson(f));
      assert.ok(client.prices().length > 0);
      assert.equal(garbage.length, client.prices().length, 'one garbage frame before each price event');
      assert.equal(sim.stats().faults.malformedFrames, garbage.length);
    } finally {
      await sim.close();
    }
  });

  it('sends duplicate ticks at the configured rate', async () => {
    const { sim, clock } = await start({ faults: { duplicateRate: 1 } });
    try {
      const client = await subscribed(sim);
      await advanceAndDrain(clock, sim, client, 60_000);
      const prices = client.frames.filter((f) => f.includes('"event":"price"'));
      assert.ok(prices.length >= 4 && prices.length % 2 === 0);
      for (let i = 0; i < prices.length; i += 2) assert.equal(prices[i], prices[i + 1]);
    } finally {
      await sim.close();
    }
  });

  it('sends ticks out of order (held back, sent after the next one) at the configured rate', async () => {
    const { sim: clean, clock: cleanClock } = await start();
    const { sim, clock } = await start();
    try {
      const reference = await subscribed(clean);
      await advanceAndDrain(cleanClock, clean, reference, 120_000);
      sim.faults.setRates({ outOfOrderRate: 1 });
      const client = await subscribed(sim);
      await advanceAndDrain(clock, sim, client, 120_000);
      const expected = reference.prices().map((p) => JSON.stringify(p));
      const got = client.prices().map((p) => JSON.stringify(p));
      // With rate 1 every other tick is held back: pairs arrive swapped (an odd last one is still held).
      const pairs = Math.floor(expected.length / 2);
      assert.ok(pairs >= 2);
      for (let i = 0; i < pairs; i++) assert.deepEqual([got[2 * i], got[2 * i + 1]], [expected[2 * i + 1], expected[2 * i]]);
      assert.equal(sim.stats().faults.outOfOrderTicks, Math.ceil(expected.length / 2));
    } finally {
      await clean.close();
      await sim.close();
    }
  });

  it('records a held-back tick that a drop destroyed as lost in flight', async () => {
    const { sim, clock } = await start();
    try {
      sim.faults.setRates({ outOfOrderRate: 1 });
      const client = await subscribed(sim);
      // Rate 1 holds every other tick (released with the next): advance until one is held, then drop.
      const holding = () => sim.stats().faults.outOfOrderTicks * 2 > client.prices().length;
      for (let step = 0; step < 60 && !holding(); step++) await advanceAndDrain(clock, sim, client, 1_000);
      assert.ok(holding(), 'a tick is held back');
      sim.faults.dropAll();
      assert.equal(sim.faults.lostInFlight.length, 1);
      assert.equal(sim.stats().faults.ticksLostInFlight, sim.faults.lostInFlight.length);
      for (const lost of sim.faults.lostInFlight) {
        assert.equal(lost.symbol, 'USD/COP');
        assert.ok(!client.frames.includes(lost.frame), 'the lost tick was never sent');
      }
    } finally {
      await sim.close();
    }
  });

  it('never puts an API key in stats', async () => {
    const { sim } = await start();
    try {
      await subscribed(sim);
      assert.ok(!JSON.stringify(sim.stats()).includes(KEY));
    } finally {
      await sim.close();
    }
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
