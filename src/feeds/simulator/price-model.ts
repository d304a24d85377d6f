/**
 * The seeded price model of a pair: deterministic 5-minute bars for any slot, computed in O(1)
 * after a memoised day.
 *
 * - Daily level: a mean-reverting walk in log price (Ornstein-Uhlenbeck, one step per UTC day)
 *   from `level` on ANCHOR_DATE, pulled back towards `level` so it stays in a plausible band for
 *   decades. The UTC weekend carries a small gap (Monday does not open at Friday's close).
 * - Printing hours: the global FX week (fx-week.ts), Sunday 17:00 to Friday 17:00 New York, for
 *   every pair. Nothing prints from Friday 17:00 to Sunday 17:00 New York.
 * - Intraday: each weekday's 288 slot closes form a Brownian bridge from that day's opening level
 *   to the next day's, with per-slot volatility from the pair's market-hours profile
 *   (volatility-profile.ts: busiest at its market's open, calmer midday, quiet outside the session;
 *   for the 24-hour pair, busiest at the London/New York overlap). The bridge's variance equals the
 *   daily step's, so the two scales agree; each slot's open is the previous slot's close (no seams
 *   inside a day). Friday's bridge runs to Saturday's level as before; its slots after the close are
 *   not printed (that stretch is part of the shut weekend).
 * - Sunday evening: the printed slots are the last stretch of the weekend gap. Of the gap's variance
 *   (Saturday's level to Monday's), the share the evening's slot sigmas carry is printed: the
 *   evening opens at the gap's Brownian-bridge point that much variance before Monday's level, and
 *   its slots bridge from there to Monday's opening level. So the evening's moves have the profile's
 *   variance, the weekend's total stays the walk's gap, and the week's levels are unchanged.
 * - High/low extend past max/min(open, close) by a random wick of about half a slot sigma.
 */
import type { Ohlc } from '../../domain/bar.ts';
import { BAR_MS } from '../../domain/bar.ts';
import { DAY_MS } from '../../domain/time.ts';
import type { SimInstrument } from './instruments.ts';
import { roundTo } from './instruments.ts';
import type { SlotPriceSource } from './price-source.ts';
import { Rng, hashString } from '../../domain/random.ts';
import { VolatilityProfile } from './volatility-profile.ts';
import { fxWeekSlots, weekdayOf } from './fx-week.ts';

/** The model's first day (a Monday); nothing exists before it. */
export const ANCHOR_DATE = '2000-01-03';
const ANCHOR_DAY = Date.UTC(2000, 0, 3) / DAY_MS;
/** Daily pull towards the long-run level: stationary spread about sigma_day / sqrt(2 * 0.002), ~10 %. */
const MEAN_REVERSION_PER_DAY = 0.002;
/** The weekend gap's sigma relative to a weekday's. */
const WEEKEND_GAP_RATIO = 0.3;
const WICK_SIGMAS = 0.5;
const DAYS_CACHED = 256;
const SLOTS_PER_DAY = DAY_MS / BAR_MS;
const SUNDAY = 0;
const SATURDAY = 6;
/** Rng key kinds: 1 the daily walk, 2 a day's slots, 3 where Sunday evening opens inside the weekend gap. */
const SUNDAY_OPEN_KEY = 3;

/** UTC Saturday or Sunday: the daily walk's weekend (its gap); the printing hours are fx-week.ts's. */
export function isWeekendDay(day: number): boolean {
  const weekday = weekdayOf(day);
  return weekday === SUNDAY || weekday === SATURDAY;
}

export class ModelPriceSource implements SlotPriceSource {
  readonly earliest = ANCHOR_DAY * DAY_MS;
  readonly latest = Number.POSITIVE_INFINITY;
  private readonly stream: number;
  private readonly profile: VolatilityProfile;
  private readonly daySigma: number;
  /** Log level at the start of each UTC day, index = day - ANCHOR_DAY. */
  private readonly dayOpens: number[];
  private readonly days = new Map<number, ReadonlyArray<Ohlc | null>>();

  constructor(
    private readonly instrument: SimInstrument,
    seed: number,
  ) {
    this.stream = hashString(`${seed}|${instrument.symbol}`);
    this.profile = new VolatilityProfile(instrument.session, instrument.offSessionMultiplier);
    // The daily step's sigma is the whole profile's, taken on the first day: a day's slots hold
    // every minute of the market's day once, so only a DST change day differs (by an hour's share).
    this.daySigma = Math.sqrt(this.slotSigmas(ANCHOR_DAY).reduce((sum, s) => sum + s * s, 0));
    this.dayOpens = [Math.log(instrument.level)];
  }

  slotOhlc(slotOpen: number): Ohlc | null {
    const day = Math.floor(slotOpen / DAY_MS);
    if (day < ANCHOR_DAY) return null;
    return this.daySlots(day)[Math.floor((slotOpen - day * DAY_MS) / BAR_MS)] ?? null;
  }

  /** The daily sigma implied by the intraday profile (log units), for tests and the report. */
  dailySigma(): number {
    return this.daySigma;
  }

