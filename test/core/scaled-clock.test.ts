/** ScaledClock's anchor: processes given the same start, speed and anchor share one timeline. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScaledClock, systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';

const START = Date.UTC(2026, 2, 3, 12, 58);

describe('ScaledClock anchor', () => {
  it('reads the same time in two clocks built at different instants with one anchor', async () => {
    const anchor = systemClock.now() + 1_000;
    const first = new ScaledClock(START, 600, anchor);
    await sleep(50);
    const second = new ScaledClock(START, 600, anchor);
    const [a, b] = [first.now(), second.now()];
    // Both read start + (real now - anchor) * speed: the same up to the ms between the two calls.
    assert.ok(Math.abs(a - b) <= 600, `clocks differ by ${Math.abs(a - b)} simulated ms`);
    assert.ok(a < START, 'before its anchor the clock reads earlier than its start');
  });

  it('without an anchor starts at its start when built', () => {
    const clock = new ScaledClock(START, 100);
    assert.ok(Math.abs(clock.now() - START) < 100 * 50);
  });

  it('refuses an anchor that is not a number', () => {
    assert.throws(() => new ScaledClock(START, 10, Number.NaN), /anchor/);
  });

  it('takes the anchor from TASA_CLOCK_ANCHOR (epoch ms) and rejects anything else', () => {
    assert.equal(loadConfig({ TASA_CLOCK_ANCHOR: '1796182239084' }).TASA_CLOCK_ANCHOR, 1796182239084);
    assert.throws(() => loadConfig({ TASA_CLOCK_ANCHOR: 'soon' }), /TASA_CLOCK_ANCHOR/);
  });
});
