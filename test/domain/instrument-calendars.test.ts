import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';

const at = (iso: string): number => Date.parse(iso);
const calendarOf = (symbol: string): MarketCalendar => new MarketCalendar({}, shippedInstrument(symbol));

/** Every Monday-Friday of a year, by plain UTC date arithmetic (not the library under test). */
function weekdaysOf(year: number): string[] {
  const dates: string[] = [];
  for (let d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year; d.setUTCDate(d.getUTCDate() + 1)) {
    const day = d.getUTCDay();
    if (day >= 1 && day <= 5) dates.push(d.toISOString().slice(0, 10));
  }
  return dates;
}

/** The closed weekdays must be exactly `closed` (MM-DD); every other weekday of the year trades. */
function assertClosedWeekdays(calendar: MarketCalendar, year: number, closed: readonly string[]): void {
  const expected = new Set(closed.map((md) => `${year}-${md}`));
  for (const date of expected) assert.ok(weekdaysOf(year).includes(date), `${date} in the hand list is not a weekday`);
  for (const date of weekdaysOf(year)) {
    const shouldTrade = !expected.has(date);
    assert.equal(calendar.isTradingDay(date), shouldTrade, `${calendar.symbol} ${date} should be ${shouldTrade ? 'open' : 'closed'}`);
    assert.equal(calendar.sessionFor(date) !== null, shouldTrade, `${calendar.symbol} ${date} session`);
  }
}

// Hand-checked closed weekdays, written out literally (weekend holidays are omitted: they close
// nothing). Sources in docs/instruments.md.
const CLOSED_WEEKDAYS: Record<string, Record<number, readonly string[]>> = {
  // Ley 51 de 1983 (Ley Emiliani); 2024 and 2026 as pinned in calendar.test.ts.
  'USD/COP': {
    2024: ['01-01', '01-08', '03-25', '03-28', '03-29', '05-01', '05-13', '06-03', '06-10', '07-01', '08-07', '08-19', '10-14', '11-04', '11-11', '12-25'],
    2025: ['01-01', '01-06', '03-24', '04-17', '04-18', '05-01', '06-02', '06-23', '06-30', '08-07', '08-18', '10-13', '11-03', '11-17', '12-08', '12-25'],
    2026: ['01-01', '01-12', '03-23', '04-02', '04-03', '05-01', '05-18', '06-08', '06-15', '06-29', '07-13', '07-20', '08-07', '08-17', '10-12', '11-02', '11-16', '12-08', '12-25'],
  },
  // B3's published holiday calendars.
  'USD/BRL': {
    2024: ['01-01', '02-12', '02-13', '03-29', '05-01', '05-30', '11-15', '11-20', '12-24', '12-25', '12-31'],
    2025: ['01-01', '03-03', '03-04', '04-18', '04-21', '05-01', '06-19', '11-20', '12-24', '12-25', '12-31'],
    2026: ['01-01', '02-16', '02-17', '04-03', '04-21', '05-01', '06-04', '09-07', '10-12', '11-02', '11-20', '12-24', '12-25', '12-31'],
  },
  // CNBV bank holidays (DOF); 2024-10-01 was the change of federal government.
  'USD/MXN': {
    2024: ['01-01', '02-05', '03-18', '03-28', '03-29', '05-01', '09-16', '10-01', '11-18', '12-12', '12-25'],
    2025: ['01-01', '02-03', '03-17', '04-17', '04-18', '05-01', '09-16', '11-17', '12-12', '12-25'],
    2026: ['01-01', '02-02', '03-16', '04-02', '04-03', '05-01', '09-16', '11-02', '11-16', '12-25'],
  },
  // Chilean public holidays plus the 31 December bank holiday. 2025-10-31 (Iglesias Evangélicas,
  // Ley 20.299) fell on a Friday and was a national holiday.
  'USD/CLP': {
    2024: ['01-01', '03-29', '05-01', '05-21', '06-20', '07-16', '08-15', '09-18', '09-19', '09-20', '10-31', '11-01', '12-25', '12-31'],
    2025: ['01-01', '04-18', '05-01', '05-21', '06-20', '07-16', '08-15', '09-18', '09-19', '10-31', '12-08', '12-25', '12-31'],
    2026: ['01-01', '04-03', '05-01', '05-21', '06-29', '07-16', '09-18', '10-12', '12-08', '12-25', '12-31'],
  },
  // The 24-hour FX week: only the trade dates 25 December and 1 January have no session.
  'EUR/USD': {
    2024: ['01-01', '12-25'],
    2025: ['01-01', '12-25'],
    2026: ['01-01', '12-25'],
  },
};

