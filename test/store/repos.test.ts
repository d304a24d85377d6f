import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionQuality } from '../../src/domain/session-quality.ts';
import { TasaError } from '../../src/errors.ts';
import { appendAudit, listAudit } from '../../src/store/audit-repo.ts';
import type { Db } from '../../src/store/db.ts';
import type { Holiday } from '../../src/domain/calendar.ts';
import { holidaysBetween, replaceHolidays } from '../../src/store/holidays-repo.ts';
import { finishRun, listRuns, startRun } from '../../src/store/pipeline-runs-repo.ts';
import { sessionsBetween, upsertSessions } from '../../src/store/sessions-repo.ts';
import { ensureSymbols, knownSymbols } from '../../src/store/symbols-repo.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { ensureTickPartitions, insertTicks, monthStartsBetween, ticksBetween } from '../../src/store/ticks-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

function session(date: string, overrides: Partial<SessionQuality> = {}): SessionQuality {
  return { symbol: 'USD/COP', date, expected: 60, present: 60, missing: 0, flatShare: 0.5, repaired: 0, status: 'complete', ...overrides };
}

function holiday(date: string, market: Holiday['market'], name = `h ${date}`): Holiday {
  return { date, market, name, origin: 'date-holidays' };
}

function tick(iso: string, price: number): Tick {
  const time = Date.parse(iso);
  return { symbol: 'USD/COP', time, price, bid: price - 0.5, ask: null, receivedAt: time + 120, source: 'twelvedata_ws' };
}