  private daySlots(day: number): ReadonlyArray<Ohlc | null> {
    const cached = this.days.get(day);
    if (cached) return cached;
    const slots = this.buildDay(day);
    if (this.days.size >= DAYS_CACHED) this.days.delete(this.days.keys().next().value as number);
    this.days.set(day, slots);
    return slots;
  }

  private dayOpen(day: number): number {
    const target = day - ANCHOR_DAY;
    const mean = Math.log(this.instrument.level);
    for (let i = this.dayOpens.length; i <= target; i++) {
      const previous = this.dayOpens[i - 1] as number;
      const previousDay = ANCHOR_DAY + i - 1;
      const sigma = isWeekendDay(previousDay) ? (weekdayOf(previousDay) === SATURDAY ? this.daySigma * WEEKEND_GAP_RATIO : 0) : this.daySigma;
      const shock = sigma * Rng.keyed(this.stream, 1, previousDay).normal();
      this.dayOpens.push(previous + MEAN_REVERSION_PER_DAY * (mean - previous) + shock);
    }
    return this.dayOpens[target] as number;
  }

  /** Each slot's 5-minute sigma on a UTC day. */
  private slotSigmas(day: number): number[] {
    return Array.from(this.profile.slotMultipliers(day), (multiplier) => this.instrument.fiveMinuteSigma * multiplier);
  }

  /** The UTC day's slots, null outside the FX week. */
  private buildDay(day: number): Array<Ohlc | null> {
    const { first, end } = fxWeekSlots(day);
    const slots = new Array<Ohlc | null>(SLOTS_PER_DAY).fill(null);
    if (first >= end) return slots;
    const printed = weekdayOf(day) === SUNDAY ? this.sundayEvening(day, first) : this.weekday(day);
    for (let i = first; i < end; i++) slots[i] = printed[i - first] ?? null;
    return slots;
  }

  /** A weekday's 288 slots: a variance-weighted Brownian bridge from today's open level to tomorrow's. */
  private weekday(day: number): Ohlc[] {
    const start = this.dayOpen(day);
    const rng = Rng.keyed(this.stream, 2, day);
    const slotSigmas = this.slotSigmas(day);
    const closes = bridgeCloses(start, this.dayOpen(day + 1), slotSigmas, rng);
    return this.slotsFromCloses(start, closes, slotSigmas, rng);
  }

  /** Sunday's slots from `first` (17:00 New York) to midnight: the weekend gap's last stretch, ending at Monday's level. */
  private sundayEvening(day: number, first: number): Ohlc[] {
    const slotSigmas = this.slotSigmas(day).slice(first);
    const eveningVariance = slotSigmas.reduce((sum, s) => sum + s * s, 0);
    const saturday = this.dayOpen(day - 1);
    const monday = this.dayOpen(day + 1);
    const gapVariance = (this.daySigma * WEEKEND_GAP_RATIO) ** 2;
    // The share of the gap left to print; were the evening ever busier than the gap, it starts at Saturday's level.
    const share = Math.min(1, eveningVariance / gapVariance);
    const wander = Math.sqrt(gapVariance * share * (1 - share)) * Rng.keyed(this.stream, SUNDAY_OPEN_KEY, day).normal();
    const start = monday - share * (monday - saturday) + wander;
    const rng = Rng.keyed(this.stream, 2, day);
    return this.slotsFromCloses(start, bridgeCloses(start, monday, slotSigmas, rng), slotSigmas, rng);
  }

  private slotsFromCloses(startLog: number, closeLogs: number[], slotSigmas: number[], rng: Rng): Ohlc[] {
    const { decimals } = this.instrument;
    let open = roundTo(Math.exp(startLog), decimals);
    return closeLogs.map((closeLog, i) => {
      const close = roundTo(Math.exp(closeLog), decimals);
      const wickSigma = (slotSigmas[i] as number) * WICK_SIGMAS;
      const high = roundTo(Math.max(open, close) * Math.exp(Math.abs(rng.normal()) * wickSigma), decimals);
      const low = roundTo(Math.min(open, close) * Math.exp(-Math.abs(rng.normal()) * wickSigma), decimals);
      const bar = { open, high, low, close };
      open = close;
      return bar;
    });
  }
}

/** Closes of a walk with the slots' sigmas from `start`, pinned to end at `end` (each slot absorbing the miss by its variance share). */
function bridgeCloses(start: number, end: number, slotSigmas: ArrayLike<number>, rng: Rng): number[] {
  const cumulative: number[] = [];
  const cumulativeVariance: number[] = [];
  let walk = 0;
  let variance = 0;
  for (let i = 0; i < slotSigmas.length; i++) {
    const sigma = slotSigmas[i] as number;
    walk += sigma * rng.normal();
    variance += sigma * sigma;
    cumulative.push(walk);
    cumulativeVariance.push(variance);
  }
  const miss = walk - (end - start);
  return cumulative.map((w, i) => start + w - ((cumulativeVariance[i] as number) / variance) * miss);
}
