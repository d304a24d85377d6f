import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBarTime, parseRawBar, type RawBarRecord } from '../../src/domain/raw-bar.ts';

function record(fields: Partial<RawBarRecord>): RawBarRecord {
  return { lineNo: 2, raw: '', time: '2024-01-02 13:00:00+00:00', open: '3900', high: '3905', low: '3899', close: '3901', volume: '0', symbol: 'USD/COP', sourceLabel: 'twelvedata', ...fields };
}

describe('parseBarTime', () => {
  it('reads any offset and converts to UTC', () => {
    const utc = Date.parse('2024-01-02T13:00:00Z');
    for (const text of ['2024-01-02 13:00:00+00:00', '2024-01-02T13:00:00Z', '2024-01-02 08:00:00-05:00', '2024-01-02 08:00:00-0500', '2024-01-02T14:00:00+01:00']) {
      assert.equal(parseBarTime(text, 'UTC'), utc, text);
    }
  });

  it('reads times without an offset in the given zone', () => {
    assert.equal(parseBarTime('2024-01-02 08:00:00', 'America/Bogota'), Date.parse('2024-01-02T13:00:00Z'));
    assert.equal(parseBarTime('2024-01-02 13:00:00', 'UTC'), Date.parse('2024-01-02T13:00:00Z'));
  });

  it('returns null for impossible dates', () => {
    assert.equal(parseBarTime('2024-02-30 13:00:00+00:00', 'UTC'), null);
    assert.equal(parseBarTime('yesterday', 'UTC'), null);
    assert.equal(parseBarTime('', 'UTC'), null);
  });
});

describe('parseRawBar', () => {
  it('parses a valid row', () => {
    const r = parseRawBar(record({}), 'USD/COP');
    assert.ok(r.ok);
    assert.deepEqual(r.bar, { lineNo: 2, time: Date.parse('2024-01-02T13:00:00Z'), open: 3900, high: 3905, low: 3899, close: 3901, volume: 0, sourceLabel: 'twelvedata' });
  });

  const rejected: Array<[string, Partial<RawBarRecord>, RegExp]> = [
    ['non-numeric price', { close: 'abc' }, /close "abc" is not a number/],
    ['empty price', { open: '' }, /open "" is not a number/],
    ['zero price', { open: '0', low: '0' }, /must be > 0/],
    ['negative price', { low: '-1' }, /must be > 0/],
    ['high below close', { high: '3900.5' }, /high 3900.5 is below max\(open, close\) 3901/],
    ['low above open', { low: '3900.5' }, /low 3900.5 is above min\(open, close\) 3900/],
    ['impossible date', { time: '2023-13-01 13:00:00+00:00' }, /is not a valid date-time/],
    ['other symbol', { symbol: 'USD/MXN' }, /symbol "USD\/MXN" is not USD\/COP/],
    ['negative volume', { volume: '-5' }, /volume "-5"/],
    ['infinite price', { high: 'Infinity' }, /high "Infinity" is not a number/],
  ];
  for (const [name, fields, reason] of rejected) {
    it(`rejects ${name} with a reason`, () => {
      const r = parseRawBar(record(fields), 'USD/COP');
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.reason, reason);
    });
  }

  it('accepts a missing volume and symbol', () => {
    const r = parseRawBar(record({ volume: null, symbol: null }), 'USD/COP');
    assert.ok(r.ok && r.bar.volume === null);
  });
});

describe('parseBarTime edge cases', () => {
  it('keeps fractions of a second and rejects impossible clock times', () => {
    assert.equal(parseBarTime('2024-01-02T13:00:00.250Z', 'UTC'), Date.parse('2024-01-02T13:00:00.250Z'));
    assert.equal(parseBarTime('2024-01-02 13:00', 'UTC'), Date.parse('2024-01-02T13:00:00Z'));
    assert.equal(parseBarTime('2024-01-02 24:00:00', 'UTC'), null);
    assert.equal(parseBarTime('2024-01-02 13:60:00', 'UTC'), null);
    assert.equal(parseBarTime('2023-02-29 13:00:00', 'UTC'), null);
    assert.equal(parseBarTime('2024-02-29 13:00:00', 'UTC'), Date.parse('2024-02-29T13:00:00Z'));
  });

  it('returns null for a time without offset in an unknown zone', () => {
    assert.equal(parseBarTime('2024-01-02 08:00:00', 'Mars/Olympus'), null);
  });
});
