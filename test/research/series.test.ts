import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAR_MS } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { TasaError } from '../../src/errors.ts';
import { sessionRanges, toSeries } from '../../src/research/series.ts';
import { toBars } from './synthetic-series.ts';

const calendar = new MarketCalendar();
const at = (iso: string): number => Date.parse(iso);

function bar(iso: string, close = 4000) {
  return toBars([{ time: at(iso), session: '', barOfSession: 0, open: close, high: close, low: close, close }])[0]!;
}

describe('toSeries', () => {
  it('keeps session bars only, sorted, with the session date and the slot from the calendar open', () => {
    const series = toSeries(
      [
        bar('2024-01-03T17:55:00Z'), // Wed 12:55 Bogota: last slot
        bar('2024-01-03T13:00:00Z'), // Wed 08:00: first slot
        bar('2024-01-03T12:55:00Z'), // 07:55: before the open
        bar('2024-01-03T18:00:00Z'), // 13:00: the close, outside
        bar('2024-01-06T14:00:00Z'), // Saturday
        bar('2024-01-08T14:00:00Z'), // Reyes Magos, a Colombian holiday
        bar('2024-01-09T13:10:00Z'), // Tue, third slot
      ],
      calendar,
    );
    assert.deepEqual(
      series.map((b) => [new Date(b.time).toISOString(), b.session, b.barOfSession]),
      [
        ['2024-01-03T13:00:00.000Z', '2024-01-03', 1],
        ['2024-01-03T17:55:00.000Z', '2024-01-03', 60],
        ['2024-01-09T13:10:00.000Z', '2024-01-09', 3],
      ],
    );
  });

  it('rejects duplicates, mixed symbols, off-grid times and impossible prices', () => {
    assert.throws(() => toSeries([bar('2024-01-03T13:00:00Z'), bar('2024-01-03T13:00:00Z')], calendar), TasaError);
    assert.throws(() => toSeries([bar('2024-01-03T13:00:00Z'), { ...bar('2024-01-03T13:05:00Z'), symbol: 'EUR/USD' }], calendar), TasaError);
    assert.throws(() => toSeries([{ ...bar('2024-01-03T13:00:00Z'), time: at('2024-01-03T13:00:00Z') + BAR_MS / 2 }], calendar), TasaError);
    assert.throws(() => toSeries([{ ...bar('2024-01-03T13:00:00Z'), low: 4100 }], calendar), TasaError);
  });
});

describe('sessionRanges', () => {
  it('groups contiguous rows by session and rejects a session seen twice', () => {
    assert.deepEqual(sessionRanges([{ session: 'a' }, { session: 'a' }, { session: 'b' }]), [
      { session: 'a', start: 0, end: 2 },
      { session: 'b', start: 2, end: 3 },
    ]);
    assert.throws(() => sessionRanges([{ session: 'a' }, { session: 'b' }, { session: 'a' }]), TasaError);
  });
});
