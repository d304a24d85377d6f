import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAR_MS, ohlcViolation, type Bar } from '../../src/domain/bar.ts';
import { DAY_MS, MINUTE_MS } from '../../src/domain/time.ts';
import { PriceHistory, aggregateTicks } from '../../src/feeds/simulator/history.ts';
import { resolveInstruments, type SimInstrument } from '../../src/feeds/simulator/instruments.ts';
import { bucketStart } from '../../src/feeds/simulator/intervals.ts';
import { ModelPriceSource, isWeekendDay } from '../../src/feeds/simulator/price-model.ts';
import { ReplayPriceSource } from '../../src/feeds/simulator/replay-source.ts';
import { TickPath } from '../../src/feeds/simulator/tick-path.ts';
import { VolatilityProfile } from '../../src/feeds/simulator/volatility-profile.ts';

const [USD_COP] = resolveInstruments(['USD/COP']) as [SimInstrument];
/** Tuesday 2024-03-05 13:00Z = 08:00 Bogota, the session open. */
const SESSION_OPEN = Date.UTC(2024, 2, 5, 13, 0);

function modelPath(seed = 7, ticksPerSecond = 3): TickPath {
  return new TickPath(new ModelPriceSource(USD_COP, seed), USD_COP, seed, ticksPerSecond);
}

describe('simulator price model', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new ModelPriceSource(USD_COP, 1);
    const b = new ModelPriceSource(USD_COP, 1);
    const c = new ModelPriceSource(USD_COP, 2);
    assert.deepEqual(a.slotOhlc(SESSION_OPEN), b.slotOhlc(SESSION_OPEN));
    assert.notDeepEqual(a.slotOhlc(SESSION_OPEN), c.slotOhlc(SESSION_OPEN));
  });

  it('computes a late slot without depending on what was computed before', () => {
    const late = Date.UTC(2031, 5, 10, 15, 35);
    const direct = new ModelPriceSource(USD_COP, 3).slotOhlc(late);
    const warmed = new ModelPriceSource(USD_COP, 3);
    warmed.slotOhlc(SESSION_OPEN);
    assert.deepEqual(warmed.slotOhlc(late), direct);
  });

  it('chains slots without seams inside a day and gives valid OHLC', () => {
    const model = new ModelPriceSource(USD_COP, 5);
    const day = Date.UTC(2024, 2, 5);
    let previousClose: number | null = null;
    for (let slot = day; slot < day + DAY_MS; slot += BAR_MS) {
      const bar = model.slotOhlc(slot);
      assert.ok(bar);
      assert.equal(ohlcViolation(bar), null);
      if (previousClose !== null) assert.equal(bar.open, previousClose);
      previousClose = bar.close;
    }
  });

  it('prints nothing from Friday to Sunday 17:00 New York (22:00Z in winter) and nothing before the anchor', () => {
    const model = new ModelPriceSource(USD_COP, 5);
    assert.equal(isWeekendDay(Date.UTC(2024, 2, 2) / DAY_MS), true);
    assert.ok(model.slotOhlc(Date.UTC(2024, 2, 1, 21, 55)));
    assert.equal(model.slotOhlc(Date.UTC(2024, 2, 1, 22, 0)), null);
    assert.equal(model.slotOhlc(Date.UTC(2024, 2, 2, 15, 0)), null);
    assert.equal(model.slotOhlc(Date.UTC(2024, 2, 3, 21, 55)), null);
    assert.ok(model.slotOhlc(Date.UTC(2024, 2, 3, 22, 0)));
    assert.ok(model.slotOhlc(Date.UTC(2024, 2, 3, 23, 55)));
    assert.ok(model.slotOhlc(Date.UTC(2024, 2, 4, 0, 0)));
    assert.equal(model.slotOhlc(Date.UTC(1999, 11, 31, 12, 0)), null);
  });

  it('has USD/COP character: level near 4,000, session moves ~0.05-0.1 %, quiet nights, 2-5 COP spread', () => {
    const model = new ModelPriceSource(USD_COP, 11);
    const levels: number[] = [];
    for (let year = 2001; year <= 2035; year++) {
      let day = Date.UTC(year, 2, 6);
      while (isWeekendDay(day / DAY_MS)) day += DAY_MS;
      levels.push((model.slotOhlc(day + 15 * 60 * MINUTE_MS) as { close: number }).close);
    }
    assert.ok(Math.min(...levels) > 2800 && Math.max(...levels) < 5600, `levels ${Math.min(...levels)}..${Math.max(...levels)}`);
    const sessionMoves = absoluteMoves(model, SESSION_OPEN, 60);
    const nightMoves = absoluteMoves(model, Date.UTC(2024, 2, 5, 4, 0), 60);
    assert.ok(sessionMoves > 0.0004 && sessionMoves < 0.0012, `session mean |move| ${sessionMoves}`);
    assert.ok(nightMoves < sessionMoves / 3, `night ${nightMoves} vs session ${sessionMoves}`);
    const profile = new VolatilityProfile(USD_COP.session, USD_COP.offSessionMultiplier);
    assert.ok(profile.multiplierAt(SESSION_OPEN) > profile.multiplierAt(Date.UTC(2024, 2, 5, 16, 0)), 'the open is busier than midday');
    for (const tick of modelPath(11).ticksInSlot(SESSION_OPEN)) {
      const spread = tick.ask - tick.bid;
      // 2-5 COP at 4,000, proportionally more at higher levels (rounding to cents adds up to 0.02).
      assert.ok(spread >= (tick.price * 2) / 4000 - 0.02 && spread <= (tick.price * 5) / 4000 + 0.02, `spread ${spread} at ${tick.price}`);
      assert.ok(tick.bid <= tick.price && tick.price <= tick.ask);
    }
  });
});

