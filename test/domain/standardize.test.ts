import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { ParsedRawBar } from '../../src/domain/raw-bar.ts';
import { standardizeBars } from '../../src/domain/standardize.ts';
import { shippedInstrument, type SymbolCode } from '../../src/domain/symbol.ts';

const calendar = new MarketCalendar();
const MIN = 60_000;
let line = 0;

function row(iso: string, close: number, extra: Partial<ParsedRawBar> = {}): ParsedRawBar {
  return { lineNo: ++line, time: Date.parse(iso), open: close, high: close + 1, low: close - 1, close, volume: 0, sourceLabel: 'twelvedata', ...extra };
}

/** `count` consecutive 5-minute rows from `startIso`, closes starting at `price` and rising by 1. */
function block(startIso: string, count: number, price: number, extra: Partial<ParsedRawBar> = {}): ParsedRawBar[] {
  const start = Date.parse(startIso);
  return Array.from({ length: count }, (_, i) => row(new Date(start + i * 5 * MIN).toISOString(), price + i, extra));
}

describe('standardizeBars', () => {
  it('keeps session bars, drops off-session and non-trading-day rows with counts', () => {
    const rows = [
      ...block('2024-01-02T13:00:00Z', 60, 3900),
      row('2024-01-02T18:00:00Z', 3950), // 13:00 Bogota: session is over
      row('2024-01-02T12:55:00Z', 3890), // 07:55 Bogota: before the open, and not a mislabelled block
      row('2024-01-06T14:00:00Z', 3900), // Saturday
      row('2024-01-08T14:00:00Z', 3900), // Reyes Magos observed (Monday)
    ];
    const r = standardizeBars(rows, 'USD/COP', calendar);
    assert.equal(r.bars.length, 60);
    assert.equal(r.bars[0]?.time, Date.parse('2024-01-02T13:00:00Z'));
    assert.equal(r.bars.at(-1)?.time, Date.parse('2024-01-02T17:55:00Z'));
    assert.deepEqual(r.counts.dropped, { non_trading_day: 2, off_session: 2, off_grid: 0, duplicate: 0, mislabelled_duplicate: 0 });
    assert.equal(r.counts.input, 64);
    assert.equal(r.counts.standardized, 60);
    assert.equal(r.counts.repaired, 0);
  });

  it('on a day with both versions keeps the correctly labelled bars and fills only the missing slots from the shifted copy', () => {
    const correct = block('2024-01-03T13:00:00Z', 10, 3900, { high: 5000 });
    const mislabelled = block('2024-01-03T08:00:00Z', 12, 3900); // same bars, Bogota wall clock labelled UTC
    const r = standardizeBars([...mislabelled, ...correct], 'USD/COP', calendar);
    assert.equal(r.bars.length, 12);
    assert.equal(r.counts.dropped.mislabelled_duplicate, 10);
    assert.equal(r.counts.repaired, 2);
    const kept = r.bars.filter((b) => !b.flags.includes('repaired'));
    assert.equal(kept.length, 10);
    assert.ok(kept.every((b) => b.high === 5000), 'the correctly labelled rows win');
    assert.deepEqual(
      r.bars.filter((b) => b.flags.includes('repaired')).map((b) => new Date(b.time).toISOString()),
      ['2024-01-03T13:50:00.000Z', '2024-01-03T13:55:00.000Z'],
    );
    assert.deepEqual(r.repairs, [{ date: '2024-01-03', shiftedBars: 2, droppedCopies: 10, evidence: 'matching_prices' }]);
  });

  it('shifts a session that exists only in the mislabelled form', () => {
    const r = standardizeBars(block('2024-01-04T08:00:00Z', 60, 3900), 'USD/COP', calendar);
    assert.equal(r.bars.length, 60);
    assert.equal(r.bars[0]?.time, Date.parse('2024-01-04T13:00:00Z'));
    assert.ok(r.bars.every((b) => b.flags.includes('repaired')));
    assert.deepEqual(r.repairs, [{ date: '2024-01-04', shiftedBars: 60, droppedCopies: 0, evidence: 'session_shape' }]);
  });

  it('treats early rows whose prices do not match the session as overnight prints, not a mislabelled copy', () => {
    const session = block('2024-01-05T13:00:00Z', 60, 3900);
    const overnight = block('2024-01-05T08:00:00Z', 12, 4100);
    const r = standardizeBars([...overnight, ...session], 'USD/COP', calendar);
    assert.equal(r.bars.length, 60);
    assert.equal(r.counts.repaired, 0);
    assert.equal(r.counts.dropped.off_session, 12);
    assert.deepEqual(r.repairs, []);
  });

  it('does not shift early rows that are part of a 24-hour quote stream', () => {
    const stream = block('2024-01-09T00:00:00Z', 13 * 12, 3900); // 00:00Z..12:55Z, no session rows
    const r = standardizeBars(stream, 'USD/COP', calendar);
    assert.equal(r.bars.length, 0);
    assert.equal(r.counts.dropped.off_session, 156);
  });

  it('parses rows with any offset into the same UTC slot and dedupes them', () => {
    const a = row('2024-01-10T08:00:00-05:00', 3900);
    const b = row('2024-01-10T13:00:00Z', 3900);
    const r = standardizeBars([a, b], 'USD/COP', calendar);
    assert.equal(r.bars.length, 1);
    assert.equal(r.counts.dropped.duplicate, 1);
  });

  it('drops rows off the 5-minute grid and flags flat and backfilled bars', () => {
    const offGrid = row('2024-01-10T13:02:00Z', 3900);
    const flat = { ...row('2024-01-10T13:05:00Z', 3900), high: 3900, low: 3900, sourceLabel: 'twelvedata_backfill' };
    const r = standardizeBars([offGrid, flat], 'USD/COP', calendar);
    assert.equal(r.counts.dropped.off_grid, 1);
    assert.deepEqual(r.bars[0]?.flags, ['flat', 'backfilled']);
  });

  it('is deterministic: the same rows in another order give the same bars', () => {
    const rows = [...block('2024-01-11T08:00:00Z', 20, 3900), ...block('2024-01-11T13:00:00Z', 5, 3900)];
    const forward = standardizeBars(rows, 'USD/COP', calendar);
    const backward = standardizeBars([...rows].reverse(), 'USD/COP', calendar);
    assert.deepEqual(
      backward.bars.map((b) => [b.time, b.close, b.flags]),
      forward.bars.map((b) => [b.time, b.close, b.flags]),
    );
  });
});

