/**
 * A WebSocket client of the gateway through a real Redis outage (a private redis-server, killed and
 * started again EMPTY): the client sees every seq consecutively, or a `gap` frame covering exactly
 * the seqs it will never get, with the REST URL of their period. Never a silent jump.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedisBus, type Bus, type SeqFloorStore } from '../../src/bus/index.ts';
import { busSeqFloors } from '../../src/store/bus-seq-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer } from '../support/test-server.ts';
import { range, WsTestClient, wsUrl, type Msg } from './ws-test-client.ts';
import { ManualClock } from '../../src/clock.ts';

const SYMBOL = 'USD/COP';
const tick = (price: number) => ({ symbol: SYMBOL, price, bid: null, ask: null, spread: null, timestamp: new Date(OPEN_TIME).toISOString(), receivedAt: new Date(OPEN_TIME).toISOString(), source: 'test' });
let redis: PrivateRedis;
let db: Db;

before(async () => {
  redis = await startPrivateRedis();
  db = await (databaseTargets().at(-1) as { open: () => Promise<Db> }).open();
});
after(async () => {
  await db.close();
  await redis.destroy();
});

let prefixes = 0;

/** Publishes 1..20, kills Redis, publishes 21..40 (buffered), starts Redis empty; returns what the client got and the seqs published. */
async function outage(seqFloors: SeqFloorStore | undefined): Promise<{ messages: Msg[]; before: number[]; buffered: number[] }> {
  const clock = new ManualClock(OPEN_TIME);
  const keyPrefix = `ws-outage-${++prefixes}:`;
  const buses: Bus[] = [];
  const open = async (floors?: SeqFloorStore) => {
    const bus = await createRedisBus({ url: redis.url, clock, keyPrefix, ...(floors ? { seqFloors: floors } : {}) });
    buses.push(bus);
    return bus;
  };
  const publisher = await open(seqFloors);
  const server = await startTestServer({ db, bus: await open(), clock, listen: true });
  const client = await WsTestClient.open(wsUrl(server.url, '/ws'));
  try {
    await client.subscribe({ symbols: [SYMBOL] });
    const publish = (from: number, to: number) => Promise.all(range(from, to).map((i) => publisher.publish('ticks', SYMBOL, tick(4000 + i))));
    const before = (await publish(1, 20)).map((e) => e.seq);
    await client.waitForSeq(20);

    await redis.stop();
    const waiting = publish(21, 40);
    await clock.advance(60_000);
    await redis.start();
    const buffered = (await waiting).map((e) => e.seq);
    await client.waitForSeq(buffered.at(-1) ?? 0, 15_000);
    assert.deepEqual(client.invalid, [], 'every message matches the protocol schema');
    return { messages: [...client.messages], before, buffered };
  } finally {
    await client.close();
    await server.close();
    await Promise.all(buses.map((b) => b.close()));
  }
}

/** The seqs the client can account for: each data message is the next seq, or a gap frame announced exactly what came between. */
function accountedSeqs(messages: Msg[]): { seqs: number[]; gaps: Msg[] } {
  const seqs: number[] = [];
  const gaps: Msg[] = [];
  let last: number | null = null;
  for (const m of messages) {
    if (m.type === 'gap') {
      assert.equal(m['from'], (last ?? 0) + 1, `the gap starts right after seq ${last}`);
      gaps.push(m);
      last = m['to'] as number;
    } else if (m.seq !== undefined) {
      if (last !== null) assert.equal(m.seq, last + 1, `seq ${m.seq} follows ${last} (a jump without a gap frame)`);
      seqs.push(m.seq);
      last = m.seq;
    }
  }
  return { seqs, gaps };
}

describe('ws gateway through a Redis that restarts empty (private redis-server)', () => {
  it('a client resuming with since across seqs that a full publish buffer refused gets a gap frame for them', async () => {
    const clock = new ManualClock(OPEN_TIME);
    const publisher = await createRedisBus({ url: redis.url, clock, keyPrefix: `ws-outage-${++prefixes}:`, publishBuffer: 5 });
    const server = await startTestServer({ db, bus: publisher, clock, listen: true });
    const client = await WsTestClient.open(wsUrl(server.url, '/ws'));
    try {
      const publish = (i: number) => publisher.publish('ticks', SYMBOL, tick(4000 + i)).then((e) => e.seq, () => null);
      for (let i = 1; i <= 3; i++) await publish(i);
      await redis.stop();
      const waiting = range(4, 13).map(publish);
      await redis.start();
      assert.deepEqual(await Promise.all(waiting), [...range(4, 8), ...Array<null>(5).fill(null)]);
      assert.equal(await publish(14), 14);
      await client.subscribe({ symbols: [SYMBOL], since: 4 }); // Redis restarted empty: its stream starts at 4
      await client.waitForSeq(14);
      const { seqs, gaps } = accountedSeqs(client.messages);
      assert.deepEqual(seqs, [...range(5, 8), 14]);
      assert.deepEqual(gaps.map((g) => [g['from'], g['to']]), [[9, 13]]);
      assert.deepEqual(client.invalid, []);
    } finally {
      await client.close();
      await server.close();
      await publisher.close();
    }
  });

  it('the events buffered during the outage reach the client with the next seqs, no jump (floor kept by the live publisher)', async () => {
    const { messages, before, buffered } = await outage(undefined);
    assert.deepEqual(before, range(1, 20));
    assert.deepEqual(buffered, range(21, 40));
    const { seqs, gaps } = accountedSeqs(messages);
    assert.deepEqual(seqs, range(1, 40));
    assert.deepEqual(gaps, []);
  });

  it('with the floor in the database, the seqs reserved ahead reach the client as one gap frame, then the buffered events', async () => {
    const floors = busSeqFloors(db, new ManualClock(OPEN_TIME));
    const { messages, buffered } = await outage(floors);
    const ceiling = (buffered[0] ?? 0) - 1;
    assert.ok(ceiling > 20, `continues after the reserved floor (${ceiling})`);
    assert.deepEqual(buffered, range(ceiling + 1, ceiling + 20), 'the buffered events keep their order, consecutively');
    const { seqs, gaps } = accountedSeqs(messages);
    assert.deepEqual(seqs, [...range(1, 20), ...buffered]);
    assert.deepEqual(
      gaps.map((g) => ({ ...g })),
      [{ type: 'gap', symbol: SYMBOL, from: 21, to: ceiling, refetch: '/api/market/historical?symbol=USD%2FCOP&from=2024-01-02&to=2024-01-02' }],
    );
  });
});
