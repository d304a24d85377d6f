/**
 * Walk-forward runs on the record: starting, completing and failing a run are audited; a fold
 * result is stored only under the latest claim (a job pg-boss ran again cannot write twice); a
 * running run whose heartbeat stopped is failed as stale, with its reason, and audited.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { TasaError } from '../../src/errors.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import type { WalkForwardRunConfig } from '../../src/pipeline/walk-forward-fold.ts';
import { failStaleRuns, RUN_HEARTBEAT_MS, runWalkForward, STALE_RUN_MS } from '../../src/pipeline/walk-forward-run.ts';
import { planFolds } from '../../src/research/walk-forward.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { beatWalkForwardRun, claimFold, finishFold, finishWalkForwardRun, getWalkForwardRun, insertWalkForwardRun, listFolds, listWalkForwardRuns } from '../../src/store/walk-forward-repo.ts';
import { insertCompletedWalkForwardRun, walkForwardReportFixture } from '../support/walk-forward-fixture.ts';
import { databaseTargets } from '../support/test-db.ts';

const T0 = Date.UTC(2025, 6, 1, 12, 0);

function runInput(createdAt: number, plans: number) {
  return { symbol: 'USD/COP', config: {}, fingerprint: `fp-${createdAt}`, datasetHash: null, researchHash: null, plans: Array.from({ length: plans }, () => ({})), createdAt, actor: 'tester' };
}

async function auditOf(db: Db, runId: number): Promise<Array<{ action: string; actor: string; details: Record<string, unknown> }>> {
  const entries = await listAudit(db, { entity: `walk-forward:${runId}`, limit: 10 });
  return entries.map((e) => ({ action: e.action, actor: e.actor, details: e.details }));
}

for (const target of databaseTargets()) {
  describe(`walk-forward liveness and audit on ${target.name}`, () => {
    let db: Db;
    let dir: string;
    before(async () => {
      db = await target.open();
      dir = await mkdtemp(join(tmpdir(), 'tasa-wf-live-'));
    });
    after(async () => {
      await db?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('audits the start and the failure of a run, with its actor', async () => {
      const clock = new ManualClock(T0);
      const sessions = Array.from({ length: 12 }, (_, i) => `2025-06-${String(i + 2).padStart(2, '0')}`);
      const folds = planFolds(sessions, { enabled: true, mode: 'expanding', folds: 2, trainSessions: 4, validationSessions: 2, testSessions: 3, purgeSessions: 0 }, 0);
      const config = { symbol: 'USD/COP', costs: { spreadBps: 1, feeBps: 0 }, walkForward: {} } as unknown as WalkForwardRunConfig;
      const failing = { runFolds: () => Promise.reject(new Error('every worker is gone')) };
      const deps = { db, archive: openLocalArchive(dir), clock, calendar: new MarketCalendar() };
      await assert.rejects(runWalkForward({ ...deps, codeVersion: { version: '0.1.0', commit: 'f'.repeat(40) }, config, folds, researchHash: null, executor: failing, actor: 'alice' }), /every worker is gone/);
      const [run] = await listWalkForwardRuns(db, { limit: 1 });
      assert.equal(run?.status, 'failed');
      const audit = await auditOf(db, run.id);
      assert.deepEqual(
        audit.map((a) => [a.action, a.actor]),
        [
          ['walk-forward.start', 'alice'],
          ['walk-forward.fail', 'alice'],
        ],
      );
      assert.equal(audit[0]!.details['folds'], 2);
      assert.equal(audit[1]!.details['error'], 'every worker is gone');
    });

    it('audits a completed run with its verdict', async () => {
      const report = walkForwardReportFixture();
      const id = await insertCompletedWalkForwardRun(db, report, T0);
      const audit = await auditOf(db, id);
      assert.deepEqual(
        audit.map((a) => a.action),
        ['walk-forward.start', 'walk-forward.complete'],
      );
      assert.equal(audit[1]!.details['verdict'], report.verdict);
    });

    it('stores a fold result only under the latest claim, once', async () => {
      const runId = await insertWalkForwardRun(db, runInput(T0, 1));
      const first = await claimFold(db, runId, 0, 'worker-a', T0);
      const second = await claimFold(db, runId, 0, 'worker-b', T0 + 1000); // the expired job, run again
      assert.ok(first !== null && second !== null && second.epoch > first.epoch);
      assert.equal(await finishFold(db, runId, 0, first.epoch, { result: { by: 'a' } }, T0 + 2000), false, 'the superseded claim writes nothing');
      assert.equal((await listFolds(db, runId))[0]!.status, 'running');
      assert.equal(await finishFold(db, runId, 0, second.epoch, { result: { by: 'b' } }, T0 + 3000), true);
      assert.equal(await finishFold(db, runId, 0, second.epoch, { error: 'late' }, T0 + 4000), false, 'a finished fold is not written again');
      const [fold] = await listFolds(db, runId);
      assert.deepEqual([fold!.status, fold!.result, fold!.worker], ['completed', { by: 'b' }, 'worker-b']);
      assert.equal(await claimFold(db, runId, 0, 'worker-c', T0 + 5000), null);
    });

    it('fails a running run whose heartbeat stopped (by the database clock), and audits it; a beating run stays running', async () => {
      const base = T0 + 24 * 3_600_000;
      const dead = await insertWalkForwardRun(db, runInput(base, 2));
      const alive = await insertWalkForwardRun(db, runInput(base + 1, 2));
      // The process clocks differ wildly (a simulated clock years ahead): staleness is judged by the database's time.
      const clock = new ManualClock(base + 365 * 24 * 3_600_000);
      const early = await failStaleRuns({ db, clock });
      assert.ok(!early.includes(dead) && !early.includes(alive), 'neither is stale yet');
      // The dead run's process last beat just over STALE_RUN_MS ago; the live one beats now.
      await db.query(`UPDATE walk_forward_runs SET heartbeat_at = now() - $2::float8 * interval '1 millisecond' WHERE id = $1`, [dead, STALE_RUN_MS + RUN_HEARTBEAT_MS]);
      await db.query(`UPDATE walk_forward_runs SET heartbeat_at = now() - $2::float8 * interval '1 millisecond' WHERE id = $1`, [alive, STALE_RUN_MS + RUN_HEARTBEAT_MS]);
      await beatWalkForwardRun(db, alive);
      const failed = await failStaleRuns({ db, clock });
      assert.ok(failed.includes(dead) && !failed.includes(alive), `failed ${failed.join(', ')}`);
      const run = await getWalkForwardRun(db, dead);
      assert.equal(run?.status, 'failed');
      assert.match(run?.error ?? '', /^stale: the process that queued its folds stopped/);
      assert.equal((await getWalkForwardRun(db, alive))?.status, 'running');
      const audit = await auditOf(db, dead);
      assert.deepEqual(
        audit.map((a) => [a.action, a.actor]),
        [
          ['walk-forward.start', 'tester'],
          ['walk-forward.fail', 'system'],
        ],
      );
    });

    it('keeps a run failed as stale failed: its late outcome is refused with a conflict and not audited', async () => {
      const id = await insertWalkForwardRun(db, runInput(T0 + 48 * 3_600_000, 1));
      await db.query(`UPDATE walk_forward_runs SET heartbeat_at = now() - interval '1 day' WHERE id = $1`, [id]);
      assert.ok((await failStaleRuns({ db, clock: new ManualClock(T0) })).includes(id));
      await assert.rejects(
        finishWalkForwardRun(db, id, { report: { verdict: 'late' }, reportHtml: '<p>late</p>' }, T0, 'tester'),
        (err: unknown) => err instanceof TasaError && err.code === 'conflict' && /is failed, no longer running/.test(err.message),
      );
      assert.equal((await getWalkForwardRun(db, id))?.status, 'failed');
      assert.deepEqual((await auditOf(db, id)).map((a) => a.action), ['walk-forward.start', 'walk-forward.fail']);
    });
  });
}
