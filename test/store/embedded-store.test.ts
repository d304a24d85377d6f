/**
 * The embedded store's owner serves it to other connections (pglite-server.ts): their
 * statements and transactions never mix with the owner's, a client that vanishes mid-transaction
 * is rolled back, and a client cannot crash the owner with COPY FROM STDIN.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import type { Db } from '../../src/store/db.ts';
import { openDb } from '../../src/store/open-db.ts';
import { openPglite } from '../../src/store/pglite-driver.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('opening one embedded store from two places at once', () => {
  it('makes exactly one of them the owner; the other goes through it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tasa-race-'));
    try {
      const both = await Promise.all([openDb({ dataDir }), openDb({ dataDir })]);
      const owners = both.filter((db) => db.target === `pglite:${join(dataDir, 'pgdata')}`);
      assert.equal(owners.length, 1, both.map((db) => db.target).join(' | '));
      await both[0].exec('CREATE TABLE one (v int)');
      await both[1].query('INSERT INTO one VALUES (1)');
      assert.deepEqual(await both[0].query('SELECT v FROM one'), [{ v: 1 }]);
      const [owner] = owners;
      await Promise.all(both.filter((db) => db !== owner).map((db) => db.close()));
      await owner!.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a client idle inside a transaction', () => {
  it('is rolled back and dropped after the idle limit, so the owner writes again', async () => {
    const db = await openPglite({});
    const server = await db.serve({ port: 0 }, { idleInTransactionMs: 300 });
    const port = 'port' in server.endpoint ? server.endpoint.port : 0;
    const sql = postgres({ host: '127.0.0.1', port, max: 1, prepare: false, onnotice: () => {} });
    try {
      await db.exec('CREATE TABLE t (who text)');
      await sql.unsafe('BEGIN');
      await sql.unsafe("INSERT INTO t VALUES ('idle-client')");
      const started = performance.now();
      await db.query("INSERT INTO t VALUES ('owner')"); // waits for the gate until the client is dropped
      const waited = performance.now() - started;
      assert.ok(waited >= 250 && waited < 5_000, `the owner waited ${Math.round(waited)} ms`);
      assert.deepEqual(await db.query('SELECT who FROM t'), [{ who: 'owner' }]);
      await assert.rejects(sql.unsafe('SELECT 1'));
    } finally {
      await sql.end({ timeout: 0 });
      await db.close();
    }
  });
});

describe('embedded store served by its owner', { concurrency: false }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasa-served-'));
  const socketPath = join(dataDir, '.s.PGSQL.5432');
  let owner: Db;
  let client: Db;

  before(async () => {
    owner = await openDb({ dataDir });
    await owner.exec('CREATE TABLE seen (who text PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
    client = await openDb({ dataDir });
  });
  after(async () => {
    await client.close();
    await owner.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const rows = async () => (await owner.query<{ who: string }>('SELECT who FROM seen ORDER BY who')).map((r) => r.who);

  it('opens one owner; a second opener in the same directory goes through its socket', () => {
    assert.equal(owner.target, `pglite:${join(dataDir, 'pgdata')}`);
    assert.ok(client.target.startsWith(`pglite:${join(dataDir, 'pgdata')} (served by pid ${process.pid}, `), client.target);
    assert.ok(client.target.endsWith(` on ${socketPath})`), client.target);
    assert.equal('copyRows' in client, false, 'no COPY FROM STDIN through the socket');
  });

  it('gives a client the same JS values as the owner for every type Tasa uses', async () => {
    const text = `SELECT 9007199254740991::int8 AS big, count(*) AS n, '2025-03-03'::date AS day,
      '2025-03-03T13:00:00.123456Z'::timestamptz AS at, 'infinity'::timestamptz AS forever, 4012.5::numeric AS exact,
      0.1::float8 + 0.2::float8 AS sum, '{"a":[1,null]}'::jsonb AS doc, ARRAY['x', NULL]::text[] AS texts,
      ARRAY[1.5, NULL]::float8[] AS floats, ARRAY['2025-03-03T13:00:00Z']::timestamptz[] AS ats, $1::text AS param, $2::jsonb AS obj
      FROM generate_series(1, 3)`;
    const params = ['ñ "quoted"', { k: [1, 'two'] }];
    assert.deepEqual(await client.query(text, params), await owner.query(text, params));
  });

  it("keeps a client's statement out of the owner's open transaction", async () => {
    await owner.exec('TRUNCATE seen');
    const ownerTx = owner.transaction(async (tx) => {
      await tx.query("INSERT INTO seen (who) VALUES ('owner-rolled-back')");
      await sleep(300);
      throw new Error('roll back');
    }).catch((err: unknown) => err);
    await sleep(50);
    const started = performance.now();
    await client.query("INSERT INTO seen (who) VALUES ('client')");
    const waited = performance.now() - started;
    assert.match(String(await ownerTx), /roll back/);
    assert.deepEqual(await rows(), ['client']);
    assert.ok(waited >= 200, `the client waited for the owner's transaction (${Math.round(waited)} ms)`);
  });

  it("keeps the owner's statement out of a client's open transaction", async () => {
    await owner.exec('TRUNCATE seen');
    const clientTx = client.transaction(async (tx) => {
      await tx.query("INSERT INTO seen (who) VALUES ('client-rolled-back')");
      await sleep(300);
      throw new Error('roll back');
    }).catch((err: unknown) => err);
    await sleep(50);
    await owner.query("INSERT INTO seen (who) VALUES ('owner')");
    assert.match(String(await clientTx), /roll back/);
    assert.deepEqual(await rows(), ['owner']);
  });

  it('rolls back a client that disconnects inside a transaction, and lets the owner go on', async () => {
    await owner.exec('TRUNCATE seen');
    const sql = postgres({ path: socketPath, max: 1, prepare: false, onnotice: () => {} });
    let inserted!: () => void;
    const insertedOnce = new Promise<void>((resolve) => (inserted = resolve));
    const abandoned = sql
      .begin(async (tx) => {
        await tx.unsafe("INSERT INTO seen (who) VALUES ('vanished')");
        inserted();
        await new Promise(() => {}); // until the connection goes
      })
      .catch(() => 'dropped');
    await insertedOnce;
    await sql.end({ timeout: 0 });
    assert.equal(await abandoned, 'dropped');
    await owner.query("INSERT INTO seen (who) VALUES ('owner')");
    assert.deepEqual(await rows(), ['owner']);
  });

  it('answers COPY FROM STDIN with an error instead of letting it stop the owner', async () => {
    const sql = postgres({ path: socketPath, max: 1, prepare: false, onnotice: () => {} });
    try {
      await assert.rejects(sql.unsafe('COPY seen (who) FROM STDIN'), /COPY FROM STDIN is not supported/);
      assert.deepEqual([...(await sql.unsafe("SELECT 'still' AS up"))], [{ up: 'still' }]);
    } finally {
      await sql.end();
    }
    await owner.query("INSERT INTO seen (who) VALUES ('after-copy')");
    assert.ok((await rows()).includes('after-copy'));
  });

  it('returns a large result whole (PGlite hands out chunks of memory it reuses)', { timeout: 15_000 }, async () => {
    const big = await client.query<{ i: number; pad: string }>("SELECT i::int8, repeat('x', 200) || i AS pad FROM generate_series(1, 20000) i");
    assert.equal(big.length, 20000);
    assert.ok(big.every((r, k) => r.i === k + 1 && r.pad === `${'x'.repeat(200)}${k + 1}`));
  });

  it('hangs up on a peer that does not speak the protocol', async () => {
    const junk = createConnection(socketPath);
    const closed = new Promise<void>((resolve) => junk.on('close', () => resolve()));
    junk.on('error', () => undefined);
    junk.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    assert.deepEqual(await client.query('SELECT 1 AS one'), [{ one: 1 }]);
  });

  it('answers many queries from several clients at once, each exactly', async () => {
    const second = await openDb({ dataDir });
    try {
      const asked = Array.from({ length: 60 }, (_, i) => i);
      const answers = await Promise.all(asked.map((i) => [owner, client, second][i % 3]!.query<{ n: number }>('SELECT $1::int8 AS n', [i])));
      assert.deepEqual(
        answers.map((r) => r[0]?.n),
        asked,
      );
    } finally {
      await second.close();
    }
  });
});
