/**
 * The five shipped instruments as one multi-symbol deployment sees them (issue 15): prices from the
 * simulator's seeded model (src/feeds/simulator), frames as its WebSocket prints them, so the
 * figures use each pair's own price scale and decimals rather than constants.
 */
import { BAR_MS } from '../src/domain/bar.ts';
import type { Calendars } from '../src/domain/calendar.ts';
import { priceBandViolation } from '../src/domain/symbol.ts';
import type { IsoDate } from '../src/domain/time.ts';
import { resolveInstruments, type SimInstrument } from '../src/feeds/simulator/instruments.ts';
import { ModelPriceSource } from '../src/feeds/simulator/price-model.ts';
import { TickPath, type SimTick } from '../src/feeds/simulator/tick-path.ts';
import { priceEvent } from '../src/feeds/simulator/ws-messages.ts';

export const MIX_SYMBOLS: readonly string[] = ['USD/COP', 'USD/BRL', 'USD/MXN', 'USD/CLP', 'EUR/USD'];
const SEED = 15;

export interface MixFrame {
  symbol: string;
  /** Exchange time, epoch ms (the frame carries it floored to the second). */
  time: number;
  frame: string;
}

/**
 * The span of `date` during which every symbol's market is open: the latest open to the earliest
 * close. (2026-03-03: 13:30 UTC, Mexico City's 07:30, to 16:30 UTC, Santiago's 13:30 in its summer time.)
 */
export function commonOpenWindow(calendars: Calendars, symbols: readonly string[], date: IsoDate): { from: number; to: number } {
  const sessions = symbols.map((symbol) => {
    const session = calendars.of(symbol).sessionFor(date);
    if (session === null) throw new Error(`${symbol} does not trade on ${date}`);
    return session;
  });
  const from = Math.max(...sessions.map((s) => s.open));
  const to = Math.min(...sessions.map((s) => s.close));
  if (to <= from) throw new Error(`the markets of ${symbols.join(', ')} are never all open on ${date}`);
  return { from, to };
}

/**
 * Every symbol's simulated ticks over the slots of [from, to), as TwelveData price frames, merged in
 * time order as one WebSocket subscribed to all of them delivers them. Flat strings, as they come
 * off the socket. Throws if a price leaves its instrument's priceBand.
 */
export function interleavedFrames(symbols: readonly string[], from: number, to: number, ticksPerSecond: number): MixFrame[] {
  const frames: MixFrame[] = [];
  for (const instrument of resolveInstruments(symbols)) {
    const path = new TickPath(new ModelPriceSource(instrument, SEED), instrument, SEED, ticksPerSecond);
    for (let slot = from; slot < to; slot += BAR_MS) {
      for (const tick of path.ticksInSlot(slot)) frames.push(priceFrame(instrument, tick));
    }
  }
  // Stable: ticks of one millisecond keep the symbols' order.
  return frames.sort((a, b) => a.time - b.time);
}

function priceFrame(instrument: SimInstrument, tick: SimTick): MixFrame {
  const violation = priceBandViolation(instrument.symbol, tick.price);
  if (violation !== null) throw new Error(`simulated price out of band: ${violation}`);
  return { symbol: instrument.symbol, time: tick.time, frame: priceEvent(instrument, tick) };
}

/** Each symbol's last simulated tick of the slot opening at `slotOpen` (a slot inside every market's session). */
export function modelQuotes(symbols: readonly string[], slotOpen: number): Map<string, SimTick> {
  const quotes = new Map<string, SimTick>();
  for (const instrument of resolveInstruments(symbols)) {
    const tick = new TickPath(new ModelPriceSource(instrument, SEED), instrument, SEED, 1).ticksInSlot(slotOpen).at(-1);
    if (tick === undefined) throw new Error(`the simulator has no ${instrument.symbol} tick in the slot at ${new Date(slotOpen).toISOString()}`);
    quotes.set(instrument.symbol, tick);
  }
  return quotes;
}