describe('Instrument calendars: closed and open weekdays, 2024-2026', () => {
  for (const [symbol, years] of Object.entries(CLOSED_WEEKDAYS)) {
    const calendar = calendarOf(symbol);
    for (const [year, closed] of Object.entries(years)) {
      it(`${symbol} ${year}: closes exactly on the hand-checked dates`, () => assertClosedWeekdays(calendar, Number(year), closed));
    }
  }
});

describe('Instrument calendars: dates that look like holidays but trade', () => {
  it('USD/BRL trades on Ash Wednesday 2026 and on the São Paulo state holiday 2025-07-09', () => {
    const brl = calendarOf('USD/BRL');
    assert.equal(brl.isTradingDay('2026-02-18'), true);
    assert.equal(brl.isTradingDay('2025-07-09'), true);
  });

  it('USD/MXN does not take the library\'s 2024-12-01 change of government; 2024-10-01 is a decree holiday', () => {
    const mxn = calendarOf('USD/MXN');
    assert.ok(!mxn.holidays(2024).some((h) => h.date === '2024-12-01'));
    const october = mxn.holidays(2024).find((h) => h.date === '2024-10-01');
    assert.equal(october?.origin, 'override');
  });

  it('USD/CLP keeps weekend feasts where they fall (Ley 19.668 moves them only from Tuesday-Friday)', () => {
    const clp = calendarOf('USD/CLP');
    assert.equal(clp.dayInfo('2024-06-29').weekday, 6); // San Pedro y San Pablo, Saturday
    assert.equal(clp.isTradingDay('2024-07-01'), true);
    assert.equal(clp.dayInfo('2024-10-12').weekday, 6); // Encuentro de Dos Mundos, Saturday
    assert.equal(clp.isTradingDay('2024-10-14'), true);
    assert.equal(clp.isTradingDay('2025-06-30'), true); // 2025-06-29 a Sunday
    assert.equal(clp.isTradingDay('2025-10-13'), true); // 2025-10-12 a Sunday
  });

  it('USD/COP trades on US holidays (Independence Day 2025), settling next day', () => {
    const cop = calendarOf('USD/COP');
    assert.equal(cop.isTradingDay('2025-07-04'), true);
    assert.equal(cop.dayInfo('2025-07-04').nextDaySettlement, true);
    assert.equal(calendarOf('USD/BRL').dayInfo('2025-07-04').nextDaySettlement, false);
  });
});

