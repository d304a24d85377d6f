import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarketCalendar, type Holiday } from '../../src/domain/calendar.ts';

const calendar = new MarketCalendar();
const at = (iso: string): number => Date.parse(iso);
const pairs = (holidays: Holiday[]): Array<[string, string]> => holidays.map((h) => [h.date, h.name]);

// Official lists (Ley 51 de 1983; Ley 2578 de 2026 for Chiquinquirá), checked against
// festivos.com.co, publicholidays.co (Banco de la República list), seguimiento.co and calendarr.com.
// Written out literally: not derived from the code under test.
const COLOMBIA_2024: Array<[string, string]> = [
  ['2024-01-01', 'Año Nuevo'],
  ['2024-01-08', 'Día de los Reyes Magos'],
  ['2024-03-25', 'San José'],
  ['2024-03-28', 'Jueves Santo'],
  ['2024-03-29', 'Viernes Santo'],
  ['2024-05-01', 'Día del Trabajador'],
  ['2024-05-13', 'Ascensión del Señor'],
  ['2024-06-03', 'Corpus Christi'],
  ['2024-06-10', 'Sagrado Corazón de Jesús'],
  ['2024-07-01', 'San Pedro y San Pablo'],
  ['2024-07-20', 'Día de la Independencia'], // Saturday
  ['2024-08-07', 'Batalla de Boyacá'],
  ['2024-08-19', 'Asunción'],
  ['2024-10-14', 'Día de la Raza'],
  ['2024-11-04', 'Todos los Santos'],
  ['2024-11-11', 'Independencia de Cartagena'],
  ['2024-12-08', 'La inmaculada concepción'], // Sunday
  ['2024-12-25', 'Navidad'],
];

// 18 holidays on 17 dates: Sagrado Corazón and San Pedro y San Pablo share Monday 30 June.
const COLOMBIA_2025: Array<[string, string]> = [
  ['2025-01-01', 'Año Nuevo'],
  ['2025-01-06', 'Día de los Reyes Magos'],
  ['2025-03-24', 'San José'],
  ['2025-04-17', 'Jueves Santo'],
  ['2025-04-18', 'Viernes Santo'],
  ['2025-05-01', 'Día del Trabajador'],
  ['2025-06-02', 'Ascensión del Señor'],
  ['2025-06-23', 'Corpus Christi'],
  ['2025-06-30', 'Sagrado Corazón de Jesús / San Pedro y San Pablo'],
  ['2025-07-20', 'Día de la Independencia'], // Sunday
  ['2025-08-07', 'Batalla de Boyacá'],
  ['2025-08-18', 'Asunción'],
  ['2025-10-13', 'Día de la Raza'],
  ['2025-11-03', 'Todos los Santos'],
  ['2025-11-17', 'Independencia de Cartagena'],
  ['2025-12-08', 'La inmaculada concepción'],
  ['2025-12-25', 'Navidad'],
];

const COLOMBIA_2026: Array<[string, string]> = [
  ['2026-01-01', 'Año Nuevo'],
  ['2026-01-12', 'Día de los Reyes Magos'],
  ['2026-03-23', 'San José'],
  ['2026-04-02', 'Jueves Santo'],
  ['2026-04-03', 'Viernes Santo'],
  ['2026-05-01', 'Día del Trabajador'],
  ['2026-05-18', 'Ascensión del Señor'],
  ['2026-06-08', 'Corpus Christi'],
  ['2026-06-15', 'Sagrado Corazón de Jesús'],
  ['2026-06-29', 'San Pedro y San Pablo'],
  ['2026-07-13', 'La virgen de Chiquinquirá'],
  ['2026-07-20', 'Día de la Independencia'],
  ['2026-08-07', 'Batalla de Boyacá'],
  ['2026-08-17', 'Asunción'],
  ['2026-10-12', 'Día de la Raza'],
  ['2026-11-02', 'Todos los Santos'],
  ['2026-11-16', 'Independencia de Cartagena'],
  ['2026-12-08', 'La inmaculada concepción'],
  ['2026-12-25', 'Navidad'],
];

function assertClosed(cal: MarketCalendar, date: string, holiday: string): void {
  assert.equal(cal.isTradingDay(date), false, `${date} should be closed`);
  assert.equal(cal.sessionFor(date), null, `${date} should have no session`);
  assert.equal(cal.dayInfo(date).holiday, holiday);
}

