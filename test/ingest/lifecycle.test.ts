import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lifecycle } from '../../src/ingest/lifecycle.ts';

describe('Lifecycle', () => {
  it('walks INITIALIZING -> WAITING_L0 -> CHECKING_DATA -> READY <-> ACTIVE and records each step', () => {
    let now = 1000;
    const seen: string[] = [];
    const life = new Lifecycle(() => now);
    life.onTransition((t) => seen.push(`${t.from}>${t.to}@${t.at}`));
    for (const to of ['WAITING_L0', 'CHECKING_DATA', 'READY', 'ACTIVE', 'READY', 'ACTIVE'] as const) {
      now += 1;
      life.transition(to, 'test');
    }
    assert.equal(life.state, 'ACTIVE');
    assert.deepEqual(seen.slice(0, 2), ['INITIALIZING>WAITING_L0@1001', 'WAITING_L0>CHECKING_DATA@1002']);
    assert.equal(life.transitions().length, 6);
  });

  it('refuses a transition that skips a step, but allows ERROR and SHUTDOWN from anywhere', () => {
    const life = new Lifecycle(() => 0);
    assert.throws(() => life.transition('ACTIVE', 'too early'), /cannot go from INITIALIZING to ACTIVE/);
    life.transition('ERROR', 'boom');
    life.transition('WAITING_L0', 'retry');
    life.transition('SHUTDOWN', 'stop');
    life.transition('READY', 'ignored after shutdown');
    assert.equal(life.state, 'SHUTDOWN');
  });
});
