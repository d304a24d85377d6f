/**
 * The read-only views (`tasa bars|gaps`, GET /api/gaps, /api/market/historical) turn market dates
 * into instants with the symbol's calendar: EUR/USD's session dated D opens at 17:00 New York the
 * evening before, so Bogota-midnight bounds would cut it and report its first hours as missing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar, type Session } from '../../src/domain/calendar.ts';
import { shippedInstrument, type SymbolCode } from '../../src/domain/symbol.ts';
import { toIsoUtc } from '../../src/domain/time.ts';
import { streamBars, upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { gapRows, utcBounds } from '../../src/store/query-rows.ts';
import { syncReferenceData } from '../../src/store/reference-data.ts';
import { databaseTargets } from '../support/test-db.ts';

const EURUSD: SymbolCode = 'EUR/USD';
const eurusd = new MarketCalendar({}, shippedInstrument(EURUSD));
const usdcop = new MarketCalendar();
const DAY = '2024-06-04'; // Tuesday: its EUR/USD session runs Monday 21:00Z to Tuesday 21:00Z (EDT)

/** Every bar of a session, priced inside the instrument's band. */
function sessionBars(calendar: MarketCalendar, session: Session): Bar[] {
  const { min, max } = calendar.instrument.priceBand;
  const mid = (min + max) / 2;
  const step = (max - min) / 10_000;
  return calendar.barGrid(session).map((time, i) => {
    const close = mid + ((i % 20) - 10) * step;
    return { symbol: calendar.symbol, time, open: close, high: close + step, low: close - step, close, volume: null, tickCount: 10, source: 'simulator', revision: 1, flags: [] };
  });
}

async function barsBetween(db: Db, symbol: SymbolCode, from: number, to: number): Promise<number> {
  let n = 0;
  for await (const page of streamBars(db, symbol, from, to)) n += page.length;
  return n;
}

for (const target of databaseTargets()) {
  describe(`query rows of a market whose session opens the day before, on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
      await syncReferenceData(db, [usdcop, eurusd]);
    });
    after(async () => {
      await db?.close();
    });

    it('finds no gap in a complete stored EUR/USD session, and its date bounds hold every bar', async () => {
      const session = eurusd.sessionFor(DAY);
      assert.ok(session !== null);
      assert.equal(new Date(session.open).toISOString(), '2024-06-03T21:00:00.000Z');
      const bars = sessionBars(eurusd, session);
      await upsertBars(db, bars);
      assert.deepEqual(await gapRows(db, eurusd, EURUSD, { from: DAY, to: DAY }), []);
      const bounds = utcBounds(eurusd, { from: DAY, to: DAY });
      assert.ok(bounds.from <= session.open && bounds.to >= session.close);
      assert.equal(await barsBetween(db, EURUSD, bounds.from, bounds.to), bars.length);
    });

    it('reports the missing hour of an EUR/USD session that opens the evening before', async () => {
      const date = '2024-06-05';
      const session = eurusd.sessionFor(date);
      assert.ok(session !== null);
      const bars = sessionBars(eurusd, session).slice(12); // the first hour (21:00-21:55Z the day before) is missing
      await upsertBars(db, bars);
      const gaps = await gapRows(db, eurusd, EURUSD, { from: date, to: date });
      assert.deepEqual(gaps, [{ date, from: toIsoUtc(session.open), to: toIsoUtc(Date.parse('2024-06-04T22:00:00Z')), bars: 12 }]);
    });

    it('keeps USD/COP bounds at Bogota midnights', () => {
      const bounds = utcBounds(usdcop, { from: DAY, to: DAY });
      assert.deepEqual(bounds, { from: Date.parse('2024-06-04T05:00:00Z'), to: Date.parse('2024-06-05T05:00:00Z') });
    });
  });
}