for (const target of databaseTargets()) {
  describe(`repositories on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('sessions: upsert, replace, and read back with YYYY-MM-DD dates', async () => {
      const rows = [session('2024-01-02'), session('2024-01-03', { present: 0, missing: 60, flatShare: null, status: 'missing' })];
      assert.equal(await upsertSessions(db, rows), 2);
      assert.deepEqual(await sessionsBetween(db, 'USD/COP', '2024-01-01', '2024-01-31'), rows);
      const replaced = session('2024-01-03', { present: 30, missing: 30, repaired: 4, status: 'partial' });
      await upsertSessions(db, [replaced]);
      assert.deepEqual(await sessionsBetween(db, 'USD/COP', '2024-01-03', '2024-01-03'), [replaced]);
      assert.deepEqual(await sessionsBetween(db, 'EUR/COP', '2024-01-01', '2024-01-31'), []);
      await assert.rejects(upsertSessions(db, [session('2024-01-04', { flatShare: 1.5 })]), /check constraint/);
    });

    it('holidays: replace the years given, all markets, in one transaction', async () => {
      await replaceHolidays(db, [holiday('2024-01-01', 'CO'), holiday('2024-01-01', 'US'), holiday('2025-01-01', 'CO')], 2024, 2025);
      await replaceHolidays(db, [holiday('2024-01-08', 'CO', 'Reyes')], 2024, 2024);
      assert.deepEqual(await holidaysBetween(db, '2024-01-01', '2025-12-31'), [holiday('2024-01-08', 'CO', 'Reyes'), holiday('2025-01-01', 'CO')]);
      await assert.rejects(replaceHolidays(db, [holiday('2026-01-01', 'CO')], 2024, 2025), (err: unknown) => err instanceof TasaError && err.code === 'bad_argument');
      assert.equal((await holidaysBetween(db, '2024-01-01', '2025-12-31')).length, 2);
    });

    it('audit log: appends, filters, pages by id, and refuses UPDATE and DELETE', async () => {
      const at = Date.UTC(2024, 5, 1, 12);
      await appendAudit(db, [
        { actor: 'cli', action: 'import', entity: 'file:a.csv', details: { rows: 3, nested: { ok: true } }, at },
        { actor: 'cli', action: 'repair', entity: 'USD/COP', details: { shiftedHours: 5 }, at: at + 1000 },
        { actor: 'job', action: 'import', entity: 'file:b.csv', details: {}, at: at + 2000 },
      ]);
      const imports = await listAudit(db, { action: 'import', limit: 10 });
      assert.deepEqual(imports.map((e) => [e.entity, e.at, e.details]), [['file:a.csv', at, { rows: 3, nested: { ok: true } }], ['file:b.csv', at + 2000, {}]]);
      const [firstPage] = await listAudit(db, { limit: 1 });
      assert.ok(firstPage);
      const rest = await listAudit(db, { limit: 10, afterId: firstPage.id });
      assert.deepEqual(rest.map((e) => e.action), ['repair', 'import']);
      assert.deepEqual((await listAudit(db, { from: at + 1000, to: at + 2000, limit: 10 })).map((e) => e.entity), ['USD/COP']);
      assert.deepEqual((await listAudit(db, { entity: 'USD/COP', limit: 10 }))[0]?.actor, 'cli');
      await appendAudit(db, [{ actor: 'cli', action: 'clock', entity: 'db', details: {} }]);
      const [stamped] = await listAudit(db, { action: 'clock', limit: 1 });
      assert.ok(stamped && Math.abs(stamped.at - Number((await db.query<{ now: Date }>('SELECT now()'))[0]?.now.getTime())) < 60_000);
      await assert.rejects(db.query("UPDATE audit_log SET actor = 'x'"), /append-only/);
      await assert.rejects(db.query('DELETE FROM audit_log'), /append-only/);
    });

    it('pipeline runs: start, finish, list newest first; finishing an unknown run is not_found', async () => {
      const started = Date.UTC(2024, 5, 1, 12);
      const first = await startRun(db, { layer: 'L0', symbol: 'USD/COP', params: { file: 'a.csv' }, at: started });
      const second = await startRun(db, { layer: 'L1', symbol: null, params: {} });
      await finishRun(db, first, {
        status: 'completed',
        rowsIn: 10,
        rowsOut: 9,
        summary: { rejected: 1 },
        manifest: { files: ['a.csv'] },
        datasetHash: 'abc',
        at: started + 5000,
      });
      await finishRun(db, second, { status: 'failed', rowsIn: null, rowsOut: 0, summary: {}, error: 'boom' });
      const runs = await listRuns(db, {});
      assert.deepEqual(runs.map((r) => r.id), [second, first]);
      assert.deepEqual(runs[1], {
        id: first,
        layer: 'L0',
        symbol: 'USD/COP',
        status: 'completed',
        startedAt: started,
        finishedAt: started + 5000,
        rowsIn: 10,
        rowsOut: 9,
        params: { file: 'a.csv' },
        summary: { rejected: 1 },
        manifest: { files: ['a.csv'] },
        datasetHash: 'abc',
        error: null,
      });
      assert.equal(runs[0]?.error, 'boom');
      assert.equal(typeof runs[0]?.finishedAt, 'number');
      assert.deepEqual((await listRuns(db, { layer: 'L0' })).map((r) => r.id), [first]);
      assert.deepEqual((await listRuns(db, { beforeId: second })).map((r) => r.id), [first]);
      await assert.rejects(finishRun(db, 999_999, { status: 'skipped', rowsIn: 0, rowsOut: 0, summary: {} }), (err: unknown) => err instanceof TasaError && err.code === 'not_found');
    });

    it('symbols: ensure is idempotent and updates changed metadata', async () => {
      await ensureSymbols(db, [{ symbol: 'USD/COP', base: 'USD', quote: 'COP', decimals: 2 }]);
      await ensureSymbols(db, [
        { symbol: 'USD/COP', base: 'USD', quote: 'COP', decimals: 3 },
        { symbol: 'EUR/COP', base: 'EUR', quote: 'COP', decimals: 2 },
      ]);
      assert.deepEqual(await knownSymbols(db), [
        { symbol: 'EUR/COP', base: 'EUR', quote: 'COP', decimals: 2 },
        { symbol: 'USD/COP', base: 'USD', quote: 'COP', decimals: 3 },
      ]);
    });

    it('ticks: land in the default partition, then move into their month partition', async () => {
      const ticks = [tick('2024-02-29T23:59:59.999Z', 4000), tick('2024-03-01T00:00:00Z', 4001), tick('2024-03-31T13:00:00Z', 4002)];
      assert.equal(await insertTicks(db, ticks), 3);
      assert.equal(await insertTicks(db, ticks), 0);
      const names = await ensureTickPartitions(db, Date.parse('2024-02-15T00:00:00Z'), Date.parse('2024-04-01T00:00:00Z'));
      assert.deepEqual(names, ['ticks_y2024m02', 'ticks_y2024m03']);
      assert.deepEqual(await ensureTickPartitions(db, Date.parse('2024-03-10T00:00:00Z'), Date.parse('2024-03-11T00:00:00Z')), ['ticks_y2024m03']);
      const placed = await db.query<{ part: string; n: number }>('SELECT tableoid::regclass::text AS part, count(*) AS n FROM ticks GROUP BY 1 ORDER BY 1');
      assert.deepEqual(placed, [{ part: 'ticks_y2024m02', n: 1 }, { part: 'ticks_y2024m03', n: 2 }]);
      assert.equal(await insertTicks(db, [tick('2024-03-15T13:00:00Z', 4003)]), 1);
      assert.deepEqual(await ticksBetween(db, 'USD/COP', Date.parse('2024-03-01T00:00:00Z'), Date.parse('2024-04-01T00:00:00Z')), [
        tick('2024-03-01T00:00:00Z', 4001),
        tick('2024-03-15T13:00:00Z', 4003),
        tick('2024-03-31T13:00:00Z', 4002),
      ]);
    });

    it('ticks: the same quote received twice (two ingest processes in a handover) is stored once: the row stored first stays', async () => {
      const first = tick('2024-05-02T13:00:00Z', 4100);
      const again = { ...first, receivedAt: first.receivedAt + 40 };
      assert.equal(await insertTicks(db, [first]), 1);
      assert.equal(await insertTicks(db, [again, { ...again, bid: null }]), 1, 'another receipt of the stored quote is ignored; another bid is another tick');
      const stored = await ticksBetween(db, 'USD/COP', Date.parse('2024-05-02T00:00:00Z'), Date.parse('2024-05-03T00:00:00Z'));
      assert.deepEqual(stored.map((t) => [t.bid, t.receivedAt]), [
        [first.bid, first.receivedAt],
        [null, again.receivedAt],
      ]);
    });
  });
}

describe('monthStartsBetween', () => {
  it('lists the UTC months overlapping [from, to)', () => {
    const months = monthStartsBetween(Date.parse('2024-11-30T23:00:00Z'), Date.parse('2025-02-01T00:00:00Z')).map((m) => new Date(m).toISOString().slice(0, 7));
    assert.deepEqual(months, ['2024-11', '2024-12', '2025-01']);
    assert.deepEqual(monthStartsBetween(5, 5), []);
  });
});
