import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AlertMessage } from '../../src/contracts/bus-messages.ts';
import type { BusEvent, Unsubscribe } from '../../src/bus/index.ts';
import { raiseAlert, resolveAlert, type AlertInput } from '../../src/store/alerts-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { anyData, MARKER, waitFor } from '../bus/helpers.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';

const SYMBOL = 'USD/COP';

interface AlertJson {
  id: number;
  at: string;
  kind: string;
  symbol: string | null;
  occurrences: number;
  lastSeenAt: string;
  resolvedAt: string | null;
  details: Record<string, unknown>;
}

const alert = (kind: string, symbol: string | null, dedupeKey: string, at: number): AlertInput => ({
  kind,
  severity: 'warning',
  symbol,
  message: `${kind} happened`,
  details: { n: 1, nested: { ok: true } },
  dedupeKey,
  at,
});

for (const target of databaseTargets()) {
  describe(`alerts routes on ${target.name}`, () => {
    let db: Db;
    let ts: TestServer;
    let ids: { move: number; budget: number; old: number };
    const published: BusEvent[] = [];
    let unsubscribe: Unsubscribe;

    before(async () => {
      db = await target.open();
      ts = await startTestServer({ db });
      const old = await raiseAlert(db, alert('no_ticks', SYMBOL, 'no_ticks:USD/COP', OPEN_TIME - 3600_000));
      await resolveAlert(db, 'no_ticks:USD/COP', OPEN_TIME - 3000_000);
      const move = await raiseAlert(db, alert('price_move', SYMBOL, 'price_move:USD/COP', OPEN_TIME - 60_000));
      await raiseAlert(db, alert('price_move', SYMBOL, 'price_move:USD/COP', OPEN_TIME - 30_000));
      const budget = await raiseAlert(db, alert('key_budget_low', null, 'key_budget_low', OPEN_TIME));
      ids = { move: move.id, budget: budget.id, old: old.id };
      unsubscribe = await ts.deps.bus.subscribe(SYMBOL, (e) => void published.push(e), { channels: ['alerts'] });
    });
    after(async () => {
      await unsubscribe?.();
      await ts?.close();
      await db?.close();
    });

    const list = async (query: string): Promise<AlertJson[]> => {
      const res = await ts.app.inject({ method: 'GET', url: `/api/alerts${query}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ alerts: AlertJson[] }>().alerts;
    };

    it('lists alerts newest first with UTC times, occurrences and details', async () => {
      const all = await list('');
      assert.deepEqual(
        all.map((a) => a.id),
        [ids.budget, ids.move, ids.old],
      );
      const move = all[1];
      assert.equal(move?.occurrences, 2);
      assert.equal(move?.at, new Date(OPEN_TIME - 60_000).toISOString());
      assert.equal(move?.lastSeenAt, new Date(OPEN_TIME - 30_000).toISOString());
      assert.deepEqual(move?.details, { n: 1, nested: { ok: true } });
      assert.equal(all[2]?.resolvedAt, new Date(OPEN_TIME - 3000_000).toISOString());
      assert.equal(all[0]?.symbol, null);
    });

    it('filters by open, kind, symbol (any spelling) and limit', async () => {
      assert.deepEqual(
        (await list('?open=true')).map((a) => a.id),
        [ids.budget, ids.move],
      );
      assert.deepEqual(
        (await list('?kind=no_ticks')).map((a) => a.id),
        [ids.old],
      );
      assert.deepEqual(
        (await list('?symbol=USDCOP&open=true')).map((a) => a.id),
        [ids.move],
      );
      assert.deepEqual(
        (await list('?symbol=USD%2FCOP')).map((a) => a.id),
        [ids.move, ids.old],
      );
      assert.equal((await list('?limit=1')).length, 1);
    });

    it('answers 404 for a symbol this server does not serve and 400 for a bad limit', async () => {
      const unknown = await ts.app.inject({ method: 'GET', url: '/api/alerts?symbol=EURUSD' });
      assert.equal(unknown.statusCode, 404);
      assert.match(unknown.json<{ error: { message: string } }>().error.message, /Unknown symbol "EURUSD"/);
      const bad = await ts.app.inject({ method: 'GET', url: '/api/alerts?limit=0' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<{ error: { code: string } }>().error.code, 'bad_argument');
    });

    it('resolves an alert for an admin only, announces it once, and is idempotent', async () => {
      const url = `/api/alerts/${ids.move}/resolve`;
      assert.equal((await ts.app.inject({ method: 'POST', url })).statusCode, 401);
      const reader = await ts.token('reader');
      assert.equal((await ts.app.inject({ method: 'POST', url, headers: { 'x-api-key': reader } })).statusCode, 403);
      const admin = await ts.token('admin');
      const res = await ts.app.inject({ method: 'POST', url, headers: { 'x-api-key': admin } });
      assert.equal(res.statusCode, 200, res.body);
      const resolved = res.json<{ alert: AlertJson }>().alert;
      assert.equal(resolved.resolvedAt, new Date(OPEN_TIME).toISOString());
      const again = await ts.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${admin}` } });
      assert.equal(again.json<{ alert: AlertJson }>().alert.resolvedAt, resolved.resolvedAt);
      assert.deepEqual(
        (await list('?open=true')).map((a) => a.id),
        [ids.budget],
      );

      await anyData(ts.deps.bus).publish('alerts', SYMBOL, MARKER);
      await waitFor(() => published.some((e) => 'marker' in (e.data as object)), 'the marker');
      const announced = published.filter((e) => !('marker' in (e.data as object))).map((e) => e.data as AlertMessage);
      assert.deepEqual(
        announced.map((m) => [m.state, m.id, m.kind]),
        [['resolved', ids.move, 'price_move']],
      );

      const missing = await ts.app.inject({ method: 'POST', url: '/api/alerts/999999/resolve', headers: { 'x-api-key': admin } });
      assert.equal(missing.statusCode, 404);
    });

    it('is documented in the OpenAPI description', async () => {
      const spec = (await ts.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>();
      assert.deepEqual(spec.paths['/api/alerts']?.['get']?.tags, ['alerts']);
      assert.ok(spec.paths['/api/alerts/{id}/resolve']?.['post']);
    });
  });
}
