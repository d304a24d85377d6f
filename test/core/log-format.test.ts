/** The logger's readable line on a terminal (JSON stays the format when piped). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readableLine } from '../../src/log.ts';

describe('readable log lines', () => {
  it('writes a pino entry as time, level, message and its fields, without the process boilerplate', () => {
    const json = JSON.stringify({ level: 40, time: Date.parse('2026-12-02T15:04:05.123Z'), pid: 1, hostname: 'h', app: 'tasa', simulatedFrom: '2026-12-03 08:00:00 COT', attempt: 2, msg: 'market closed' });
    assert.equal(readableLine(json), '15:04:05Z WARN market closed simulatedFrom=2026-12-03 08:00:00 COT attempt=2');
  });
});
