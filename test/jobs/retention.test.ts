import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { DurableWriter } from '../../src/ingest/durable-writer.ts';
import { partitionsDue, retentionCutoff } from '../../src/jobs/retention/retention-policy.ts';
import { retentionStatus, runRetention } from '../../src/jobs/retention/retention.ts';
import { loadTickManifest, readTickArchive, tickRowsChecksum } from '../../src/jobs/retention/tick-archive.ts';
import type { ArchiveStore } from '../../src/pipeline/archive/archive-store.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { acquireLease, releaseLease } from '../../src/store/leases-repo.ts';
import { loadMigrations } from '../../src/store/migrate.ts';
import { listTickPartitions, tickArchives, tickPartitionDigest, tickPartitionRows } from '../../src/store/tick-partitions-repo.ts';
import { ensureTickPartitions, insertTicks } from '../../src/store/ticks-repo.ts';
import { simulatedTicks } from '../support/simulated-ticks.ts';
import { barSeries } from '../support/store-fixtures.ts';
import { databaseTargets } from '../support/test-db.ts';

const calendar = new MarketCalendar();
const logger = pino({ level: 'silent' });
/** 2024-06-10 18:00 UTC with a 30-day limit: ticks before 2024-05-11 are old, so March and April go, May stays. */
const NOW = Date.UTC(2024, 5, 10, 18, 0);
const DAYS = 30;

/** A month of simulated ticks (the simulator's tick path, at a low rate to keep the test short) and a little of the next months. */
function fixtureTicks(): Tick[] {
  return [
    ...simulatedTicks({ calendar, from: '2024-03-01', to: '2024-03-31', ticksPerSecond: 0.02, seed: 3 }),
    ...simulatedTicks({ calendar, from: '2024-04-01', to: '2024-04-05', ticksPerSecond: 0.02, seed: 4 }),
    ...simulatedTicks({ calendar, from: '2024-05-20', to: '2024-05-21', ticksPerSecond: 0.02, seed: 5 }),
  ];
}

async function store(db: Db, ticks: readonly Tick[]): Promise<void> {
  await ensureTickPartitions(db, Math.min(...ticks.map((t) => t.time)), Math.max(...ticks.map((t) => t.time)) + 1);
  await insertTicks(db, ticks);
}

/** The archive on a disk that flips one byte in the middle of every Parquet file it writes. */
function corruptingArchive(inner: ArchiveStore): ArchiveStore {
  return {
    ...inner,
    put: (key, bytes) => {
      if (!key.endsWith('.parquet')) return inner.put(key, bytes);
      const bad = bytes.slice();
      const at = Math.floor(bad.length / 2);
      bad[at] = (bad[at] ?? 0) ^ 0xff;
      return inner.put(key, bad);
    },
  };
}

describe('retention policy', () => {
  it('takes the partitions that end at or before the cutoff, oldest first', () => {
    const cutoff = retentionCutoff(NOW, DAYS);
    assert.equal(new Date(cutoff).toISOString(), '2024-05-11T18:00:00.000Z');
    const p = (name: string, to: string) => ({ name, to: Date.parse(to) });
    const due = partitionsDue([p('may', '2024-06-01'), p('apr', '2024-05-01'), p('mar', '2024-04-01'), p('edge', '2024-05-11T18:00:00Z')], cutoff);
    assert.deepEqual(due.map((x) => x.name), ['mar', 'apr', 'edge']);
    assert.throws(() => retentionCutoff(NOW, 0), RangeError);
  });
});

