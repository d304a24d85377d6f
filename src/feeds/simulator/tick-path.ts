/**
 * Ticks drawn through a slot's OHLC: the first tick is the open, the last the close, the high and
 * the low are each touched once at random positions, and every other tick wanders between those
 * anchors inside [low, high]. So the ticks of a slot aggregate exactly to its bar, and the live
 * stream and REST history agree. Times are random inside the slot (each minute gets at least one
 * tick when there are five or more, so 1min bars have no holes), seeded by (seed, symbol, slot).
 */
import { BAR_MS, type Ohlc } from '../../domain/bar.ts';
import { MINUTE_MS } from '../../domain/time.ts';
import type { SimInstrument } from './instruments.ts';
import { roundTo } from './instruments.ts';
import type { SlotPriceSource } from './price-source.ts';
import { Rng, hashString } from '../../domain/random.ts';
import { VolatilityProfile } from './volatility-profile.ts';

export interface SimTick {
  /** Exchange time, epoch ms (sub-second; the wire carries it floored to the second). */
  time: number;
  price: number;
  bid: number;
  ask: number;
}

/** Outside the busy hours of the pair's market (its session) the tick rate is this fraction of `ticksPerSecond`. */
const OFF_SESSION_RATE = 1 / 3;
/** Open, high, low, close each need a tick. */
const MIN_TICKS = 4;
const MINUTES_PER_SLOT = BAR_MS / MINUTE_MS;
/** Typical wander of the path between two anchors, as a fraction of the bar's range. */
const WANDER = 0.3;
/** Tick-to-tick jitter of the spread around the slot's spread. */
const SPREAD_JITTER = 0.15;
const SLOTS_CACHED = 128;

export class TickPath {
  private readonly stream: number;
  private readonly profile: VolatilityProfile;
  private readonly cache = new Map<number, readonly SimTick[]>();

  constructor(
    readonly source: SlotPriceSource,
    private readonly instrument: SimInstrument,
    seed: number,
    private readonly ticksPerSecond: number,
  ) {
    this.stream = hashString(`${seed}|${instrument.symbol}|ticks`);
    this.profile = new VolatilityProfile(instrument.session, instrument.offSessionMultiplier);
  }

  /** The slot's ticks in time order; empty when the slot has no bar. */
  ticksInSlot(slotOpen: number): readonly SimTick[] {
    const cached = this.cache.get(slotOpen);
    if (cached) return cached;
    const bar = this.source.slotOhlc(slotOpen);
    const ticks = bar === null ? [] : this.drawTicks(slotOpen, bar);
    if (this.cache.size >= SLOTS_CACHED) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(slotOpen, ticks);
    return ticks;
  }

  private drawTicks(slotOpen: number, bar: Ohlc): SimTick[] {
    const rng = Rng.keyed(this.stream, slotOpen / BAR_MS);
    const count = this.tickCount(slotOpen, rng);
    const times = tickTimes(slotOpen, count, rng);
    const prices = tickPrices(bar, count, rng, this.instrument.decimals);
    const [narrow, wide] = this.instrument.spreadFraction;
    // The spread is set per slot and jitters a little per tick, inside the instrument's range.
    const slotSpread = rng.between(narrow, wide);
    const spreadAt = (): number => Math.min(wide, Math.max(narrow, slotSpread * (1 + SPREAD_JITTER * (2 * rng.next() - 1))));
    return times.map((time, i) => quote(time, prices[i] as number, spreadAt(), this.instrument.decimals));
  }

  private tickCount(slotOpen: number, rng: Rng): number {
    const rate = this.ticksPerSecond * (this.profile.isBusy(slotOpen) ? 1 : OFF_SESSION_RATE);
    return Math.max(MIN_TICKS, Math.round(rate * (BAR_MS / 1000) * rng.between(0.8, 1.2)));
  }
}

function quote(time: number, price: number, spreadFraction: number, decimals: number): SimTick {
  const half = (price * spreadFraction) / 2;
  return { time, price, bid: Math.min(price, roundTo(price - half, decimals)), ask: Math.max(price, roundTo(price + half, decimals)) };
}

/** Sorted ms times inside the slot; the first five cover one minute each so no minute is empty. */
function tickTimes(slotOpen: number, count: number, rng: Rng): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const minute = i < MINUTES_PER_SLOT ? i : rng.int(MINUTES_PER_SLOT);
    times.push(slotOpen + minute * MINUTE_MS + rng.int(MINUTE_MS));
  }
  return times.sort((a, b) => a - b);
}

/** Prices for `count` ticks: open first, close last, high and low touched once in between. */
function tickPrices(bar: Ohlc, count: number, rng: Rng, decimals: number): number[] {
  const innerSlots = count - 2;
  const highAt = 1 + rng.int(innerSlots);
  let lowAt = 1 + rng.int(innerSlots - 1);
  if (lowAt >= highAt) lowAt++;
  const anchors: Array<readonly [number, number]> = [
    [0, bar.open],
    [highAt, bar.high],
    [lowAt, bar.low],
    [count - 1, bar.close],
  ];
  anchors.sort((a, b) => a[0] - b[0]);
  const prices = new Array<number>(count);
  for (let k = 0; k < anchors.length - 1; k++) {
    fillBetween(prices, anchors[k] as readonly [number, number], anchors[k + 1] as readonly [number, number], bar, rng, decimals);
  }
  return prices;
}

/**
 * The ticks strictly between two anchors: a Brownian bridge from one anchor price to the other
 * (a random walk with its end pinned), kept inside [low, high] so the anchors stay the extremes.
 */
function fillBetween(prices: number[], from: readonly [number, number], to: readonly [number, number], bar: Ohlc, rng: Rng, decimals: number): void {
  const [fromAt, fromPrice] = from;
  const [toAt, toPrice] = to;
  prices[fromAt] = fromPrice;
  prices[toAt] = toPrice;
  const steps = toAt - fromAt;
  const stepSigma = ((bar.high - bar.low) * WANDER) / Math.sqrt(steps);
  const walk = [0];
  for (let i = 1; i <= steps; i++) walk.push((walk[i - 1] as number) + stepSigma * rng.normal());
  const miss = walk[steps] as number;
  for (let i = 1; i < steps; i++) {
    const f = i / steps;
    const price = roundTo(fromPrice + (toPrice - fromPrice) * f + (walk[i] as number) - f * miss, decimals);
    prices[fromAt + i] = Math.min(bar.high, Math.max(bar.low, price));
  }
}
