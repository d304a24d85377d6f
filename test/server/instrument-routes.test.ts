/**
 * GET /api/instruments on a real server and store: every served symbol with its own market (zone,
 * session hours, bars per session, open now, next open and close on the server's clock), the
 * latest cached tick or null, and the change against the previous session's last stored close
 * (null when none is stored); the answer validates against its contract.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from 'typebox/value';
import type { LatestPrice } from '../../src/contracts/bus-messages.ts';
import { InstrumentsBody, type InstrumentView } from '../../src/contracts/api/instruments.ts';
import { CalendarSet, MarketCalendar } from '../../src/domain/calendar.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';
import { seedSessions } from './seed-bars.ts';

const SYMBOLS = ['USD/COP', 'USD/BRL'];
const calendars = new CalendarSet(SYMBOLS.map((s) => new MarketCalendar({}, shippedInstrument(s))));
const cop = calendars.of('USD/COP');
const brl = calendars.of('USD/BRL');
const iso = (ms: number) => new Date(ms).toISOString();

for (const target of databaseTargets()) {
  describe(`GET /api/instruments on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let previousClose: number;
    const previous = cop.previousSession(OPEN_TIME);

    before(async () => {
      db = await target.open();
      server = await startTestServer({ db, trading: false, deps: { symbols: SYMBOLS, calendar: calendars } });
      const bars = await seedSessions(db, cop, [[previous.date, {}]]);
      previousClose = bars.at(-1)!.close;
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    async function instruments(): Promise<InstrumentView[]> {
      const res = await server.app.inject({ method: 'GET', url: '/api/instruments' });
      assert.equal(res.statusCode, 200, res.body);
      const body: unknown = res.json();
      assert.ok(Value.Check(InstrumentsBody, body), JSON.stringify([...Value.Errors(InstrumentsBody, body)].slice(0, 3)));
      return body.instruments;
    }

    it('lists every served symbol with its own market, and null prices while nothing is cached', async () => {
      const [usdCop, usdBrl] = await instruments();
      assert.deepEqual([usdCop?.symbol, usdBrl?.symbol], SYMBOLS);
      const copSession = cop.sessionAt(OPEN_TIME)!;
      const brlSession = brl.sessionAt(OPEN_TIME)!;
      assert.deepEqual(usdCop?.market, {
        name: shippedInstrument('USD/COP').market.name,
        zone: 'America/Bogota',
        session: { open: '08:00', close: '13:00', opensDayBefore: false, weekdays: [1, 2, 3, 4, 5], barsPerSession: copSession.barCount },
        open: true,
        nextOpen: iso(cop.nextSession(copSession.close).open),
        nextClose: iso(copSession.close),
      });
      assert.equal(usdBrl?.market.zone, 'America/Sao_Paulo');
      assert.equal(usdBrl?.market.session.barsPerSession, brlSession.barCount);
      assert.notEqual(usdBrl?.market.session.barsPerSession, usdCop?.market.session.barsPerSession, 'bars per session follow each market');
      assert.equal(usdBrl?.market.nextClose, iso(brlSession.close));
      assert.equal(usdBrl?.decimals, shippedInstrument('USD/BRL').decimals);
      // No tick cached: no last price and no change, even with the previous close stored.
      assert.equal(usdCop?.last, null);
      assert.deepEqual(usdCop?.previousClose, { price: previousClose, session: previous.date });
      assert.equal(usdCop?.change, null);
      assert.equal(usdBrl?.previousClose, null);
    });

    it('gives the cached tick and its change against the previous session close; null for a symbol without a stored close', async () => {
      const price = Math.round(previousClose * 1.003 * 100) / 100;
      for (const symbol of SYMBOLS) {
        const tick: LatestPrice = { symbol, price, bid: null, ask: null, spread: null, timestamp: iso(OPEN_TIME - 2000), receivedAt: iso(OPEN_TIME - 1900), source: 'twelvedata_ws' };
        await server.deps.bus.setLatest(`latest:${symbol}`, tick, 60_000);
      }
      const [usdCop, usdBrl] = await instruments();
      assert.deepEqual(usdCop?.last, { price, time: iso(OPEN_TIME - 2000), source: 'twelvedata_ws' });
      assert.equal(usdCop?.change, Math.round((price - previousClose) * 1e6) / 1e6);
      assert.ok(Math.abs((usdCop?.changePct ?? 0) - ((price - previousClose) / previousClose) * 100) < 1e-9);
      assert.equal(usdBrl?.last?.price, price);
      assert.equal(usdBrl?.change, null, 'no USD/BRL bar is stored: no change is made up');
      assert.equal(usdBrl?.changePct, null);
    });

    it('follows the injected clock: USD/COP closed after 13:00 Bogota while USD/BRL still trades', async () => {
      const copSession = cop.sessionAt(OPEN_TIME)!;
      // The last test of the file: the clock only moves forward.
      await server.clock.advanceTo(copSession.close + 60_000);
      const [usdCop, usdBrl] = await instruments();
      assert.equal(usdCop?.market.open, false);
      assert.equal(usdCop?.market.nextOpen, iso(cop.nextSession(copSession.close).open));
      assert.equal(usdBrl?.market.open, true);
      assert.equal(usdBrl?.market.nextClose, iso(brl.sessionAt(copSession.close + 60_000)!.close));
    });
  });
}