describe('MarketCalendar: Colombian holidays', () => {
  for (const [year, expected] of [[2024, COLOMBIA_2024], [2025, COLOMBIA_2025], [2026, COLOMBIA_2026]] as const) {
    it(`lists every ${year} holiday, one per date, and each one closes the market`, () => {
      assert.deepEqual(pairs(calendar.holidays(year)), expected);
      for (const [date, name] of expected) assertClosed(calendar, date, name);
      for (const h of calendar.holidays(year)) {
        assert.equal(h.market, 'CO');
        assert.equal(h.origin, 'date-holidays');
      }
    });
  }

  it('counts 18 holiday dates in 2024, 17 in 2025 (18 holidays) and 19 in 2026', () => {
    assert.equal(calendar.holidays(2024).length, 18);
    assert.equal(calendar.holidays(2025).length, 17);
    assert.equal(calendar.holidays(2026).length, 19);
  });

  it('has the number of sessions a weekday count minus weekday holidays gives', () => {
    assert.equal(calendar.sessionsBetween('2024-01-01', '2024-12-31').length, 262 - 16);
    assert.equal(calendar.sessionsBetween('2025-01-01', '2025-12-31').length, 261 - 16);
    assert.equal(calendar.sessionsBetween('2026-01-01', '2026-12-31').length, 261 - 19);
  });

  it('does not treat Easter Sunday or Palm Sunday as holidays', () => {
    assert.equal(calendar.dayInfo('2025-04-20').holiday, null);
    assert.equal(calendar.dayInfo('2025-04-13').holiday, null);
    assert.equal(calendar.isTradingDay('2025-04-20'), false); // still a Sunday
  });

  it('pins the Easter-based holidays of 2015 (Easter 5 April)', () => {
    assertClosed(calendar, '2015-04-02', 'Jueves Santo');
    assertClosed(calendar, '2015-04-03', 'Viernes Santo');
    assertClosed(calendar, '2015-05-18', 'Ascensión del Señor');
    assertClosed(calendar, '2015-06-08', 'Corpus Christi');
    assertClosed(calendar, '2015-06-15', 'Sagrado Corazón de Jesús');
    assert.equal(calendar.holidays(2015).length, 18);
  });

  it('pins the Easter-based holidays of 2035 (Easter 25 March) and Monday feasts that stay put', () => {
    assertClosed(calendar, '2035-03-19', 'San José'); // already a Monday
    assertClosed(calendar, '2035-03-22', 'Jueves Santo');
    assertClosed(calendar, '2035-03-23', 'Viernes Santo');
    assertClosed(calendar, '2035-05-07', 'Ascensión del Señor');
    assertClosed(calendar, '2035-05-28', 'Corpus Christi');
    assertClosed(calendar, '2035-06-04', 'Sagrado Corazón de Jesús');
    assertClosed(calendar, '2035-07-09', 'La virgen de Chiquinquirá'); // 9 July is a Monday
  });

  it('has Chiquinquirá only from 2026, on the Monday on or after 9 July', () => {
    assert.equal(calendar.isTradingDay('2025-07-14'), true);
    assertClosed(calendar, '2027-07-12', 'La virgen de Chiquinquirá');
    assertClosed(calendar, '2029-07-09', 'La virgen de Chiquinquirá');
  });

  it('closes weekends and opens ordinary weekdays', () => {
    assert.equal(calendar.isTradingDay('2024-01-06'), false);
    assert.equal(calendar.isTradingDay('2024-01-07'), false);
    assert.equal(calendar.sessionFor('2024-01-06'), null);
    assert.equal(calendar.isTradingDay('2024-01-02'), true);
    assert.deepEqual(calendar.dayInfo('2024-01-06'), {
      date: '2024-01-06',
      weekday: 6,
      tradingDay: false,
      holiday: null,
      nextDaySettlement: false,
      usHoliday: null,
    });
  });
});