describe('Instrument calendars: session hours and bars', () => {
  const cases: Array<[symbol: string, date: string, open: string, close: string, bars: number]> = [
    ['USD/COP', '2025-07-15', '2025-07-15T13:00:00Z', '2025-07-15T18:00:00Z', 60], // Bogota UTC-5
    ['USD/BRL', '2025-07-15', '2025-07-15T12:00:00Z', '2025-07-15T20:00:00Z', 96], // Sao Paulo UTC-3, 09:00-17:00
    ['USD/MXN', '2025-07-15', '2025-07-15T13:30:00Z', '2025-07-15T20:00:00Z', 78], // Mexico City UTC-6, 07:30-14:00
    ['USD/CLP', '2025-07-15', '2025-07-15T12:30:00Z', '2025-07-15T17:30:00Z', 60], // Chilean winter, UTC-4
    ['USD/CLP', '2025-01-15', '2025-01-15T11:30:00Z', '2025-01-15T16:30:00Z', 60], // Chilean summer, UTC-3
    ['EUR/USD', '2025-07-15', '2025-07-14T21:00:00Z', '2025-07-15T21:00:00Z', 288], // New York EDT
  ];
  for (const [symbol, date, open, close, bars] of cases) {
    it(`${symbol} on ${date} opens ${open} and closes ${close}, ${bars} bars`, () => {
      const calendar = calendarOf(symbol);
      const session = calendar.sessionFor(date);
      assert.ok(session, `${symbol} ${date} should have a session`);
      assert.equal(session.open, at(open));
      assert.equal(session.close, at(close));
      assert.equal(session.barCount, bars);
      assert.equal(calendar.barGrid(session).length, bars);
    });
  }

  it('states each market\'s hours in its own zone', () => {
    assert.deepEqual(calendarOf('USD/BRL').sessionHours(), { open: '09:00', close: '17:00', opensDayBefore: false, timeZone: 'America/Sao_Paulo' });
    assert.deepEqual(calendarOf('USD/MXN').sessionHours(), { open: '07:30', close: '14:00', opensDayBefore: false, timeZone: 'America/Mexico_City' });
    assert.deepEqual(calendarOf('USD/CLP').sessionHours(), { open: '08:30', close: '13:30', opensDayBefore: false, timeZone: 'America/Santiago' });
    assert.deepEqual(calendarOf('EUR/USD').sessionHours(), { open: '17:00', close: '17:00', opensDayBefore: true, timeZone: 'America/New_York' });
  });

  it('USD/CLP follows Chile\'s clock changes (DST ended 2025-04-06, began 2025-09-07)', () => {
    const clp = calendarOf('USD/CLP');
    assert.equal(clp.sessionFor('2025-04-04')?.open, at('2025-04-04T11:30:00Z'));
    assert.equal(clp.sessionFor('2025-04-07')?.open, at('2025-04-07T12:30:00Z'));
    assert.equal(clp.sessionFor('2025-09-05')?.open, at('2025-09-05T12:30:00Z'));
    assert.equal(clp.sessionFor('2025-09-08')?.open, at('2025-09-08T11:30:00Z'));
  });
});