describe('standardizeBars: a mislabelled session that shares its date with off-session rows', () => {
  const iso = (t: number) => new Date(t).toISOString();

  it('shifts the session (repaired, audited) and drops the overnight rows as off-session', () => {
    const session = block('2024-01-16T08:00:00Z', 60, 3900); // Bogota wall clock labelled UTC
    const lateNight = block('2024-01-16T00:00:00Z', 36, 3880); // 00:00-02:55Z
    const evening = block('2024-01-16T19:00:00Z', 60, 3920); // 19:00-23:55Z
    const rows = [...lateNight, ...session, ...evening];
    const r = standardizeBars(rows, 'USD/COP', calendar);
    assert.equal(r.bars.length, 60);
    assert.equal(iso(r.bars[0]?.time ?? 0), '2024-01-16T13:00:00.000Z');
    assert.equal(iso(r.bars.at(-1)?.time ?? 0), '2024-01-16T17:55:00.000Z');
    assert.deepEqual(r.bars.map((b) => b.close), session.map((s) => s.close));
    assert.ok(r.bars.every((b) => b.flags.includes('repaired')));
    assert.equal(r.counts.repaired, 60);
    assert.equal(r.counts.dropped.off_session, 96);
    assert.deepEqual(r.repairs, [{ date: '2024-01-16', shiftedBars: 60, droppedCopies: 0, evidence: 'session_shape' }]);
    for (const s of session) assert.deepEqual(r.outcomes.get(s), { kind: 'kept', repaired: true });
    for (const o of [...lateNight, ...evening]) assert.deepEqual(r.outcomes.get(o), { kind: 'dropped', reason: 'off_session' });
  });

  it('repairs a partial mislabelled session with overnight rows up to two hours before it', () => {
    const session = block('2024-01-17T08:30:00Z', 40, 3900);
    const overnight = [...block('2024-01-17T00:00:00Z', 72, 3880), ...block('2024-01-17T20:00:00Z', 24, 3920)]; // up to 05:55Z
    const r = standardizeBars([...overnight, ...session], 'USD/COP', calendar);
    assert.equal(r.counts.repaired, 40);
    assert.equal(iso(r.bars[0]?.time ?? 0), '2024-01-17T13:30:00.000Z');
    assert.equal(r.counts.dropped.off_session, 96);
  });

  it('does not shift a 24-hour stream: it prints in the true session window', () => {
    const stream = block('2024-01-18T00:00:00Z', 288, 3900);
    const r = standardizeBars(stream, 'USD/COP', calendar);
    assert.equal(r.counts.repaired, 0);
    assert.equal(r.bars.length, 60);
    assert.ok(r.bars.every((b) => !b.flags.includes('repaired')));
    assert.equal(r.counts.dropped.off_session, 228);
  });

  it('does not shift a stream that runs into the wall-clock window without an edge, even with the session window empty', () => {
    const stream = [...block('2024-01-19T04:00:00Z', 108, 3900), ...block('2024-01-19T19:00:00Z', 24, 3950)]; // 04:00-12:55Z, evening
    const r = standardizeBars(stream, 'USD/COP', calendar);
    assert.equal(r.bars.length, 0);
    assert.equal(r.counts.dropped.off_session, 132);
    assert.deepEqual(r.repairs, []);
  });

  it('gives every row one outcome, and the outcomes add up to the counts', () => {
    const rows = [
      ...block('2024-01-16T08:00:00Z', 60, 3900),
      ...block('2024-01-16T20:00:00Z', 12, 3900),
      ...block('2024-01-16T13:00:00Z', 3, 3900), // correct copies of the first three bars
      row('2024-01-16T13:00:00Z', 3999), // a conflicting duplicate of a correct bar
      row('2024-01-16T13:01:00Z', 3900), // off the grid
      row('2024-01-20T14:00:00Z', 3900), // Saturday
    ];
    const r = standardizeBars(rows, 'USD/COP', calendar);
    assert.equal(r.outcomes.size, rows.length);
    const tally = new Map<string, number>();
    for (const o of r.outcomes.values()) {
      const key = o.kind === 'kept' ? (o.repaired ? 'repaired' : 'kept') : o.reason;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    assert.equal((tally.get('kept') ?? 0) + (tally.get('repaired') ?? 0), r.counts.standardized);
    assert.equal(tally.get('repaired'), r.counts.repaired);
    for (const [reason, count] of Object.entries(r.counts.dropped)) assert.equal(tally.get(reason) ?? 0, count, reason);
    assert.deepEqual(Object.fromEntries(tally), { kept: 3, repaired: 57, mislabelled_duplicate: 3, off_session: 12, duplicate: 1, off_grid: 1, non_trading_day: 1 });
    const conflict = rows[75];
    const outcome = conflict === undefined ? undefined : r.outcomes.get(conflict);
    assert.ok(outcome?.kind === 'dropped' && outcome.keptRow === rows[72], 'the duplicate names the row that holds the slot');
  });
});

describe('standardizeBars: instruments whose sessions do not sit inside one UTC date', () => {
  /** `count` 5-minute rows from `startIso` inside the instrument's price band, walking a little around its middle. */
  function bandBlock(symbol: SymbolCode, startIso: string, count: number): ParsedRawBar[] {
    const { min, max } = shippedInstrument(symbol).priceBand;
    const mid = (min + max) / 2;
    const step = (max - min) / 10_000;
    const start = Date.parse(startIso);
    return Array.from({ length: count }, (_, i) => {
      const close = mid + ((i % 20) - 10) * step;
      return { lineNo: ++line, time: start + i * 5 * MIN, open: close, high: close + step, low: close - step, close, volume: 0, sourceLabel: 'twelvedata' };
    });
  }

  it('keeps an EUR/USD stream whole across the Sunday open and the 21:00Z daily boundary', () => {
    const eurusd = new MarketCalendar({}, shippedInstrument('EUR/USD'));
    // Summer (EDT): Monday 2024-06-03's session opens Sunday 17:00 New York = 21:00Z, closes Monday 21:00Z.
    const beforeOpen = bandBlock('EUR/USD', '2024-06-02T20:00:00Z', 12); // Sunday 16:00-16:55 New York: no session
    const stream = bandBlock('EUR/USD', '2024-06-02T21:00:00Z', 360); // to Tuesday 02:55Z, across Monday's 21:00Z close
    const r = standardizeBars([...beforeOpen, ...stream], 'EUR/USD', eurusd);
    assert.equal(r.bars.length, 360);
    assert.deepEqual(
      r.bars.map((b) => b.time),
      stream.map((s) => s.time),
    );
    assert.equal(r.counts.repaired, 0);
    assert.deepEqual(r.repairs, []);
    assert.deepEqual(r.counts.dropped, { non_trading_day: 12, off_session: 0, off_grid: 0, duplicate: 0, mislabelled_duplicate: 0 });
    const sundayEvening = stream.filter((s) => s.time < Date.parse('2024-06-03T00:00:00Z'));
    assert.equal(sundayEvening.length, 36);
    for (const s of sundayEvening) assert.deepEqual(r.outcomes.get(s), { kind: 'kept', repaired: false });
  });

  it('keeps an EUR/USD winter session whole: 22:00Z to 22:00Z the next day', () => {
    const eurusd = new MarketCalendar({}, shippedInstrument('EUR/USD'));
    const session = bandBlock('EUR/USD', '2024-01-15T22:00:00Z', 288); // Tuesday 2024-01-16's session
    const afterClose = bandBlock('EUR/USD', '2024-01-16T22:00:00Z', 6); // Wednesday's session: kept too
    const r = standardizeBars([...session, ...afterClose], 'EUR/USD', eurusd);
    assert.equal(r.bars.length, 294);
    assert.equal(r.counts.dropped.off_session + r.counts.dropped.non_trading_day, 0);
  });

  it('keeps USD/BRL rows in São Paulo hours and drops the ones outside them', () => {
    const usdbrl = new MarketCalendar({}, shippedInstrument('USD/BRL'));
    // 09:00-17:00 São Paulo (UTC-3) = 12:00-20:00Z on Tuesday 2024-06-04.
    const session = bandBlock('USD/BRL', '2024-06-04T12:00:00Z', 96);
    const outside = [...bandBlock('USD/BRL', '2024-06-04T11:00:00Z', 12), ...bandBlock('USD/BRL', '2024-06-04T20:00:00Z', 12)];
    const r = standardizeBars([...outside, ...session], 'USD/BRL', usdbrl);
    assert.deepEqual(
      r.bars.map((b) => b.time),
      session.map((s) => s.time),
    );
    assert.equal(r.counts.dropped.off_session, 24);
    assert.equal(r.counts.repaired, 0);
  });
});
