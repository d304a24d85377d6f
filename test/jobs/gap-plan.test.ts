import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAR_MS } from '../../src/domain/bar.ts';
import { MINUTE_MS } from '../../src/domain/time.ts';
import { recentSessions } from '../../src/domain/gaps.ts';
import { dueSlots } from '../../src/domain/gaps.ts';
import { gapSlots, MAX_SLOTS_PER_REQUEST, missingGaps, reconcileSpan, requestWindows } from '../../src/jobs/gap-plan.ts';
import { calendar, sessionOf, sessionSlotsExcept } from './support/jobs-fixtures.ts';

const HOUR = 60 * MINUTE_MS;
const iso = (t: number) => new Date(t).toISOString();

describe('gap planning', () => {
  const tuesday = sessionOf('2024-03-05');
  const wednesday = sessionOf('2024-03-06');

  it('finds the runs of grid slots without a stored bar, session by session', () => {
    const stored = new Set([...sessionSlotsExcept(tuesday, [0, 1, 2, 30, 59]), ...sessionSlotsExcept(wednesday, [])]);
    const gaps = missingGaps(calendar, [tuesday, wednesday], stored, wednesday.close);
    assert.deepEqual(
      gaps.map((g) => [g.date, iso(g.from), iso(g.to), g.bars]),
      [
        ['2024-03-05', '2024-03-05T13:00:00.000Z', '2024-03-05T13:15:00.000Z', 3],
        ['2024-03-05', '2024-03-05T15:30:00.000Z', '2024-03-05T15:35:00.000Z', 1],
        ['2024-03-05', '2024-03-05T17:55:00.000Z', '2024-03-05T18:00:00.000Z', 1],
      ],
    );
    assert.equal(gapSlots(gaps).length, 5);
  });

  it('counts only slots whose bar has ended by the due time', () => {
    // 09:03 Bogota: the 08:00..08:55 bars have ended, 09:00's has not.
    const due = dueSlots(calendar, tuesday, tuesday.open + HOUR + 3 * MINUTE_MS);
    assert.equal(due.length, 12);
    assert.equal(iso(due.at(-1) ?? 0), '2024-03-05T13:55:00.000Z');
    assert.deepEqual(missingGaps(calendar, [tuesday], new Set(), tuesday.open).length, 0);
  });

  it('merges gaps into one request while the window stays one page', () => {
    const nothing = new Set<number>();
    const week = calendar.sessionsBetween('2024-03-04', '2024-03-08');
    const oneWeek = requestWindows(missingGaps(calendar, week, nothing, Infinity));
    assert.equal(oneWeek.length, 1);
    assert.deepEqual([iso(oneWeek[0]?.from ?? 0), iso(oneWeek[0]?.to ?? 0), oneWeek[0]?.missing], ['2024-03-04T13:00:00.000Z', '2024-03-08T18:00:00.000Z', 300]);

    const twoMonths = calendar.sessionsBetween('2024-01-02', '2024-02-29');
    const windows = requestWindows(missingGaps(calendar, twoMonths, nothing, Infinity));
    assert.ok(windows.length > 1);
    for (const w of windows) assert.ok((w.to - w.from) / BAR_MS <= MAX_SLOTS_PER_REQUEST);
    assert.equal(
      windows.reduce((n, w) => n + w.missing, 0),
      twoMonths.length * 60,
    );
  });

  it('starts a new window when the next gap would make it too long', () => {
    const gaps = missingGaps(calendar, [tuesday, wednesday], new Set(), Infinity);
    assert.equal(requestWindows(gaps, 288 + 60).length, 1);
    assert.equal(requestWindows(gaps, 200).length, 2);
  });

  it('fetches a closed session to reconcile whole, in the same window as the gaps inside and around it', () => {
    const gaps = missingGaps(calendar, [tuesday, wednesday], new Set(sessionSlotsExcept(tuesday, [30]).concat(sessionSlotsExcept(wednesday, [5]))), Infinity);
    const [window, ...more] = requestWindows(gaps, MAX_SLOTS_PER_REQUEST, [reconcileSpan(tuesday)]);
    assert.equal(more.length, 0);
    assert.deepEqual([iso(window?.from ?? 0), iso(window?.to ?? 0), window?.missing], ['2024-03-05T13:00:00.000Z', '2024-03-06T13:30:00.000Z', 2]);
    assert.deepEqual(window?.reconcile, [{ date: '2024-03-05', from: tuesday.open, to: tuesday.close }]);
    assert.deepEqual(window?.gaps.map((g) => g.date), ['2024-03-05', '2024-03-06']);
    // Alone, a reconciled session is one window of its 60 slots; never merged past the page size.
    assert.deepEqual(requestWindows([], MAX_SLOTS_PER_REQUEST, [reconcileSpan(wednesday)]).map((w) => [(w.to - w.from) / BAR_MS, w.missing]), [[60, 0]]);
    assert.deepEqual(requestWindows(gaps, 60, [reconcileSpan(tuesday)]).map((w) => [w.gaps.length, w.reconcile.length]), [[1, 1], [1, 0]]);
  });
});


describe('recent sessions for the failsafe', () => {
  it('takes the session in progress once one of its bars is due, and the ones before it', () => {
    const tuesdayMorning = sessionOf('2024-03-05').open + HOUR;
    assert.deepEqual(
      recentSessions(calendar, tuesdayMorning, 3).map((s) => s.date),
      ['2024-03-01', '2024-03-04', '2024-03-05'],
    );
    assert.deepEqual(
      recentSessions(calendar, sessionOf('2024-03-05').open + 2 * MINUTE_MS, 2).map((s) => s.date),
      ['2024-03-01', '2024-03-04'],
    );
  });

  it('skips weekends and holidays', () => {
    // Tuesday 2024-03-26, the day after San José.
    const tuesday = sessionOf('2024-03-26').close + HOUR;
    assert.deepEqual(
      recentSessions(calendar, tuesday, 3).map((s) => s.date),
      ['2024-03-21', '2024-03-22', '2024-03-26'],
    );
  });
});
