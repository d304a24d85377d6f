import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiKeyId } from '../../src/feeds/twelvedata/key-id.ts';
import type { JobQueue } from '../../src/server/deps.ts';
import { markApiKeyBad, registerApiKeys, takeApiKeyCredits } from '../../src/store/api-keys-repo.ts';
import { createApiToken } from '../../src/store/api-tokens-repo.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';

interface Json {
  [key: string]: unknown;
}

/** A JobQueue that records what is sent: the boundary between the API and the workers. */
class RecordingQueue implements JobQueue {
  readonly sent: Array<{ queue: string; data: object | undefined }> = [];
  send(queue: string, data?: object): Promise<string | null> {
    this.sent.push({ queue, data });
    return Promise.resolve(`job-${this.sent.length}`);
  }
}

const ADMIN_ROUTES: Array<{ method: 'GET' | 'POST' | 'DELETE'; url: string; body?: object }> = [
  { method: 'POST', url: '/api/admin/backfill', body: { symbol: 'USD/COP', from: '2024-01-02', to: '2024-01-02' } },
  { method: 'POST', url: '/api/admin/pipeline/run', body: {} },
  { method: 'GET', url: '/api/admin/keys' },
  { method: 'GET', url: '/api/admin/tokens' },
  { method: 'POST', url: '/api/admin/tokens', body: { name: 'x', role: 'reader' } },
  { method: 'DELETE', url: '/api/admin/tokens/t_000000000000' },
];