for (const target of databaseTargets()) {
  describe(`tick retention (${target.name})`, () => {
    let db: Db;
    let dir: string;
    before(async () => {
      db = await target.open();
      dir = await mkdtemp(join(tmpdir(), 'tasa-retention-'));
    });
    after(async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('archives, verifies and drops the old partitions; the archive reads back identical rows; bars, audit and ingest go on', async () => {
      const ticks = fixtureTicks();
      await store(db, ticks);
      await upsertBars(db, barSeries(Date.UTC(2024, 2, 5, 13, 0), 60));
      await ensureTickPartitions(db, Date.UTC(2023, 9, 1), Date.UTC(2023, 9, 2)); // an old month without ticks
      const march = await tickPartitionRows(db, 'ticks_y2024m03');
      const april = await tickPartitionRows(db, 'ticks_y2024m04');
      assert.ok(march.length > 4000, `a month of ticks (${march.length})`);
      assert.equal(tickRowsChecksum(march), (await tickPartitionDigest(db, 'ticks_y2024m03')).checksum, 'the checksum is the same in SQL and in TypeScript');
      const archive = openLocalArchive(join(dir, 'good'));
      const clock = new ManualClock(NOW);

      const report = await runRetention({ db, archive, clock, retentionDays: DAYS, actor: 'test', logger });

      assert.deepEqual(report.partitions.map((p) => [p.partition, p.outcome, p.rows]), [
        ['ticks_y2023m10', 'dropped', 0],
        ['ticks_y2024m03', 'dropped', march.length],
        ['ticks_y2024m04', 'dropped', april.length],
      ]);
      assert.equal(report.rowsArchived, march.length + april.length);
      assert.ok(report.storeBytesFreed > 0);
      const left = await listTickPartitions(db);
      assert.deepEqual(left.map((p) => p.name), ['ticks_y2024m05', 'ticks_y2024m06', 'ticks_y2024m07'], 'May kept, this month and the next created ahead');
      assert.equal(left.reduce((n, p) => n + p.rows, 0), ticks.length - march.length - april.length);
      for (const [partition, rows] of [['ticks_y2024m03', march], ['ticks_y2024m04', april]] as const) {
        const result = report.partitions.find((p) => p.partition === partition);
        const back = await readTickArchive(archive, await loadTickManifest(archive, result?.manifestKey ?? ''));
        assert.deepEqual(back, rows, `${partition} reads back identical`);
      }
      const archived = await tickArchives(db);
      assert.deepEqual(archived.map((a) => [a.partition, a.rows, a.droppedAt === null]), [['ticks_y2023m10', 0, false], ['ticks_y2024m03', march.length, false], ['ticks_y2024m04', april.length, false]]);
      const [bars] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bars');
      assert.equal(bars?.n, 60, 'bars are kept');
      const audit = await listAudit(db, { actionPrefix: 'retention.', limit: 10 });
      assert.deepEqual(audit.map((a) => [a.action, a.entity]), [['retention.partition', 'ticks:ticks_y2023m10'], ['retention.partition', 'ticks:ticks_y2024m03'], ['retention.partition', 'ticks:ticks_y2024m04'], ['retention.run', 'ticks']]);

      // Live ingest keeps writing: this month's ticks land in their partition.
      const writer = new DurableWriter({ db, clock, logger, spoolPath: join(dir, 'spool.jsonl') });
      const live = simulatedTicks({ calendar, from: '2024-06-10', to: '2024-06-10', ticksPerSecond: 0.02, seed: 6 });
      for (const t of live) writer.addTick(t);
      await writer.flush();
      await writer.close();
      assert.equal((await tickPartitionDigest(db, 'ticks_y2024m06')).rows, live.length);

      // Nothing more is due: the run does nothing, and says so in the audit log.
      const again = await runRetention({ db, archive, clock, retentionDays: DAYS, actor: 'test' });
      assert.deepEqual(again.partitions, []);
      assert.equal((await listAudit(db, { action: 'retention.run', limit: 10 })).length, 2);
      const status = await retentionStatus({ db, clock, retentionDays: DAYS });
      assert.deepEqual(status.partitions.map((p) => [p.name, p.due]), [['ticks_y2024m05', false], ['ticks_y2024m06', false], ['ticks_y2024m07', false]]);
      assert.equal(status.archives.length, 3);
    });

    it('keeps a partition whose archive does not verify, then retires it once an archive does', async () => {
      await store(db, simulatedTicks({ calendar, from: '2024-01-02', to: '2024-01-05', ticksPerSecond: 0.02, seed: 8 }));
      const before = await tickPartitionDigest(db, 'ticks_y2024m01');
      const clock = new ManualClock(NOW);
      const good = openLocalArchive(join(dir, 'second'));

      const bad = await runRetention({ db, archive: corruptingArchive(good), clock, retentionDays: DAYS, actor: 'test' });
      assert.deepEqual(bad.partitions.map((p) => [p.partition, p.outcome]), [['ticks_y2024m01', 'unverified']]);
      assert.match(bad.partitions[0]?.problems.join(' ') ?? '', /sha256/);
      assert.deepEqual(await tickPartitionDigest(db, 'ticks_y2024m01'), before, 'not dropped');
      assert.equal((await tickArchives(db)).filter((a) => a.partition === 'ticks_y2024m01').length, 0);

      const fixed = await runRetention({ db, archive: good, clock, retentionDays: DAYS, actor: 'test' });
      assert.deepEqual(fixed.partitions.map((p) => [p.partition, p.outcome, p.rows]), [['ticks_y2024m01', 'dropped', before.rows]]);
    });

    it('audits a skipped run, and a failed one; a drop whose audit entry fails is rolled back', async () => {
      const clock = new ManualClock(NOW);
      const archive = openLocalArchive(join(dir, 'audited'));
      await acquireLease(db, { name: 'retention:ticks', holder: 'another-host', now: NOW, ttlMs: 60_000 });
      const skipped = await runRetention({ db, archive, clock, retentionDays: DAYS, actor: 'skip-test' });
      await releaseLease(db, 'retention:ticks', 'another-host');
      assert.match(skipped.skipped ?? '', /another-host/);
      const [skipEntry] = await listAudit(db, { action: 'retention.run', newestFirst: true, limit: 1 });
      assert.deepEqual([skipEntry?.actor, skipEntry?.details['skipped']], ['skip-test', skipped.skipped]);

      await store(db, simulatedTicks({ calendar, from: '2023-08-01', to: '2023-08-02', ticksPerSecond: 0.02, seed: 11 }));
      const before = await tickPartitionDigest(db, 'ticks_y2023m08');
      await db.exec(`CREATE FUNCTION refuse_partition_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
        CREATE TRIGGER refuse_partition_audit BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.action = 'retention.partition') EXECUTE FUNCTION refuse_partition_audit();`);
      try {
        await assert.rejects(runRetention({ db, archive, clock, retentionDays: DAYS, actor: 'fail-test' }), /audit refused/);
      } finally {
        await db.exec('DROP TRIGGER refuse_partition_audit ON audit_log; DROP FUNCTION refuse_partition_audit();');
      }
      assert.deepEqual(await tickPartitionDigest(db, 'ticks_y2023m08'), before, 'the drop rolled back with its audit entry');
      assert.ok((await tickArchives(db)).every((a) => a.partition !== 'ticks_y2023m08' || a.droppedAt === null));
      const [failEntry] = await listAudit(db, { action: 'retention.run', newestFirst: true, limit: 1 });
      assert.equal(failEntry?.actor, 'fail-test');
      assert.match(String(failEntry?.details['error']), /audit refused/);

      const retried = await runRetention({ db, archive, clock, retentionDays: DAYS, actor: 'test' });
      assert.deepEqual(retried.partitions.map((p) => [p.partition, p.outcome, p.rows]), [['ticks_y2023m08', 'dropped', before.rows]]);
      const [dropEntry] = await listAudit(db, { action: 'retention.partition', entity: 'ticks:ticks_y2023m08', newestFirst: true, limit: 1 });
      assert.equal(dropEntry?.details['outcome'], 'dropped');
    });

    it('migration 014 keeps the rows waiting in the default partition, each month in its own partition', async () => {
      const blank = await target.open({ blank: true });
      try {
        const migrations = await loadMigrations();
        for (const m of migrations.filter((x) => x.version < 14)) await blank.exec(m.sql);
        const ticks = simulatedTicks({ calendar, from: '2023-11-29', to: '2023-12-01', ticksPerSecond: 0.02, seed: 10 });
        await insertTicks(blank, ticks);
        await blank.exec(migrations.find((x) => x.version === 14)?.sql ?? '');
        const placed = await blank.query<{ part: string; n: number }>('SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM ticks GROUP BY 1 ORDER BY 1');
        const inMonth = (m: number) => ticks.filter((t) => new Date(t.time).getUTCMonth() === m).length;
        assert.deepEqual(placed, [{ part: 'ticks_y2023m11', n: inMonth(10) }, { part: 'ticks_y2023m12', n: inMonth(11) }]);
      } finally {
        await blank.close();
      }
    });

    it('keeps a partition whose rows the archive cannot hold exactly (a sub-millisecond time)', async () => {
      await store(db, simulatedTicks({ calendar, from: '2024-02-05', to: '2024-02-05', ticksPerSecond: 0.02, seed: 9 }));
      await db.query(`INSERT INTO ticks (symbol, time, price, bid, ask, received_at, source) VALUES ('USD/COP', '2024-02-05T14:00:00.123456Z', 3950.5, NULL, 3951, '2024-02-05T14:00:00.2Z', 'simulator')`);
      const before = await tickPartitionDigest(db, 'ticks_y2024m02');
      const report = await runRetention({ db, archive: openLocalArchive(join(dir, 'third')), clock: new ManualClock(NOW), retentionDays: DAYS, actor: 'test' });
      assert.deepEqual(report.partitions.map((p) => [p.partition, p.outcome]), [['ticks_y2024m02', 'unverified']]);
      assert.match(report.partitions[0]?.problems.join(' ') ?? '', /checksum/);
      assert.deepEqual(await tickPartitionDigest(db, 'ticks_y2024m02'), before, 'not dropped');
    });
  });
}
