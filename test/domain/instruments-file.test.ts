import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { loadMarketCalendar } from '../../src/calendar-config.ts';
import { instrumentOf, instruments, shippedInstrument, useInstruments, validateInstruments } from '../../src/domain/symbol.ts';
import { TasaError } from '../../src/errors.ts';

const at = (iso: string): number => Date.parse(iso);

/** A fresh, editable copy of the shipped USD/COP entry as a file would hold it. */
function copEntry(): Record<string, unknown> & { market: Record<string, unknown> & { session: Record<string, unknown> } } {
  return structuredClone(shippedInstrument('USD/COP')) as unknown as ReturnType<typeof copEntry>;
}

/** validateInstruments must refuse `input` with a bad_argument error whose message matches every pattern. */
function assertRefused(input: unknown, ...patterns: RegExp[]): void {
  assert.throws(
    () => validateInstruments(input, 'my-instruments.json'),
    (err: unknown) => {
      assert.ok(err instanceof TasaError);
      assert.equal(err.code, 'bad_argument');
      assert.match(err.message, /^my-instruments\.json: /);
      for (const pattern of patterns) assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('validateInstruments: errors name the entry and the field', () => {
  it('accepts the shipped USD/COP entry as it is', () => {
    assert.deepEqual(validateInstruments([copEntry()], 'ok.json'), [shippedInstrument('USD/COP')]);
  });

  it('refuses an empty list and a non-array', () => {
    assertRefused([], /non-empty array/);
    assertRefused({ symbol: 'USD/COP' }, /non-empty array/);
  });

  it('refuses a missing zone', () => {
    const entry = copEntry();
    delete entry.market.zone;
    assertRefused([entry], /instrument 1 \(USD\/COP\)/, /"market\.zone"/);
  });

  it('refuses an unknown zone', () => {
    const entry = copEntry();
    entry.market.zone = 'America/Atlantis';
    assertRefused([shippedInstrument('USD/BRL'), entry], /instrument 2 \(USD\/COP\)/, /"market\.zone" must be an IANA time zone/);
  });

  it('refuses a session off the 5-minute bar grid', () => {
    const entry = copEntry();
    entry.market.session = { open: '08:02', close: '13:00' };
    assertRefused([entry], /USD\/COP/, /"market\.session" must open and close on the 5-minute bar grid/);
  });

  it('refuses a session closing before it opens, unless it opens the day before', () => {
    const entry = copEntry();
    entry.market.session = { open: '17:00', close: '09:00' };
    assertRefused([entry], /USD\/COP/, /"market\.session" must open before it closes/);
    entry.market.session = { open: '17:00', close: '09:00', opensDayBefore: true };
    assert.equal(validateInstruments([entry], 'ok.json')[0]?.market.session.opensDayBefore, true);
  });

  it('refuses a bad priceBand', () => {
    for (const priceBand of [{ min: 10000, max: 1000 }, { min: 0, max: 10 }, { min: 1000 }, 'wide']) {
      const entry = copEntry();
      entry.priceBand = priceBand;
      assertRefused([entry], /instrument 1 \(USD\/COP\)/, /"priceBand"/);
    }
  });

  it('refuses a symbol listed twice', () => {
    assertRefused([copEntry(), shippedInstrument('USD/BRL'), copEntry()], /USD\/COP is listed twice/);
  });
});

describe('loadMarketCalendar: TASA_INSTRUMENTS and TASA_CALENDAR_OVERRIDES', () => {
  const shipped = instruments();
  const dir = mkdtempSync(join(tmpdir(), 'tasa-instruments-'));
  const file = (name: string, content: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };
  // loadMarketCalendar replaces the module-level list: put the shipped one back after each test.
  afterEach(() => useInstruments(shipped));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves a single custom instrument from TASA_INSTRUMENTS', () => {
    const gbp = {
      symbol: 'GBP/USD',
      base: 'GBP',
      quote: 'USD',
      decimals: 5,
      priceBand: { min: 0.5, max: 3 },
      market: {
        name: 'London desk hours',
        zone: 'Europe/London',
        session: { open: '08:00', close: '16:30' },
        weekdays: [1, 2, 3, 4, 5],
        holidays: { fixed: [{ monthDay: '12-25', name: 'Christmas Day' }, { monthDay: '12-26', name: 'Boxing Day' }] },
      },
      costs: { spreadBps: 0.3, feeBps: 0.1, slippageBps: 0.1 },
    };
    const calendars = loadMarketCalendar({ TASA_INSTRUMENTS: file('gbp.json', [gbp]), TASA_CALENDAR_OVERRIDES: undefined });
    assert.deepEqual(instruments().map((i) => i.symbol), ['GBP/USD']);
    assert.throws(() => instrumentOf('USD/COP'), TasaError);
    const london = calendars.of('GBP/USD');
    assert.equal(london.sessionFor('2025-07-15')?.open, at('2025-07-15T07:00:00Z')); // BST
    assert.equal(london.sessionFor('2025-01-15')?.open, at('2025-01-15T08:00:00Z')); // GMT
    assert.equal(london.sessionFor('2025-01-15')?.barCount, 102);
    assert.equal(london.isTradingDay('2025-12-26'), false);
    assert.throws(() => calendars.of('USD/COP'), /No market calendar for "USD\/COP"/);
  });

  it('refuses an unreadable or invalid TASA_INSTRUMENTS file, naming it', () => {
    const missing = join(dir, 'missing.json');
    assert.throws(() => loadMarketCalendar({ TASA_INSTRUMENTS: missing, TASA_CALENDAR_OVERRIDES: undefined }), /Cannot read TASA_INSTRUMENTS file .*missing\.json/);
    const bad = file('bad.json', []);
    assert.throws(() => loadMarketCalendar({ TASA_INSTRUMENTS: bad, TASA_CALENDAR_OVERRIDES: undefined }), /bad\.json: expected a non-empty array/);
  });

  it('applies overrides keyed by symbol to that instrument only', () => {
    const overrides = file('by-symbol.json', {
      'USD/BRL': { add: [{ date: '2025-07-09', name: 'Revolução Constitucionalista' }], remove: ['2025-06-19'] },
      'USD/MXN': { remove: ['2025-02-03'] },
    });
    const calendars = loadMarketCalendar({ TASA_INSTRUMENTS: undefined, TASA_CALENDAR_OVERRIDES: overrides });
    assert.equal(calendars.of('USD/BRL').isTradingDay('2025-07-09'), false);
    assert.equal(calendars.of('USD/BRL').dayInfo('2025-07-09').holiday, 'Revolução Constitucionalista');
    assert.equal(calendars.of('USD/BRL').isTradingDay('2025-06-19'), true);
    assert.equal(calendars.of('USD/MXN').isTradingDay('2025-02-03'), true);
    assert.equal(calendars.of('USD/MXN').isTradingDay('2024-10-01'), false); // its own decree still applies
    assert.equal(calendars.of('USD/CLP').isTradingDay('2025-07-09'), true);
    assert.equal(calendars.of('USD/COP').isTradingDay('2025-07-09'), true);
  });

  it('reads the older un-keyed form as USD/COP\'s overrides', () => {
    const overrides = file('legacy.json', { add: [{ date: '2025-03-25', name: 'Día cívico' }], remove: ['2025-03-24'] });
    const calendars = loadMarketCalendar({ TASA_INSTRUMENTS: undefined, TASA_CALENDAR_OVERRIDES: overrides });
    assert.equal(calendars.of('USD/COP').isTradingDay('2025-03-25'), false);
    assert.equal(calendars.of('USD/COP').isTradingDay('2025-03-24'), true);
    assert.equal(calendars.of('USD/BRL').isTradingDay('2025-03-25'), true);
  });

  it('refuses overrides for a symbol that is not configured', () => {
    const overrides = file('unknown.json', { 'USD/PEN': { remove: ['2025-01-01'] } });
    assert.throws(
      () => loadMarketCalendar({ TASA_INSTRUMENTS: undefined, TASA_CALENDAR_OVERRIDES: overrides }),
      (err: unknown) => err instanceof TasaError && err.code === 'bad_argument' && /overrides for "USD\/PEN", which is not a configured instrument/.test(err.message),
    );
  });
});