for (const target of databaseTargets()) {
  describe(`admin routes, ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    const queue = new RecordingQueue();
    let admin: { token: string; id: string };
    let reader: string;
    const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, o: { token?: string; body?: object; on?: TestServer } = {}) => {
      const res = await (o.on ?? server).app.inject({ method, url, headers: o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }, ...(o.body === undefined ? {} : { payload: o.body }) });
      return { status: res.statusCode, body: res.json<Json>(), raw: res.body };
    };
    const errorOf = (body: Json) => body['error'] as Json;
    /** Every audit entry, as text: a token secret must never be in it. */
    const auditText = async () => JSON.stringify(await listAudit(db, { limit: 1000 }));

    before(async () => {
      db = await target.open();
      server = await startTestServer({ db, deps: { jobs: queue } });
      const created = await createApiToken(db, { name: 'ops', role: 'admin' });
      admin = { token: created.token, id: created.info.id };
      reader = await server.token('reader');
    });
    after(async () => {
      await server.close();
      await db.close();
    });

    it('refuses every admin route without a token (401) and with a reader token (403)', async () => {
      for (const r of ADMIN_ROUTES) {
        const anonymous = await call(r.method, r.url, r.body === undefined ? {} : { body: r.body });
        assert.equal(anonymous.status, 401, `${r.method} ${r.url}`);
        assert.equal(errorOf(anonymous.body)['code'], 'unauthorized');
        const asReader = await call(r.method, r.url, { token: reader, ...(r.body === undefined ? {} : { body: r.body }) });
        assert.equal(asReader.status, 403, `${r.method} ${r.url}`);
        assert.match(String(errorOf(asReader.body)['message']), /needs the admin role; the token has reader/);
      }
      assert.deepEqual(queue.sent, []);
    });

    it('queues a backfill job and audits it with the admin\'s token id', async () => {
      const { status, body } = await call('POST', '/api/admin/backfill', { token: admin.token, body: { symbol: 'USDCOP', from: '2024-01-02', to: '2024-01-05', maxRequests: 3 } });
      assert.equal(status, 202, JSON.stringify(body));
      const data = { symbol: 'USD/COP', from: '2024-01-02', to: '2024-01-05', maxRequests: 3, requestedBy: admin.id };
      assert.deepEqual(body, { jobId: 'job-1', queue: 'backfill', data });
      assert.deepEqual(queue.sent, [{ queue: 'backfill', data }]);
      const [entry] = await listAudit(db, { action: 'admin.backfill', limit: 5 });
      assert.deepEqual([entry?.actor, entry?.entity, entry?.details, entry?.at], [admin.id, 'job:backfill:job-1', { symbol: 'USD/COP', from: '2024-01-02', to: '2024-01-05', maxRequests: 3 }, OPEN_TIME]);
    });

    it('validates the backfill request', async () => {
      const cases: Array<[object, number, RegExp]> = [
        [{ symbol: 'USD/COP', to: '2024-01-02' }, 400, /from/],
        [{ symbol: 'USD/COP', from: '2024-01-32', to: '2024-02-02' }, 400, /from/],
        [{ symbol: 'USD/COP', from: '2024-01-05', to: '2024-01-02' }, 400, /to 2024-01-02 is before from 2024-01-05/],
        [{ symbol: 'USD/COP', from: '2024-01-02', to: '2024-01-02', maxRequests: 0 }, 400, /maxRequests/],
        [{ symbol: 'GBPUSD', from: '2024-01-02', to: '2024-01-02' }, 404, /GBPUSD/],
      ];
      for (const [body, status, message] of cases) {
        const res = await call('POST', '/api/admin/backfill', { token: admin.token, body });
        assert.equal(res.status, status, JSON.stringify(body));
        assert.match(String(errorOf(res.body)['message']), message, JSON.stringify(body));
      }
      assert.equal(queue.sent.length, 1, 'nothing queued for a bad request');
    });

    it('queues a pipeline run with its layers in order, or null for all', async () => {
      const some = await call('POST', '/api/admin/pipeline/run', { token: admin.token, body: { layers: ['L4', 'L2'], from: '2024-01-02', to: '2024-03-01' } });
      assert.equal(some.status, 202, JSON.stringify(some.body));
      assert.deepEqual(some.body['data'], { layers: ['L2', 'L4'], symbols: ['USD/COP'], from: '2024-01-02', to: '2024-03-01', requestedBy: admin.id });
      const all = await call('POST', '/api/admin/pipeline/run', { token: admin.token, body: { symbol: 'usd-cop' } });
      assert.deepEqual(all.body['data'], { layers: null, symbols: ['USD/COP'], from: null, to: null, requestedBy: admin.id });
      assert.deepEqual(queue.sent.slice(1).map((s) => s.queue), ['pipeline', 'pipeline']);
      const entries = await listAudit(db, { action: 'admin.pipeline.run', limit: 5 });
      assert.deepEqual(entries.map((e) => [e.actor, e.entity]), [[admin.id, `job:pipeline:${String(some.body['jobId'])}`], [admin.id, `job:pipeline:${String(all.body['jobId'])}`]]);
      assert.deepEqual(entries[0]?.details, { layers: ['L2', 'L4'], symbols: ['USD/COP'], from: '2024-01-02', to: '2024-03-01' });

      for (const [body, message] of [
        [{ layers: ['L7'] }, /layers/],
        [{ layers: ['L2', 'L2'] }, /layers/],
        [{ layers: [] }, /layers/],
        [{ from: '2024-03-01', to: '2024-01-02' }, /to 2024-01-02 is before from 2024-03-01/],
      ] as const) {
        const res = await call('POST', '/api/admin/pipeline/run', { token: admin.token, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(String(errorOf(res.body)['message']), message);
      }
      assert.equal(queue.sent.length, 3);
    });

    it('answers 503 with a clear error when this process has no job queue', async () => {
      const apiOnly = await startTestServer({ db });
      try {
        for (const [url, body] of [
          ['/api/admin/backfill', { symbol: 'USD/COP', from: '2024-01-02', to: '2024-01-02' }],
          ['/api/admin/pipeline/run', {}],
        ] as const) {
          const res = await call('POST', url, { token: admin.token, body, on: apiOnly });
          assert.equal(res.status, 503);
          assert.equal(errorOf(res.body)['code'], 'jobs_unavailable');
          assert.match(String(errorOf(res.body)['message']), /No job queue is reachable from this server process/);
        }
      } finally {
        await apiOnly.close();
      }
    });

    it('shows the key pool by hashed id with credits used and left', async () => {
      const now = OPEN_TIME;
      const good = apiKeyId('secret-key-one');
      const bad = apiKeyId('secret-key-two');
      await registerApiKeys(db, [{ id: good, minuteLimit: 8, dayLimit: 800 }, { id: bad, minuteLimit: 8, dayLimit: 800 }], now - 120_000);
      await takeApiKeyCredits(db, good, 5, now - 120_000);
      await takeApiKeyCredits(db, good, 3, now);
      await markApiKeyBad(db, bad, 'HTTP 401: invalid key', now);
      const { status, body, raw } = await call('GET', '/api/admin/keys', { token: admin.token });
      assert.equal(status, 200);
      assert.ok(!raw.includes('secret-key'), 'key values never appear');
      const keys = new Map((body['keys'] as Json[]).map((k) => [k['id'], k]));
      assert.deepEqual(keys.get(good)?.['minute'], { limit: 8, used: 3, left: 5, windowStart: new Date(now).toISOString() });
      assert.deepEqual(keys.get(good)?.['day'], { limit: 800, used: 8, left: 792, date: '2024-01-02' });
      assert.equal(keys.get(good)?.['creditsTotal'], 8);
      assert.deepEqual([keys.get(bad)?.['status'], keys.get(bad)?.['badReason']], ['bad', 'HTTP 401: invalid key']);
      assert.deepEqual(body['totals'], { keys: 2, ok: 1, minuteLeft: 5, dayLeft: 792 });
    });

    it('creates a token, shows its secret once, lists it without the secret, and revokes it', async () => {
      const created = await call('POST', '/api/admin/tokens', { token: admin.token, body: { name: ' dashboard ', role: 'reader' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const secret = String(created.body['token']);
      const id = String(created.body['id']);
      assert.match(secret, /^tasa_/);
      assert.match(id, /^t_[0-9a-f]{12}$/);
      assert.deepEqual([created.body['name'], created.body['role'], created.body['active'], created.body['createdAt']], ['dashboard', 'reader', true, new Date(OPEN_TIME).toISOString()]);

      // The new token works.
      const report = await call('POST', '/api/compliance/report', { token: secret, body: { from: '2024-01-02', to: '2024-01-02' } });
      assert.equal(report.status, 200);

      const listed = await call('GET', '/api/admin/tokens', { token: admin.token });
      assert.ok(!listed.raw.includes(secret));
      const row = (listed.body['tokens'] as Json[]).find((t) => t['id'] === id);
      assert.deepEqual([row?.['name'], row?.['active'], row?.['token']], ['dashboard', true, undefined]);
      assert.equal(row?.['lastUsedAt'], new Date(OPEN_TIME).toISOString());

      const revoked = await call('DELETE', `/api/admin/tokens/${id}`, { token: admin.token });
      assert.equal(revoked.status, 200);
      assert.deepEqual([revoked.body['id'], revoked.body['active'], revoked.body['revokedAt']], [id, false, new Date(OPEN_TIME).toISOString()]);
      assert.ok(!revoked.raw.includes(secret));
      assert.equal((await call('POST', '/api/compliance/report', { token: secret, body: { from: '2024-01-02', to: '2024-01-02' } })).status, 401);

      const again = await call('DELETE', `/api/admin/tokens/${id}`, { token: admin.token });
      assert.equal(again.status, 409);
      assert.match(String(errorOf(again.body)['message']), /already revoked/);

      const entries = (await listAudit(db, { entity: `token:${id}`, limit: 5 })).map((e) => [e.actor, e.action, e.details]);
      assert.deepEqual(entries, [
        [admin.id, 'token.create', { name: 'dashboard', role: 'reader' }],
        [admin.id, 'token.revoke', { name: 'dashboard', role: 'reader' }],
      ]);
      const everything = await auditText();
      assert.ok(!everything.includes(secret), 'the new token\'s secret is not in the audit log');
      assert.ok(!everything.includes(admin.token), 'the admin\'s own secret is not in the audit log');
    });

    it('validates token requests', async () => {
      const cases: Array<['POST' | 'DELETE', string, object | undefined, number]> = [
        ['POST', '/api/admin/tokens', { name: 'x', role: 'root' }, 400],
        ['POST', '/api/admin/tokens', { name: '', role: 'reader' }, 400],
        ['POST', '/api/admin/tokens', { name: '   ', role: 'reader' }, 400],
        ['POST', '/api/admin/tokens', { role: 'reader' }, 400],
        ['DELETE', '/api/admin/tokens/not-an-id', undefined, 400],
        ['DELETE', '/api/admin/tokens/t_000000000000', undefined, 404],
      ];
      for (const [method, url, body, status] of cases) {
        const res = await call(method, url, { token: admin.token, ...(body === undefined ? {} : { body }) });
        assert.equal(res.status, status, `${method} ${url} ${JSON.stringify(body)}`);
      }
    });

    it('documents every admin route with its token security and errors', async () => {
      const paths = (await call('GET', '/openapi.json')).body['paths'] as Record<string, Record<string, Json>>;
      for (const r of ADMIN_ROUTES) {
        const path = r.url.replace('t_000000000000', '{id}');
        const op = paths[path]?.[r.method.toLowerCase()];
        assert.ok(op, `${r.method} ${path}`);
        assert.deepEqual(op['tags'], ['admin']);
        assert.deepEqual(op['security'], [{ apiKey: [] }, { bearer: [] }]);
        const responses = op['responses'] as Json;
        assert.ok(responses['401'] && responses['403'], `${r.method} ${path}`);
      }
    });
  });
}