describe('MarketCalendar: US holidays (next-day settlement)', () => {
  it('lists the 11 federal holidays of 2024 on their observed dates', () => {
    assert.deepEqual(pairs(calendar.usHolidays(2024)), [
      ['2024-01-01', "New Year's Day"],
      ['2024-01-15', 'Martin Luther King Jr. Day'],
      ['2024-02-19', "Washington's Birthday"],
      ['2024-05-27', 'Memorial Day'],
      ['2024-06-19', 'Juneteenth'],
      ['2024-07-04', 'Independence Day'],
      ['2024-09-02', 'Labor Day'],
      ['2024-10-14', 'Columbus Day'],
      ['2024-11-11', 'Veterans Day'],
      ['2024-11-28', 'Thanksgiving Day'],
      ['2024-12-25', 'Christmas Day'],
    ]);
    assert.ok(calendar.usHolidays(2024).every((h) => h.market === 'US'));
  });

  it('keeps trading on a US holiday that is a Colombian business day, settling next day', () => {
    const july4 = calendar.dayInfo('2024-07-04');
    assert.equal(july4.tradingDay, true);
    assert.equal(july4.nextDaySettlement, true);
    assert.equal(july4.usHoliday, 'Independence Day');
    const session = calendar.sessionFor('2024-07-04');
    assert.equal(session?.nextDaySettlement, true);
    assert.equal(session?.usHoliday, 'Independence Day');
    assert.equal(calendar.sessionFor('2024-07-05')?.nextDaySettlement, false);
  });

  it('flags Thanksgiving 2024-11-28', () => {
    assert.equal(calendar.isTradingDay('2024-11-28'), true);
    assert.equal(calendar.dayInfo('2024-11-28').usHoliday, 'Thanksgiving Day');
    assert.equal(calendar.sessionFor('2024-11-28')?.nextDaySettlement, true);
  });

  it('moves a Saturday holiday to the Friday before and a Sunday one to the Monday after', () => {
    const friday = calendar.dayInfo('2026-07-03'); // 4 July 2026 is a Saturday
    assert.equal(friday.usHoliday, 'Independence Day (observed)');
    assert.equal(friday.nextDaySettlement, true);
    assert.equal(calendar.dayInfo('2026-07-04').usHoliday, null);
    assert.equal(calendar.dayInfo('2022-12-26').usHoliday, 'Christmas Day (observed)'); // 25th a Sunday
    assert.equal(calendar.dayInfo('2023-11-10').usHoliday, 'Veterans Day (observed)'); // 11th a Saturday
  });

  it("observes a Saturday New Year's Day on 31 December of the year before", () => {
    assert.equal(calendar.dayInfo('2021-12-31').usHoliday, "New Year's Day (observed)");
    assert.ok(calendar.usHolidays(2021).some((h) => h.date === '2021-12-31'));
    assert.ok(!calendar.usHolidays(2022).some((h) => h.date === '2022-01-01'));
    assert.equal(calendar.usHolidays(2021).length, 12);
    assert.equal(calendar.usHolidays(2022).length, 10);
  });

  it('has Juneteenth only from 2021', () => {
    assert.ok(!calendar.usHolidays(2020).some((h) => h.name.startsWith('Juneteenth')));
    assert.equal(calendar.dayInfo('2021-06-18').usHoliday, 'Juneteenth (observed)');
  });

  it('does not flag next-day settlement when Colombia is closed anyway', () => {
    const day = calendar.dayInfo('2024-11-11'); // Veterans Day = Independencia de Cartagena
    assert.equal(day.tradingDay, false);
    assert.equal(day.holiday, 'Independencia de Cartagena');
    assert.equal(day.usHoliday, 'Veterans Day');
    assert.equal(day.nextDaySettlement, false);
  });
});

