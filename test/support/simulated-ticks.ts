/**
 * Ticks as the simulator sends them, without a server: the simulator's own tick path (seeded
 * price model, ticks drawn through each 5-minute slot) over every slot of the sessions in a date
 * range. Times are whole seconds as on the wire; each is received 80 ms after its exact time.
 * Deterministic for a seed. For retention tests and benchmarks.
 */
import type { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import type { IsoDate } from '../../src/domain/time.ts';
import { resolveInstruments, type SimInstrument } from '../../src/feeds/simulator/instruments.ts';
import { ModelPriceSource } from '../../src/feeds/simulator/price-model.ts';
import { TickPath, type SimTick } from '../../src/feeds/simulator/tick-path.ts';

export interface SimulatedTicksOptions {
  calendar: MarketCalendar;
  from: IsoDate;
  to: IsoDate;
  /** The simulator's default is 3 in session. */
  ticksPerSecond: number;
  seed?: number;
  symbol?: string;
}

/** Session by session, in time order (a month at 3/s is ~1.1 M ticks). */
export function* simulatedSessionTicks(o: SimulatedTicksOptions): Generator<Tick[]> {
  const [instrument] = resolveInstruments([o.symbol ?? 'USD/COP']) as [SimInstrument];
  const seed = o.seed ?? 1;
  const path = new TickPath(new ModelPriceSource(instrument, seed), instrument, seed, o.ticksPerSecond);
  for (const session of o.calendar.sessionsBetween(o.from, o.to)) {
    const ticks: Tick[] = [];
    for (const slot of o.calendar.barGrid(session)) {
      let last: SimTick | undefined;
      for (const t of path.ticksInSlot(slot)) {
        // Two draws can coincide in every field (same ms, same quote); the store keeps such a tick once.
        if (last !== undefined && t.time === last.time && t.price === last.price && t.bid === last.bid && t.ask === last.ask) continue;
        last = t;
        ticks.push({ symbol: instrument.symbol, time: Math.floor(t.time / 1000) * 1000, price: t.price, bid: t.bid, ask: t.ask, receivedAt: t.time + 80, source: 'simulator' });
      }
    }
    yield ticks;
  }
}

export function simulatedTicks(o: SimulatedTicksOptions): Tick[] {
  return [...simulatedSessionTicks(o)].flat();
}
