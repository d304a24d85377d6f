import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { BAR_MS } from '../../src/domain/bar.ts';
import { HOUR_MS } from '../../src/domain/time.ts';
import { CalendarSet, MarketCalendar, type Session } from '../../src/domain/calendar.ts';
import { recentSessions } from '../../src/domain/gaps.ts';
import { shippedInstrument, type SymbolCode } from '../../src/domain/symbol.ts';
import { runFailsafeForSymbols, type FailsafeSymbolsResult } from '../../src/jobs/failsafe-symbols.ts';
import { FAILSAFE_DEFAULTS } from '../../src/jobs/failsafe.ts';
import { jobHandlers, type JobDependencies } from '../../src/jobs/handlers.ts';
import { createRestSource } from '../../src/jobs/history-source.ts';
import { barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { simulatorBars, startSim, type SimSetup } from './support/jobs-fixtures.ts';

/** Friday 2024-03-08 23:00Z: the week's sessions of all three markets are over (EUR/USD's closes 17:00 New York). */
const NOW = Date.UTC(2024, 2, 8, 23, 0);
const SYMBOLS: SymbolCode[] = ['USD/COP', 'USD/BRL', 'EUR/USD'];
/** Ten weeks: a REST window spans at most ~17 days, so holes 15 sessions apart each take their own request. */
const SESSIONS = 50;
const calendars = new CalendarSet(SYMBOLS.map((s) => new MarketCalendar({}, shippedInstrument(s))));

/**
 * Bars removed after a complete first run, per symbol: [session index, bars], from the session's
 * 31st bar. EUR/USD misses most (4 x 100, 4 requests), USD/BRL 3 x 40 (3 requests), USD/COP 10 (1).
 */
const HOLES: Record<SymbolCode, Array<[number, number]>> = {
  'EUR/USD': [[4, 100], [19, 100], [34, 100], [49, 100]],
  'USD/BRL': [[4, 40], [19, 40], [34, 40]],
  'USD/COP': [[49, 10]],
};
const HOLE_OFFSET = 30;

function sessionsOf(symbol: SymbolCode): Session[] {
  return recentSessions(calendars.of(symbol), NOW - FAILSAFE_DEFAULTS.graceMs, SESSIONS);
}

function holeSpans(symbol: SymbolCode): Array<{ from: number; to: number }> {
  const sessions = sessionsOf(symbol);
  return (HOLES[symbol] ?? []).map(([index, bars]) => {
    const session = sessions[index] as Session;
    const from = session.open + HOLE_OFFSET * BAR_MS;
    return { from, to: from + bars * BAR_MS };
  });
}

/** The worker's failsafe job, on a key with `credits` for the day. */
async function runJob(db: Db, setup: SimSetup, o: { logger?: JobDependencies['logger']; maxRequests?: number; credits?: number }): Promise<FailsafeSymbolsResult> {
  const plan = { perMinute: 8, perDay: o.credits ?? 800 };
  const rest = createRestSource({ db, clock: setup.clock, keys: [`key-${plan.perDay}`], plan, baseUrl: setup.sim.restUrl, simulated: true, timeoutMs: HOUR_MS });
  const failsafe = { sessions: SESSIONS, maxRequests: o.maxRequests };
  const handlers = jobHandlers({ db, calendar: calendars, clock: setup.clock, source: rest.source, pool: rest.pool, logger: o.logger, bus: null, symbols: SYMBOLS, failsafe });
  return (await handlers.failsafe({ queue: 'failsafe', job: 'failsafe', firedAt: setup.clock.now() })) as FailsafeSymbolsResult;
}

function logLines(): { logger: ReturnType<typeof pino>; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

for (const target of databaseTargets()) {
  describe(`the failsafe over several symbols on ${target.name}`, () => {
    let db: Db;
    let setup: SimSetup;
    /**
     * What the first run could not fill: the simulator prints no forex bar on a UTC Sunday, while
     * EUR/USD's calendar opens the week at 17:00 New York on Sunday (2 hours of bars each Monday session).
     */
    let unfillable: Record<SymbolCode, number> = {};
    before(async () => {
      db = await target.open();
      setup = await startSim(NOW, { symbols: SYMBOLS });
      // A first run with credit to spare fills and reconciles every session; then the holes are cut.
      const prefill = createRestSource({ db, clock: setup.clock, keys: ['prefill-key'], baseUrl: setup.sim.restUrl, simulated: true, timeoutMs: HOUR_MS });
      const first = await runFailsafeForSymbols({ db, calendar: calendars, clock: setup.clock, source: prefill.source, symbols: SYMBOLS, sessions: SESSIONS });
      unfillable = Object.fromEntries(first.order.map((s) => [s.symbol, s.missingAfter]));
      assert.deepEqual([unfillable['USD/BRL'], unfillable['USD/COP']], [0, 0], 'the first run fills everything the simulator has');
      for (const symbol of SYMBOLS) {
        for (const span of holeSpans(symbol)) await db.query('DELETE FROM bars WHERE symbol = $1 AND time >= $2 AND time < $3', [symbol, new Date(span.from), new Date(span.to)]);
      }
    });
    after(async () => {
      await setup.sim.close();
      await db.close();
    });

    it('serves the symbol missing most first, shares a short budget max-min, and writes the simulator bars', async () => {
      // Six requests for this run (the keys have more credits) for eight requests' worth of holes.
      const { logger, lines } = logLines();
      const result = await runJob(db, setup, { logger, maxRequests: 6 });

      assert.equal(result.budget, 6);
      const eur = unfillable['EUR/USD'] ?? 0;
      // Equal share 2; USD/COP needs 1, so the other two split 5: 2 each, the odd one to EUR/USD (missing most).
      assert.deepEqual(
        result.order.map((s) => [s.symbol, s.missingBefore, s.requestsNeeded, s.requestsAllowed, s.requestsUsed, s.missingAfter]),
        [
          ['EUR/USD', eur + 400, 4, 3, 3, eur + 100],
          ['USD/BRL', 120, 3, 2, 2, 40],
          ['USD/COP', 10, 1, 1, 1, 0],
        ],
      );
      const orderLine = lines.map((l) => JSON.parse(l) as { msg: string }).find((l) => l.msg.startsWith('failsafe: order'));
      assert.equal(orderLine?.msg, `failsafe: order EUR/USD (${eur + 400} missing, 3 of 4 requests), USD/BRL (120 missing, 2 of 3 requests), USD/COP (10 missing, 1 of 1 requests); budget 6`);
    });

    it('filled the served holes with exactly the bars of the simulator REST answer', async () => {
      for (const symbol of SYMBOLS) {
        const served = holeSpans(symbol).slice(0, symbol === 'EUR/USD' ? 3 : 2);
        for (const span of served) {
          const stored = await barsBetween(db, symbol, span.from, span.to);
          const reference = await simulatorBars(setup.sim, span.from, span.to, symbol);
          assert.equal(stored.length, (span.to - span.from) / BAR_MS, `${symbol} hole at ${new Date(span.from).toISOString()} filled`);
          assert.equal(reference.size, stored.length);
          for (const bar of stored) {
            const theirs = reference.get(bar.time);
            assert.deepEqual([bar.open, bar.high, bar.low, bar.close], [theirs?.open, theirs?.high, theirs?.low, theirs?.close], `${symbol} ${new Date(bar.time).toISOString()}`);
          }
        }
      }
      // The hole left for the next run: the last of EUR/USD's (windows are served in time order).
      const [left] = holeSpans('EUR/USD').slice(-1);
      assert.equal((await barsBetween(db, 'EUR/USD', left?.from ?? 0, left?.to ?? 0)).length, 0);
    });

    it('takes no more than the credits the keys have left today, shared the same way', async () => {
      // Left: EUR/USD's last hole and USD/BRL's last (one request each); two credits for the day.
      const result = await runJob(db, setup, { credits: 2 });
      assert.equal(result.budget, 2);
      assert.deepEqual(result.order.map((s) => [s.symbol, s.requestsAllowed]), [['EUR/USD', 1], ['USD/BRL', 1], ['USD/COP', 0]]);
      assert.deepEqual(result.order.slice(1).map((s) => s.requestsNeeded), [1, 0]);
      // A request retried after a dropped connection takes a credit too: never more than the day's.
      assert.ok(result.order.reduce((n, s) => n + s.requestsUsed, 0) <= 2);
    });
  });
}