describe('MarketCalendar: sessions and bars', () => {
  it('states its session hours in Bogota time, 60 bars long', () => {
    assert.deepEqual(calendar.sessionHours(), { open: '08:00', close: '13:00', opensDayBefore: false, timeZone: 'America/Bogota' });
    assert.equal(calendar.symbol, 'USD/COP');
    assert.equal(calendar.sessionFor('2024-01-02')?.barCount, 60);
  });

  it('opens 08:00-13:00 Bogota, i.e. 13:00Z-18:00Z', () => {
    assert.deepEqual(calendar.sessionFor('2024-01-02'), {
      date: '2024-01-02',
      open: at('2024-01-02T13:00:00Z'),
      close: at('2024-01-02T18:00:00Z'),
      barCount: 60,
      nextDaySettlement: false,
      usHoliday: null,
    });
  });

  it('builds a 60-bar grid from 13:00Z to 17:55Z', () => {
    const session = calendar.sessionFor('2024-01-02');
    assert.ok(session);
    const grid = calendar.barGrid(session);
    assert.equal(grid.length, 60);
    assert.equal(grid[0], at('2024-01-02T13:00:00Z'));
    assert.equal(grid[59], at('2024-01-02T17:55:00Z'));
    for (let i = 1; i < grid.length; i++) assert.equal((grid[i] ?? 0) - (grid[i - 1] ?? 0), 5 * 60_000);
  });

  it('is open on [13:00Z, 18:00Z)', () => {
    assert.equal(calendar.isMarketOpen(at('2024-01-02T12:59:00Z')), false);
    assert.equal(calendar.isMarketOpen(at('2024-01-02T13:00:00Z')), true);
    assert.equal(calendar.isMarketOpen(at('2024-01-02T17:59:59Z')), true);
    assert.equal(calendar.isMarketOpen(at('2024-01-02T18:00:00Z')), false);
    assert.equal(calendar.sessionAt(at('2024-01-02T15:00:00Z'))?.date, '2024-01-02');
    assert.equal(calendar.sessionAt(at('2025-03-24T15:00:00Z')), null); // San José
    assert.equal(calendar.sessionAt(at('2024-01-06T15:00:00Z')), null); // Saturday
  });

  it('finds the next session across a weekend and a holiday Monday', () => {
    const next = calendar.nextSession(at('2025-03-21T18:00:00Z')); // Friday close
    assert.equal(next.date, '2025-03-25'); // Monday 24 March is San José
    assert.equal(next.open, at('2025-03-25T13:00:00Z'));
  });

  it('returns the current session while open, and today before the open', () => {
    assert.equal(calendar.nextSession(at('2025-03-21T15:00:00Z')).date, '2025-03-21');
    assert.equal(calendar.nextSession(at('2025-03-21T05:00:00Z')).date, '2025-03-21');
    assert.equal(calendar.nextSession(at('2025-03-21T13:00:00Z')).date, '2025-03-21');
  });

  it('finds the next session across Holy Week and a year end', () => {
    assert.equal(calendar.nextSession(at('2025-04-16T18:00:00Z')).date, '2025-04-21');
    assert.equal(calendar.nextSession(at('2024-12-31T18:00:00Z')).date, '2025-01-02');
  });

  it('finds the previous session, never the one containing t', () => {
    assert.equal(calendar.previousSession(at('2025-03-25T14:00:00Z')).date, '2025-03-21');
    assert.equal(calendar.previousSession(at('2025-03-24T15:00:00Z')).date, '2025-03-21');
    assert.equal(calendar.previousSession(at('2025-03-21T18:00:00Z')).date, '2025-03-21');
    assert.equal(calendar.previousSession(at('2025-03-21T17:59:59.999Z')).date, '2025-03-20');
    assert.equal(calendar.previousSession(at('2025-01-02T10:00:00Z')).date, '2024-12-31');
  });

  it('lists sessions and days between two dates, inclusive', () => {
    assert.deepEqual(
      calendar.sessionsBetween('2025-03-20', '2025-03-26').map((s) => s.date),
      ['2025-03-20', '2025-03-21', '2025-03-25', '2025-03-26'],
    );
    assert.deepEqual(
      calendar.days('2025-03-21', '2025-03-24').map((d) => [d.date, d.weekday, d.tradingDay]),
      [['2025-03-21', 5, true], ['2025-03-22', 6, false], ['2025-03-23', 7, false], ['2025-03-24', 1, false]],
    );
    assert.deepEqual(calendar.sessionsBetween('2025-03-26', '2025-03-20'), []);
    assert.equal(calendar.days('2024-12-30', '2025-01-02').length, 4);
  });

  it('keeps every session of 2015-2035 at 13:00Z-18:00Z on a weekday', () => {
    for (const s of calendar.sessionsBetween('2015-01-01', '2035-12-31')) {
      assert.equal(new Date(s.open).getUTCHours(), 13, s.date);
      assert.equal(s.close - s.open, 5 * 60 * 60_000, s.date);
      assert.ok(new Date(s.open).getUTCDay() >= 1 && new Date(s.open).getUTCDay() <= 5, s.date);
      assert.equal(new Date(s.open).toISOString().slice(0, 10), s.date);
    }
  });

  it('returns cached, frozen sessions', () => {
    const session = calendar.sessionFor('2024-01-02');
    assert.equal(calendar.sessionFor('2024-01-02'), session);
    assert.ok(Object.isFrozen(session));
    assert.ok(Object.isFrozen(calendar.dayInfo('2024-01-02')));
  });

  it('answers per-row lookups fast once a year is built', () => {
    const dates = calendar.days('2024-01-01', '2024-12-31').map((d) => d.date);
    const started = performance.now();
    let trading = 0;
    for (let i = 0; i < 80_000; i++) {
      const date = dates[i % dates.length] ?? '2024-01-02';
      if (calendar.isTradingDay(date) && calendar.sessionFor(date) !== null) trading++;
    }
    assert.ok(trading > 0);
    assert.ok(performance.now() - started < 500, 'isTradingDay/sessionFor should be map lookups');
  });
});

