import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { findGaps } from '../../src/domain/gaps.ts';
import { sessionQuality } from '../../src/domain/session-quality.ts';

const calendar = new MarketCalendar();
const session = calendar.sessionFor('2024-01-02');

function bar(time: number, flags: Bar['flags'] = []): Bar {
  return { symbol: 'USD/COP', time, open: 1, high: 1, low: 1, close: 1, volume: 0, tickCount: null, source: 'import', revision: 1, flags };
}

describe('sessionQuality', () => {
  it('counts present, missing, flat share and repairs against the 60-bar grid', () => {
    assert.ok(session);
    const grid = calendar.barGrid(session);
    const bars = [...grid.slice(0, 40).map((t) => bar(t, ['flat'])), ...grid.slice(40, 50).map((t) => bar(t, ['repaired'])), bar(session.close)];
    const q = sessionQuality('USD/COP', session, bars);
    assert.deepEqual(q, { symbol: 'USD/COP', date: '2024-01-02', expected: 60, present: 50, missing: 10, flatShare: 0.8, repaired: 10, status: 'partial' });
  });

  it('says complete and missing', () => {
    assert.ok(session);
    const grid = calendar.barGrid(session);
    assert.equal(sessionQuality('USD/COP', session, grid.map((t) => bar(t))).status, 'complete');
    const none = sessionQuality('USD/COP', session, []);
    assert.equal(none.status, 'missing');
    assert.equal(none.flatShare, null);
    assert.equal(none.missing, 60);
  });
});

describe('findGaps', () => {
  it('merges consecutive missing slots into intervals with an exclusive end', () => {
    assert.ok(session);
    const grid = calendar.barGrid(session);
    const present = new Set(grid.filter((_, i) => !(i < 3 || (i >= 10 && i < 12) || i === 59)));
    const gaps = findGaps('2024-01-02', grid, present);
    assert.deepEqual(
      gaps.map((g) => [new Date(g.from).toISOString(), new Date(g.to).toISOString(), g.bars]),
      [
        ['2024-01-02T13:00:00.000Z', '2024-01-02T13:15:00.000Z', 3],
        ['2024-01-02T13:50:00.000Z', '2024-01-02T14:00:00.000Z', 2],
        ['2024-01-02T17:55:00.000Z', '2024-01-02T18:00:00.000Z', 1],
      ],
    );
  });
});
