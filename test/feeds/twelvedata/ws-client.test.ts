/**
 * TwelveDataStream against the real simulator over real sockets, on a ManualClock: the clock drives
 * the simulator's ticks and faults and the client's heartbeat, silence watchdog and backoff.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/feeds/simulator/index.ts';
import { KeyPool, TwelveDataStream, type FeedEvent, type TwelveDataStreamOptions } from '../../../src/feeds/twelvedata/index.ts';
import { advance, captureLogger, EventLog, realDelay, SESSION_TIME, waitFor } from './helpers.ts';

const KEY = 'ws-good-key-0001';

interface Rig {
  clock: ManualClock;
  sim: RunningSimulator;
  stream: TwelveDataStream;
  log: EventLog;
  lines: string[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rig(opts: { sim?: Partial<SimulatorOptions>; stream?: Partial<TwelveDataStreamOptions>; consume?: boolean } = {}): Promise<Rig> {
  const clock = new ManualClock(SESSION_TIME);
  const sim = await startSimulator({ clock, port: 0, seed: 7, apiKeys: [KEY], ...opts.sim });
  cleanups.push(() => sim.close());
  const { logger, lines } = captureLogger();
  const stream = new TwelveDataStream({ url: sim.wsUrl, apiKey: KEY, symbols: ['USD/COP'], clock, logger, random: () => 0.5, ...opts.stream });
  cleanups.push(() => stream.close());
  const log = opts.consume === false ? (null as unknown as EventLog) : new EventLog(stream);
  return { clock, sim, stream, log, lines };
}

const subscribedCount = (log: EventLog): number => log.count((e) => e.type === 'status' && e.state === 'subscribed');

describe('TwelveDataStream', () => {
  it('subscribes and yields ticks stamped with the exchange timestamp, receive time kept apart', async () => {
    const { clock, log, stream, lines } = await rig({ stream: { symbols: ['USD/COP', 'XXX/YYY'] } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    const started = clock.now();
    await advance(clock, 20_000);
    await log.waitFor((l) => l.ofType('tick').length > 20, 'ticks');

    assert.deepEqual(log.states().slice(0, 3), ['connecting', 'connected', 'subscribed']);
    assert.deepEqual(log.ofType('subscription')[0], { type: 'subscription', success: ['USD/COP'], failed: ['XXX/YYY'] });
    for (const { tick } of log.ofType('tick')) {
      assert.equal(tick.symbol, 'USD/COP');
      assert.equal(tick.source, 'twelvedata_ws');
      assert.equal(tick.time % 1000, 0, 'TwelveData stamps whole seconds: ms = seconds * 1000');
      assert.ok(tick.time >= started - 1000 && tick.time <= clock.now(), 'exchange time within the run');
      assert.ok(tick.receivedAt >= tick.time && tick.receivedAt - tick.time < 1500, `receivedAt ${tick.receivedAt} is the clock at receipt`);
      assert.ok(tick.bid !== null && tick.ask !== null && tick.bid <= tick.price && tick.price <= tick.ask);
    }
    assert.ok(lines.some((l) => l.includes('XXX/YYY') && l.includes('failed to subscribe')), 'failed symbols are logged');
    assert.deepEqual(stream.stats().problems, {});
  });

  it('tolerates null arrays in subscribe-status, also when every symbol fails', async () => {
    const { log, stream } = await rig({ sim: { nullArrays: true }, stream: { symbols: ['NOT/REAL'] } });
    await log.waitFor((l) => l.ofType('subscription').length === 1, 'subscribe-status');
    assert.deepEqual(log.ofType('subscription')[0], { type: 'subscription', success: [], failed: ['NOT/REAL'] });
    assert.equal(subscribedCount(log), 0);
    assert.deepEqual(stream.stats().problems, {});
    assert.ok(!log.states().includes('disconnected'));
  });

  it('sends a heartbeat every 10 s and counts the replies; a server with a heartbeat timeout keeps the socket', async () => {
    const { clock, sim, log, stream } = await rig({ sim: { heartbeatTimeoutMs: 15_000 } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    await advance(clock, 61_000);
    await waitFor(() => stream.stats().heartbeatReplies === 6, 'six heartbeat replies');
    assert.equal(stream.stats().heartbeatsSent, 6);
    assert.equal(sim.stats().wsMessagesReceived, 7, 'one subscribe + six heartbeats');
    assert.equal(sim.stats().faults.heartbeatTimeouts, 0);
    assert.equal(sim.stats().connectionsTotal, 1);
  });

  it('declares a silent (stalled) socket dead, reconnects and subscribes again', async () => {
    const { clock, sim, log } = await rig({ stream: { silenceTimeoutMs: 30_000 } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    await advance(clock, 2000);
    const stallStart = clock.now();
    sim.faults.stall(45_000);
    await advance(clock, 33_000);
    await log.waitFor((l) => l.states().includes('reconnecting'), 'reconnecting');
    const lost = log.ofType('status').find((e) => e.state === 'disconnected');
    assert.match(lost?.detail ?? '', /silent for 3\d{4} ms/);
    const deliveredUntil = lost?.deliveredUntil ?? NaN;
    assert.ok(deliveredUntil <= stallStart && deliveredUntil > stallStart - 2_000, `the last frame (${deliveredUntil - stallStart} ms) came just before the stall`);
    await waitFor(() => sim.stats().connectionsTotal === 2, 'second connection');
    await advance(clock, 20_000);
    await log.waitFor((l) => l.ofType('tick').some((e) => e.tick.receivedAt > stallStart + 45_000), 'ticks after the stall');
    assert.equal(sim.stats().connections, 1);
    assert.deepEqual(sim.stats().subscriptions, { 'USD/COP': 1 }, 'the new socket subscribed again');
  });

  it('reports a stall that ends before the silence timeout as a silence span (two heartbeats unanswered)', async () => {
    const { clock, sim, log } = await rig({ stream: { silenceTimeoutMs: 60_000 } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    await advance(clock, 2000);
    const stallStart = clock.now();
    sim.faults.stall(25_000);
    await advance(clock, 30_000);
    await log.waitFor((l) => l.ofType('silence').length === 1, 'a silence event');
    const [silence] = log.ofType('silence');
    assert.ok(silence !== undefined && silence.from <= stallStart && silence.from > stallStart - 2_000, 'from the last frame before the stall');
    assert.ok(silence.to >= stallStart + 25_000 && silence.to <= stallStart + 27_000, 'to the first frame after it');
    assert.ok(!log.states().includes('disconnected'), 'the socket was kept');
    assert.equal(sim.stats().connectionsTotal, 1);
  });

  it("dates a cut connection's outage from its last price's own time, however late it read its last frame", async () => {
    // A quiet market: heartbeat replies arrive long after the last price. Prices printed after
    // that price may be lost at the cut, so the outage must start there, not at the last reply
    // (the same holds for a busy reader that reads 13:24's prices at 13:26).
    const { clock, sim, log } = await rig({ sim: { ticksPerSecond: 0.02 } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    await advance(clock, 40_000);
    await log.waitFor((l) => l.ofType('tick').length > 0, 'a price');
    const lastPrice = Math.max(...log.ofType('tick').map((e) => e.tick.time));
    await advance(clock, 25_000);
    await realDelay(20);
    const silentSince = Math.max(...log.ofType('tick').map((e) => e.tick.time));
    sim.faults.dropAll();
    await log.waitFor((l) => l.states().includes('disconnected'), 'the cut');
    const lost = log.ofType('status').find((e) => e.state === 'disconnected');
    assert.ok(sim.stats().faults.connectionsDropped === 1 && clock.now() - silentSince > 10_000, 'heartbeat replies came after the last price');
    assert.ok(lastPrice <= silentSince);
    assert.equal(lost?.deliveredUntil, silentSince, 'delivered until the last price');
  });

  it('reports no silence while the server answers heartbeats, however quiet', async () => {
    const { clock, log } = await rig({ sim: { ticksPerSecond: 0.01 }, stream: { silenceTimeoutMs: 60_000 } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    await advance(clock, 90_000);
    assert.deepEqual(log.ofType('silence'), []);
  });

  it('reconnects a dropped connection after a jittered backoff', async () => {
    const { clock, sim, log } = await rig({ stream: { random: Math.random } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    sim.faults.dropAll();
    await log.waitFor((l) => l.states().includes('reconnecting'), 'reconnecting');
    const pause = log.ofType('status').find((e) => e.state === 'reconnecting');
    assert.equal(pause?.attempt, 1);
    assert.ok(pause?.delayMs !== undefined && pause.delayMs >= 800 && pause.delayMs <= 1200, `1 s ± 20 %, got ${pause?.delayMs}`);
    await clock.advance((pause?.delayMs ?? 0) - 1);
    assert.equal(sim.stats().connectionsTotal, 1, 'no reconnection before the delay');
    await advance(clock, 1000);
    await log.waitFor((l) => subscribedCount(l) === 2, 'subscribed again');
    assert.equal(sim.stats().connectionsTotal, 2);
  });

  it('backs off exponentially while the server is down, capped, and resumes when it is back', async () => {
    const { clock, sim, log } = await rig({ stream: { backoff: { initialMs: 1000, maxMs: 8000 } } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    const port = sim.port;
    await sim.close();
    const reconnects = (): number => log.count((e) => e.type === 'status' && e.state === 'reconnecting');
    for (let moved = 0; reconnects() < 5 && moved < 60_000; moved += 500) await advance(clock, 500, 500);
    const delays = log.ofType('status').filter((e) => e.state === 'reconnecting').map((e) => e.delayMs);
    assert.deepEqual(delays.slice(0, 5), [1000, 2000, 4000, 8000, 8000]);
    const back = await startSimulator({ clock, port, seed: 7, apiKeys: [KEY] });
    cleanups.push(() => back.close());
    await advance(clock, 9000, 1000);
    await log.waitFor((l) => subscribedCount(l) === 2, 'subscribed on the restarted server');
    assert.deepEqual(back.stats().subscriptions, { 'USD/COP': 1 });
  });

  it('does not reconnect when shouldReconnect() says no (market closed): it stops', async () => {
    let marketOpen = true;
    const { sim, log } = await rig({ stream: { shouldReconnect: () => marketOpen } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    marketOpen = false;
    sim.faults.dropAll();
    await log.done;
    assert.deepEqual(log.states().slice(-2), ['disconnected', 'stopped']);
    assert.match(log.ofType('status').at(-1)?.detail ?? '', /shouldReconnect/);
    assert.equal(sim.stats().connectionsTotal, 1);
  });

  it('counts malformed frames without stopping', async () => {
    const { clock, sim, log, stream, lines } = await rig({ sim: { faults: { malformedRate: 0.3 } } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    await advance(clock, 20_000);
    await waitFor(() => stream.stats().ticks === sim.stats().ticksSent, 'every tick received');
    const malformed = sim.stats().faults.malformedFrames;
    assert.ok(malformed > 3);
    assert.equal(stream.stats().problems.malformed_frame, malformed);
    assert.equal(log.count((e) => e.type === 'problem' && e.kind === 'malformed_frame'), malformed);
    assert.equal(lines.filter((l) => l.includes('"level":40') && l.includes('malformed_frame')).length, 1, 'logged once as a warning');
    assert.ok(!log.states().includes('disconnected'));
  });

  it('passes duplicate and out-of-order ticks through as they come', async () => {
    const { clock, sim, log, stream } = await rig({ sim: { faults: { duplicateRate: 0.2, outOfOrderRate: 0.2 } } });
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    await advance(clock, 40_000);
    await waitFor(() => stream.stats().ticks === sim.stats().ticksSent, 'every tick received');
    const ticks = log.ofType('tick').map((e) => e.tick);
    const pairs = ticks.slice(1).map((t, i) => [ticks[i], t] as const);
    assert.ok(pairs.some(([a, b]) => a?.time === b.time && a.price === b.price && a.bid === b.bid), 'a duplicate is delivered');
    assert.ok(pairs.some(([a, b]) => (a?.time ?? 0) > b.time), 'an older tick after a newer one is delivered');
    assert.deepEqual(stream.stats().problems, {});
  });

  it('drops the oldest events when the consumer falls behind, and says so first', async () => {
    const { clock, stream } = await rig({ consume: false, stream: { queueCapacity: 10 } });
    const iterator = stream.events()[Symbol.asyncIterator]();
    await waitFor(() => stream.stats().connections === 1, 'connected');
    await advance(clock, 20_000);
    await waitFor(() => stream.stats().ticks > 30, 'ticks');
    const next = async (): Promise<FeedEvent> => (await iterator.next()).value as FeedEvent;
    const first = await next();
    assert.ok(first.type === 'problem' && first.kind === 'queue_overflow' && /dropped the \d+ oldest/.test(first.detail), JSON.stringify(first));
    const rest: FeedEvent[] = [];
    for (let i = 0; i < 10; i++) rest.push(await next());
    assert.ok(rest.every((e) => e.type === 'tick'), 'the newest events are kept');
    assert.equal(stream.stats().dropped + 10, stream.stats().ticks + 4, 'connecting, connected, subscription, subscribed were the oldest');
    await iterator.return?.();
  });

  it('treats a refused key as fatal for that key: auth_failed, marked bad in the pool, next key used; keys never logged', async () => {
    const clock = new ManualClock(SESSION_TIME);
    for (const errorStatusMode of ['http', 'body-200'] as const) {
      const sim = await startSimulator({ clock, port: 0, seed: 7, apiKeys: [KEY], errorStatusMode });
      cleanups.push(() => sim.close());
      const { logger, lines } = captureLogger();
      const pool = new KeyPool({ keys: ['revoked-key-0001', KEY], clock, logger });
      const stream = new TwelveDataStream({ url: sim.wsUrl, keys: pool, symbols: ['USD/COP'], clock, logger });
      cleanups.push(() => stream.close());
      const log = new EventLog(stream);
      await log.waitFor((l) => subscribedCount(l) === 1, `subscribed with the second key (${errorStatusMode})`);
      const [failure] = log.ofType('problem');
      assert.equal(failure?.kind, 'auth_failed');
      const status = await pool.status();
      assert.deepEqual(status.map((s) => s.status), ['bad', 'ok']);
      assert.match(failure?.detail ?? '', new RegExp(status[0]?.id ?? 'x'));
      assert.match(status[0]?.badReason ?? '', /401/);
      const everything = JSON.stringify([lines, log.events, status, stream.stats()]);
      assert.ok(!everything.includes('revoked-key-0001') && !everything.includes(KEY), 'no key in logs, events or status');
    }
  });

  it('stops when every key is refused', async () => {
    const { log } = await rig({ stream: { apiKey: 'not-accepted-key' } });
    await log.done;
    assert.deepEqual(
      log.events.map((e) => (e.type === 'status' ? e.state : e.type)),
      ['connecting', 'problem', 'stopped'],
    );
    assert.equal(log.ofType('status').at(-1)?.detail, 'no usable API key');
  });

  it('close() ends the iteration with a stopped status', async () => {
    const { clock, sim, log, stream } = await rig();
    await log.waitFor((l) => subscribedCount(l) === 1, 'subscribed');
    await advance(clock, 3000);
    await stream.close();
    await log.done;
    assert.equal(log.states().at(-1), 'stopped');
    await waitFor(() => sim.stats().connections === 0, 'socket closed');
  });
});