describe('Instrument calendars: EUR/USD, the 24-hour week', () => {
  const eur = calendarOf('EUR/USD');

  it('opens Monday 2025-03-10 at Sunday 17:00 EDT (DST began that morning) and closes Monday 17:00 EDT', () => {
    const monday = eur.sessionFor('2025-03-10');
    assert.equal(monday?.open, at('2025-03-09T21:00:00Z'));
    assert.equal(monday?.close, at('2025-03-10T21:00:00Z'));
    assert.equal(monday?.barCount, 288);
    assert.equal(eur.sessionFor('2025-03-07')?.close, at('2025-03-07T22:00:00Z')); // Friday before, EST
  });

  it('opens a winter session at 22:00Z the day before', () => {
    const session = eur.sessionFor('2025-01-15');
    assert.equal(session?.open, at('2025-01-14T22:00:00Z'));
    assert.equal(session?.close, at('2025-01-15T22:00:00Z'));
    assert.equal(session?.barCount, 288);
  });

  it('is open from Sunday 17:00 to Friday 17:00 New York, closed at the weekend', () => {
    assert.equal(eur.isMarketOpen(at('2025-01-17T21:59:59Z')), true); // Friday 16:59:59 EST
    assert.equal(eur.isMarketOpen(at('2025-01-17T22:00:00Z')), false); // Friday 17:00 EST
    assert.equal(eur.isMarketOpen(at('2025-01-18T15:00:00Z')), false); // Saturday
    assert.equal(eur.isMarketOpen(at('2025-01-19T21:59:00Z')), false); // Sunday 16:59 EST
    assert.equal(eur.isMarketOpen(at('2025-01-19T22:00:00Z')), true); // Sunday 17:00 EST
    assert.equal(eur.isTradingDay('2025-01-18'), false);
    assert.equal(eur.isTradingDay('2025-01-19'), false);
  });

  it("spans a date's instants from its session's open to its close: the evening after belongs to the next date", () => {
    const span = (from: string, to: string) => Object.values(eur.instantsOfDates(from, to)).map((t) => new Date(t).toISOString());
    assert.deepEqual(span('2026-03-31', '2026-03-31'), ['2026-03-30T21:00:00.000Z', '2026-03-31T21:00:00.000Z']);
    // A Friday: nothing opens that evening, so the date runs to its midnight in New York.
    assert.deepEqual(span('2026-03-06', '2026-03-06'), ['2026-03-05T22:00:00.000Z', '2026-03-07T05:00:00.000Z']);
    // USD/COP's sessions lie inside their Bogota date: midnight to midnight.
    assert.deepEqual(Object.values(calendarOf('USD/COP').instantsOfDates('2026-03-03', '2026-03-04')).map((t) => new Date(t).toISOString()), ['2026-03-03T05:00:00.000Z', '2026-03-05T05:00:00.000Z']);
    // The calendar's last date: no next session to ask about, so its midnight.
    assert.equal(new Date(calendarOf('USD/COP').instantsOfDates('2099-12-31', '2099-12-31').to).toISOString(), '2100-01-01T05:00:00.000Z');
  });

  it('rolls to the next trade date at the New York close on a weekday', () => {
    assert.equal(eur.sessionAt(at('2025-01-15T21:59:59Z'))?.date, '2025-01-15');
    assert.equal(eur.sessionAt(at('2025-01-15T22:00:00Z'))?.date, '2025-01-16');
    assert.equal(eur.localDate(at('2025-01-15T22:00:00Z')), '2025-01-15'); // still the 15th in New York
  });

  it('finds the next and previous sessions across the weekend', () => {
    const next = eur.nextSession(at('2025-01-17T22:00:00Z'));
    assert.equal(next.date, '2025-01-20');
    assert.equal(next.open, at('2025-01-19T22:00:00Z'));
    assert.equal(eur.previousSession(at('2025-01-19T12:00:00Z')).date, '2025-01-17');
    assert.equal(eur.previousSession(at('2025-01-20T10:00:00Z')).date, '2025-01-17');
  });

  it('has no 2025-12-25 session: closed from 2025-12-24 17:00 to 2025-12-25 17:00 New York', () => {
    assert.equal(eur.sessionFor('2025-12-25'), null);
    assert.equal(eur.sessionFor('2025-12-24')?.close, at('2025-12-24T22:00:00Z'));
    assert.equal(eur.isMarketOpen(at('2025-12-24T21:59:59Z')), true);
    assert.equal(eur.isMarketOpen(at('2025-12-24T22:00:00Z')), false);
    assert.equal(eur.isMarketOpen(at('2025-12-25T12:00:00Z')), false);
    assert.equal(eur.isMarketOpen(at('2025-12-25T22:00:00Z')), true);
    const next = eur.nextSession(at('2025-12-24T22:00:00Z'));
    assert.equal(next.date, '2025-12-26');
    assert.equal(next.open, at('2025-12-25T22:00:00Z'));
  });

  it('crosses the year end: no 2026-01-01 session, the 2026-01-02 one opens on New Year\'s evening', () => {
    assert.equal(eur.sessionAt(at('2025-12-31T23:00:00Z')), null);
    const next = eur.nextSession(at('2025-12-31T22:00:00Z'));
    assert.equal(next.date, '2026-01-02');
    assert.equal(next.open, at('2026-01-01T22:00:00Z'));
    assert.equal(eur.previousSession(at('2026-01-01T12:00:00Z')).date, '2025-12-31');
  });
});
