/**
 * When the scheduled jobs run with several markets: a dispatch runs when some served market has a
 * trading day or a session open (EUR/USD's week opens on Sunday, 17:00 New York), and the sync
 * reads only the streams of the markets open now or closed within the last 30 minutes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { CalendarSet, MarketCalendar } from '../../src/domain/calendar.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';
import { dispatch, JOB_SCHEDULES } from '../../src/jobs/boss.ts';
import { streamedLately } from '../../src/jobs/handlers.ts';

const calendars = (symbols: string[]) => new CalendarSet(symbols.map((s) => new MarketCalendar({}, shippedInstrument(s))));
const logger = pino({ enabled: false });
const SHIPPED = ['USD/COP', 'USD/BRL', 'USD/MXN', 'USD/CLP', 'EUR/USD'];

/** A failsafe dispatched at `iso` by a worker serving `served`, with every shipped market's calendar (as `tasa worker` loads them). */
async function dispatchedAt(served: string[], iso: string): Promise<unknown> {
  const schedule = JOB_SCHEDULES.find((s) => s.queue === 'failsafe');
  assert.ok(schedule);
  const handlers = { failsafe: () => Promise.resolve('ran'), sync: () => Promise.resolve('ran') };
  return dispatch(schedule, { clock: new ManualClock(Date.parse(iso)), calendar: calendars(SHIPPED), symbols: served, logger, handlers });
}

describe('scheduled jobs across markets', () => {
  it("runs on a Sunday evening once EUR/USD's week has opened, and not before nor for USD/COP alone", async () => {
    // Sunday 2026-03-01: 17:00 New York (EST) is 22:00Z.
    assert.equal(await dispatchedAt(['USD/COP', 'EUR/USD'], '2026-03-01T22:30:00Z'), 'ran');
    assert.deepEqual(await dispatchedAt(['USD/COP', 'EUR/USD'], '2026-03-01T21:30:00Z'), { skipped: 'non_trading_day', date: '2026-03-01' });
    assert.deepEqual(await dispatchedAt(['USD/COP'], '2026-03-01T22:30:00Z'), { skipped: 'non_trading_day', date: '2026-03-01' }, 'a worker serving USD/COP alone');
    assert.deepEqual(await dispatchedAt(['USD/COP', 'EUR/USD'], '2026-02-28T15:00:00Z'), { skipped: 'non_trading_day', date: '2026-02-28' });
  });

  it("counts EUR/USD's Sunday evening as a day of its market, for the dispatch and the failsafe alike", () => {
    const eur = calendars(['EUR/USD']).of('EUR/USD');
    assert.equal(eur.tradesOnDayOf(Date.parse('2026-03-01T22:30:00Z')), true, 'Sunday 17:30 New York: the Monday session is open');
    assert.equal(eur.tradesOnDayOf(Date.parse('2026-03-01T21:30:00Z')), false, 'Sunday 16:30 New York');
    assert.equal(eur.tradesOnDayOf(Date.parse('2026-03-06T23:00:00Z')), true, 'Friday 18:00 New York: a trading day, closed since 17:00');
  });

  it('syncs a market while it is open and for 30 minutes after its close', () => {
    const set = calendars(['USD/COP', 'USD/BRL', 'EUR/USD']);
    // Tuesday 2026-03-03: USD/COP closes 13:00 Bogota (18:00Z); USD/BRL 18:00 Sao Paulo (21:00Z).
    const syncing = (iso: string) => ['USD/COP', 'USD/BRL', 'EUR/USD'].filter((s) => streamedLately(set, s, Date.parse(iso)));
    assert.deepEqual(syncing('2026-03-03T17:55:00Z'), ['USD/COP', 'USD/BRL', 'EUR/USD']);
    assert.deepEqual(syncing('2026-03-03T18:25:00Z'), ['USD/COP', 'USD/BRL', 'EUR/USD']);
    assert.deepEqual(syncing('2026-03-03T18:35:00Z'), ['USD/BRL', 'EUR/USD']);
    assert.deepEqual(syncing('2026-03-03T23:00:00Z'), ['EUR/USD']);
    assert.deepEqual(syncing('2026-03-01T12:00:00Z'), [], 'a Sunday morning: every market closed');
  });
});
