/**
 * Takeover between two ingest services on the simulator: when another process holds the lease
 * under a newer epoch (as after the active one stalled past its lease), the old holder's next
 * write is refused by the fence, and it stops: it closes its feed and goes back to READY, a
 * standby. The new holder streams and writes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMemoryBus, type Bus } from '../../src/bus/index.ts';
import { ScaledClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { TwelveDataStream } from '../../src/feeds/twelvedata/ws-client.ts';
import { createRestSource } from '../../src/jobs/history-source.ts';
import { IngestService } from '../../src/ingest/ingest-service.ts';
import type { Db } from '../../src/store/db.ts';
import { acquireLease, leaseRows } from '../../src/store/leases-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';

const calendar = new MarketCalendar();
const session = calendar.sessionFor('2026-03-05');
const SYMBOL = 'USD/COP';
const LEASE = `ingest:${SYMBOL}`;
const logger = pino({ level: 'silent' });

for (const target of databaseTargets()) {
  describe(`ingest takeover on ${target.name}`, { timeout: 120_000 }, () => {
    let db: Db;
    let bus: Bus;
    let sim: RunningSimulator;
    let clock: ScaledClock;
    before(async () => {
      assert.ok(session);
      db = await target.open();
      clock = new ScaledClock(session.open + 30 * 60_000, 60);
      bus = createMemoryBus({ clock });
      sim = await startSimulator({ clock, seed: 5, ticksPerSecond: 2, logger });
    });
    after(async () => {
      await sim?.close();
      await bus?.close();
      await db?.close();
    });

    function service(holder: string, leaseTtlMs: number): IngestService {
      const rest = createRestSource({ db, clock, keys: [`key-${holder}`], baseUrl: sim.restUrl, simulated: true, plan: { perMinute: 1000, perDay: 100_000 }, logger });
      return new IngestService({
        db,
        bus,
        clock,
        calendar,
        logger,
        symbols: [SYMBOL],
        holder,
        leaseTtlMs,
        spoolPath: join(mkdtempSync(join(tmpdir(), `takeover-${holder}-`)), 'spool.jsonl'),
        readiness: { waitForL0Ms: 0 },
        openFeed: (symbols) => new TwelveDataStream({ url: sim.wsUrl, keys: rest.pool, symbols, clock, logger, source: 'simulator', shouldReconnect: () => calendar.isMarketOpen(clock.now()) }),
      });
    }

    it('the old holder\'s writes are refused once another holds a newer epoch, and it steps down', async () => {
      // a renews rarely (every 100 simulated s): the fence, not the renewal, must catch the takeover.
      const a = service('a', 300_000);
      a.start();
      try {
        await waitFor(() => a.status().writer.ticksWritten > 20, 'a writes');
        assert.equal(a.lifecycle.state, 'ACTIVE');
        assert.deepEqual(a.status().leaseEpochs, { [SYMBOL]: 1 });

        // a stalls past its lease (as if paused); b takes the expired lease.
        const [held] = await leaseRows(db, [LEASE]);
        assert.ok(held);
        assert.equal(await acquireLease(db, { name: LEASE, holder: 'b', now: held.expiresAt, ttlMs: 30_000 }), 2);
        const b = service('b', 30_000);
        b.start();
        try {
          await waitFor(() => a.status().writer.fencedOut > 0, 'a refused by the fence');
          await waitFor(() => a.lifecycle.state === 'READY', 'a steps down');
          assert.ok(a.lifecycle.transitions().some((t) => t.from === 'ACTIVE' && t.to === 'READY'));
          assert.deepEqual(a.status().leases, [], 'a holds nothing');
          await waitFor(() => b.lifecycle.state === 'ACTIVE' && b.status().writer.ticksWritten > 10, 'b streams and writes');
          assert.equal(b.status().writer.fencedOut, 0);
          const [lease] = await leaseRows(db, [LEASE]);
          assert.deepEqual([lease?.holder, lease?.epoch], ['b', 2]);
          const written = a.status().writer.ticksWritten;
          await new Promise((r) => setTimeout(r, 1000));
          assert.equal(a.status().writer.ticksWritten, written, 'a writes nothing more');
        } finally {
          await b.stop();
        }
      } finally {
        await a.stop();
      }
    });
  });
}
