/**
 * `tasa sessions` and `tasa bars` agree on a day's bar count after the live writer stops and
 * restarts mid-session (issue 16, item 10): the sessions table used to be refreshed only by
 * imports and gap fills, so bars written live after the start-up gap fill were missing from it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.ts';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { DurableWriter } from '../../src/ingest/durable-writer.ts';
import { streamBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { sessionRows, utcBounds } from '../../src/store/query-rows.ts';
import { refreshSessions } from '../../src/store/refresh-sessions.ts';
import { databaseTargets } from '../support/test-db.ts';

const calendar = new MarketCalendar();
const DAY = '2025-03-04';
const OPEN = calendar.sessionFor(DAY)!.open;
const logger = pino({ level: 'silent' });

function bar(i: number): Bar {
  return { symbol: 'USD/COP', time: OPEN + i * 300_000, open: 4000, high: 4010, low: 3990, close: 4005, volume: null, tickCount: 10, source: 'simulator', revision: 1, flags: [] };
}

/** One live run: the writer takes the bars, then stops. */
async function liveRun(db: Db, bars: readonly Bar[]): Promise<void> {
  const writer = new DurableWriter({ db, clock: systemClock, logger, calendar, spoolPath: join(mkdtempSync(join(tmpdir(), 'spool-')), 'spool.jsonl') });
  for (const b of bars) writer.addBar(b, systemClock.now());
  await writer.close();
}

/** What `tasa bars` prints for the day: the stored bars of its Bogota bounds. */
async function barsOfDay(db: Db): Promise<number> {
  const { from, to } = utcBounds(calendar, { from: DAY, to: DAY });
  let n = 0;
  for await (const page of streamBars(db, 'USD/COP', from, to)) n += page.length;
  return n;
}

for (const target of databaseTargets()) {
  describe(`sessions and bars agree after a stop on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('counts the bars written live before and after a restart (and its start-up gap fill)', async () => {
      await liveRun(db, [bar(0), bar(1)]);
      // The restart's data check refreshes the day's sessions, then the live writer goes on.
      await refreshSessions(db, calendar, 'USD/COP', DAY, DAY);
      await liveRun(db, [bar(2)]);
      const [session] = await sessionRows(db, calendar, 'USD/COP', { from: DAY, to: DAY });
      assert.equal(await barsOfDay(db), 3);
      assert.equal(session?.present, 3);
      assert.equal(session?.missing, 57);
    });
  });
}