/** Mean |close/open - 1| of `count` slots from `from`. */
function absoluteMoves(model: ModelPriceSource, from: number, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const bar = model.slotOhlc(from + i * BAR_MS);
    assert.ok(bar);
    sum += Math.abs(bar.close / bar.open - 1);
  }
  return sum / count;
}

describe('simulator tick paths', () => {
  it('draws each slot through its OHLC: first = open, last = close, high and low touched', () => {
    const path = modelPath(21, 0.5);
    for (let slot = SESSION_OPEN; slot < SESSION_OPEN + 36 * BAR_MS; slot += BAR_MS) {
      const ticks = path.ticksInSlot(slot);
      const bar = path.source.slotOhlc(slot);
      assert.ok(ticks.length >= 4);
      assert.deepEqual(aggregateTicks(ticks, slot, slot + BAR_MS, Number.POSITIVE_INFINITY), bar);
      assert.ok(ticks.every((t, i) => t.time >= slot && t.time < slot + BAR_MS && (i === 0 || t.time >= (ticks[i - 1]?.time ?? 0))));
    }
  });

  it('rates ticks around ticksPerSecond in the session and a third of it outside', () => {
    const path = modelPath(2, 3);
    const inSession = path.ticksInSlot(SESSION_OPEN).length;
    const night = path.ticksInSlot(Date.UTC(2024, 2, 5, 4, 0)).length;
    assert.ok(inSession >= 3 * 300 * 0.8 && inSession <= 3 * 300 * 1.2, `${inSession} ticks`);
    assert.ok(night >= 300 * 0.8 && night <= 300 * 1.2, `${night} ticks`);
  });

  it('builds 1min bars from the ticks so that they aggregate to the 5min bar, and hides the future', () => {
    const history = new PriceHistory(modelPath(4, 1));
    const now = SESSION_OPEN + 2 * BAR_MS + 2 * MINUTE_MS + 30_000;
    const q = { from: SESSION_OPEN, to: SESSION_OPEN + 3 * BAR_MS, limit: 100, now };
    const fives = history.bars({ ...q, interval: '5min' });
    const ones = history.bars({ ...q, interval: '1min' });
    assert.equal(fives.length, 3);
    assert.equal(ones.length, 13, 'ten finished minutes, two in the forming slot and the forming minute');
    for (const five of fives) {
      const inside = ones.filter((b) => bucketStart('5min', b.time) === five.time).reverse();
      assert.equal(inside[0]?.open, five.open);
      assert.equal(inside.at(-1)?.close, five.close);
      assert.equal(Math.max(...inside.map((b) => b.high)), five.high);
      assert.equal(Math.min(...inside.map((b) => b.low)), five.low);
    }
    assert.equal(history.lastTick(now)?.price, fives[0]?.close, 'the forming bar closes at the last printed tick');
  });

  it('replays stored bars: ticks through each stored OHLC, no data where no bar is stored', () => {
    const bars: Bar[] = [0, 1, 3].map((i) => storedBar(SESSION_OPEN + i * BAR_MS, 3900 + i));
    const path = new TickPath(new ReplayPriceSource(bars), USD_COP, 1, 0.2);
    const history = new PriceHistory(path);
    const got = history.bars({ interval: '5min', from: 0, to: Number.POSITIVE_INFINITY, limit: 10, now: SESSION_OPEN + DAY_MS });
    assert.deepEqual(got.map((b) => b.time).reverse(), [0, 1, 3].map((i) => SESSION_OPEN + i * BAR_MS));
    assert.deepEqual(path.ticksInSlot(SESSION_OPEN + 2 * BAR_MS), []);
    const ticks = path.ticksInSlot(SESSION_OPEN + 3 * BAR_MS);
    assert.deepEqual(aggregateTicks(ticks, 0, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY), { open: 3903, high: 3908, low: 3899, close: 3905 });
  });
});

function storedBar(time: number, open: number): Bar {
  return { symbol: 'USD/COP', time, open, high: open + 5, low: open - 4, close: open + 2, volume: null, tickCount: null, source: 'import', revision: 1, flags: [] };
}
