/**
 * `tasa paper replay` parity on a few months of the real USD/COP history (flat bars, gaps, short
 * sessions): sma-crossover's paper trades equal the L6 backtest's one for one.
 * Skips when ../shared/data is absent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { runPaperReplay } from '../../src/execution/paper-replay.ts';
import { createLogger } from '../../src/log.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import { realBars, REAL_FILE_SKIP } from '../support/real-history.ts';
import { databaseTargets } from '../support/test-db.ts';

/** A month of warm-up, then the replayed span. */
const STORED_FROM = Date.parse('2023-09-01T00:00:00Z');
const STORED_TO = Date.parse('2024-01-01T00:00:00Z');

describe('paper replay on the real history', { skip: REAL_FILE_SKIP }, () => {
  it('gives sma-crossover trades identical to the backtest over 2023-10..2023-12', async () => {
    const calendar = new MarketCalendar();
    const bars = await realBars(calendar, STORED_FROM, STORED_TO);
    const db = await databaseTargets()[0]!.open();
    try {
      await upsertBars(db, bars);
      const result = await runPaperReplay({ db, calendar, logger: createLogger('silent'), symbol: 'USD/COP', policyId: 'sma-crossover', from: '2023-10-02', to: '2023-12-29' });
      assert.ok(result.bars > 2_500 && result.expected.length > 50, `${result.bars} bars, ${result.expected.length} trades`);
      assert.deepEqual(result.report, { total: result.expected.length, matched: result.expected.length, firstDifference: null });
      process.stderr.write(`real replay: ${result.bars} bars, ${result.sessions} sessions, ${result.expected.length} trades in ${Math.round(result.replayMs)} ms (${Math.round(result.bars / (result.replayMs / 1000))} bars/s)\n`);
    } finally {
      await db.close();
    }
  });
});