describe('MarketCalendar: overrides', () => {
  it('removes a library holiday', () => {
    const cal = new MarketCalendar({ remove: ['2025-03-24'] });
    assert.equal(cal.isTradingDay('2025-03-24'), true);
    assert.ok(!cal.holidays(2025).some((h) => h.date === '2025-03-24'));
    assert.equal(cal.nextSession(at('2025-03-21T18:00:00Z')).date, '2025-03-24');
  });

  it('adds a decreed holiday, marked as an override', () => {
    const cal = new MarketCalendar({ add: [{ date: '2025-03-25', name: 'Día cívico' }] });
    assertClosed(cal, '2025-03-25', 'Día cívico');
    assert.deepEqual(
      cal.holidays(2025).find((h) => h.date === '2025-03-25'),
      { date: '2025-03-25', name: 'Día cívico', market: 'CO', origin: 'override' },
    );
    assert.equal(cal.nextSession(at('2025-03-21T18:00:00Z')).date, '2025-03-26');
    assert.equal(cal.holidays(2025).length, 18);
    assert.equal(calendar.isTradingDay('2025-03-25'), true); // other calendars unaffected
  });

  it('renames a library holiday when added on its date', () => {
    const cal = new MarketCalendar({ add: [{ date: '2025-01-06', name: 'Reyes' }] });
    assertClosed(cal, '2025-01-06', 'Reyes');
    assert.equal(cal.holidays(2025).length, 17);
  });

  it('lets an addition win over a removal of the same date', () => {
    const cal = new MarketCalendar({ add: [{ date: '2025-03-24', name: 'San José (decreto)' }], remove: ['2025-03-24'] });
    assertClosed(cal, '2025-03-24', 'San José (decreto)');
  });

  it('rejects malformed overrides', () => {
    assert.throws(() => new MarketCalendar({ remove: ['2025-02-30'] }), RangeError);
    assert.throws(() => new MarketCalendar({ add: [{ date: '25-03-2025', name: 'x' }] }), RangeError);
    assert.throws(() => new MarketCalendar({ add: [{ date: '2025-03-25', name: ' ' }] }), RangeError);
  });
});

describe('MarketCalendar: invalid input', () => {
  it('throws a RangeError for malformed dates', () => {
    for (const bad of ['2024-02-30', '2024-1-02', '20240102', '', 'hello', '2024-13-01', ' 2024-01-02']) {
      assert.throws(() => calendar.isTradingDay(bad), { name: 'RangeError', message: /YYYY-MM-DD/ }, bad);
    }
    assert.throws(() => calendar.sessionFor('2023-02-29'), RangeError);
    assert.throws(() => calendar.dayInfo('2024-00-10'), RangeError);
    assert.throws(() => calendar.sessionsBetween('2024-01-01', '2024-01-32'), RangeError);
  });

  it('throws a RangeError outside the supported years', () => {
    assert.throws(() => calendar.isTradingDay('1980-01-02'), { name: 'RangeError', message: /outside/ });
    assert.throws(() => calendar.holidays(2200), RangeError);
    assert.throws(() => calendar.holidays(2024.5), RangeError);
  });

  it('throws a RangeError for a non-finite instant', () => {
    assert.throws(() => calendar.sessionAt(Number.NaN), RangeError);
    assert.throws(() => calendar.nextSession(Number.POSITIVE_INFINITY), RangeError);
  });
});
