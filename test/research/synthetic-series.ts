/**
 * A deterministic synthetic USD/COP-like series for the research tests and benches: real calendar
 * sessions, a log random walk with overnight gaps, flat bars, missing bars and short sessions.
 */
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { SeriesBar } from '../../src/research/types.ts';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  seed?: number;
  /** First session on or after this instant (default 2024-01-02T00:00Z). */
  from?: number;
  /** Probability that a slot has no bar (default 0.03). */
  gapRate?: number;
  /** Probability that a bar is flat, O = H = L = C (default 0.3). */
  flatRate?: number;
  /** Probability that a session stops early (default 0.05), and that it has one bar only (default 0.02). */
  shortSessionRate?: number;
  oneBarSessionRate?: number;
}

/** About `bars` bars (stops at the first session end at or after that count). */
export function syntheticSeries(bars: number, options: SyntheticOptions = {}): SeriesBar[] {
  const random = prng(options.seed ?? 7);
  const calendar = new MarketCalendar();
  const gapRate = options.gapRate ?? 0.03;
  const flatRate = options.flatRate ?? 0.3;
  const shortRate = options.shortSessionRate ?? 0.05;
  const oneBarRate = options.oneBarSessionRate ?? 0.02;
  const out: SeriesBar[] = [];
  let price = 4000;
  let t = options.from ?? Date.parse('2024-01-02T00:00:00Z');
  while (out.length < bars) {
    const session = calendar.nextSession(t);
    t = session.close;
    price *= Math.exp((random() - 0.5) * 0.01); // overnight gap
    const u = random();
    const slots = u < oneBarRate ? 1 : u < oneBarRate + shortRate ? 5 + Math.floor(random() * 40) : session.barCount;
    for (let slot = 0; slot < slots; slot++) {
      if (slots > 1 && random() < gapRate) continue;
      const open = price;
      const close = open * Math.exp((random() - 0.5) * 0.002 + Math.sin(out.length / 37) * 0.0002);
      const flat = random() < flatRate;
      const high = flat ? close : Math.max(open, close) * (1 + random() * 0.0005);
      const low = flat ? close : Math.min(open, close) * (1 - random() * 0.0005);
      out.push({ time: session.open + slot * BAR_MS, session: session.date, barOfSession: slot + 1, open: flat ? close : open, high, low, close });
      price = close;
    }
  }
  return out;
}

/** The stored-bar form of series rows. */
export function toBars(series: readonly SeriesBar[], symbol = 'USD/COP'): Bar[] {
  return series.map((b) => ({ symbol, time: b.time, open: b.open, high: b.high, low: b.low, close: b.close, volume: null, tickCount: null, source: 'simulator', revision: 0, flags: [] }));
}
