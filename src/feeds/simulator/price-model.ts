/**
 * The seeded USD/COP-like price model: deterministic 5-minute bars for any slot, computed in O(1)
 * after a memoised daily walk.
 *
 * - Daily level: a mean-reverting walk in log price (Ornstein-Uhlenbeck, one step per UTC day)
 *   from `level` on ANCHOR_DATE, pulled back towards `level` so it stays in a plausible band for
 *   decades. Weekend days carry a small gap (Monday does not open at Friday's close) and no bars.
 * - Intraday: each weekday's 288 slot closes form a Brownian bridge from that day's opening level
 *   to the next day's, with per-slot volatility from a Bogota-time profile (busiest at the 08:00
 *   open, calmer midday, quiet outside the session). The bridge's variance equals the daily step's,
 *   so the two scales agree; each slot's open is the previous slot's close (no seams inside a day).
 * - High/low extend past max/min(open, close) by a random wick of about half a slot sigma.
 */
import type { Ohlc } from '../../domain/bar.ts';
import { BAR_MS } from '../../domain/bar.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../domain/time.ts';
import type { SimInstrument } from './instruments.ts';
import { roundTo } from './instruments.ts';
import type { SlotPriceSource } from './price-source.ts';
import { Rng, hashString } from '../../domain/random.ts';

/** The model's first day (a Monday); nothing exists before it. */
export const ANCHOR_DATE = '2000-01-03';
const ANCHOR_DAY = Date.UTC(2000, 0, 3) / DAY_MS;
const SLOTS_PER_DAY = DAY_MS / BAR_MS;
/** Daily pull towards the long-run level: stationary spread about sigma_day / sqrt(2 * 0.002), ~10 %. */
const MEAN_REVERSION_PER_DAY = 0.002;
/** The weekend gap's sigma relative to a weekday's. */
const WEEKEND_GAP_RATIO = 0.3;
const WICK_SIGMAS = 0.5;
/** America/Bogota is UTC-5 all year (no DST since 1993), so a fixed offset is exact for the model's range. */
const BOGOTA_OFFSET_MS = -5 * HOUR_MS;
const DAYS_CACHED = 256;

/** Volatility multiplier by Bogota wall time: [from minute of day, multiplier], first match from the end. */
const VOLATILITY_PROFILE: ReadonlyArray<readonly [number, number]> = [
  [0, 0.2], // overnight: the aggregated quote keeps printing, barely moving
  [8 * 60, 2.0], // SET-FX opens at 08:00: the busiest half hour
  [8 * 60 + 30, 1.4],
  [10 * 60, 1.0], // midday lull
  [12 * 60, 1.2], // run-up to the 13:00 close and the Set-FX fix
  [13 * 60, 0.5], // T+1..T+3 trading until 16:30
  [16 * 60 + 30, 0.2],
];

export function volatilityMultiplier(t: number): number {
  const bogotaMinute = Math.floor((((t + BOGOTA_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / MINUTE_MS);
  let multiplier = 1;
  for (const [from, value] of VOLATILITY_PROFILE) if (bogotaMinute >= from) multiplier = value;
  return multiplier;
}

/** Inside the SET-FX spot session, 08:00-13:00 Bogota (weekday or not: weekends have no slots anyway). */
export function isBogotaSessionTime(t: number): boolean {
  const bogotaHour = Math.floor((((t + BOGOTA_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / HOUR_MS);
  return bogotaHour >= 8 && bogotaHour < 13;
}

/** UTC Saturday or Sunday: the aggregated forex quote does not print. */
export function isWeekendDay(day: number): boolean {
  const weekday = (day + 4) % 7; // 1970-01-01 was a Thursday (4); 0 = Sunday
  return weekday === 0 || weekday === 6;
}

export class ModelPriceSource implements SlotPriceSource {
  readonly earliest = ANCHOR_DAY * DAY_MS;
  readonly latest = Number.POSITIVE_INFINITY;
  private readonly stream: number;
  private readonly slotSigmas: number[];
  private readonly daySigma: number;
  /** Log level at the start of each UTC day, index = day - ANCHOR_DAY. */
  private readonly dayOpens: number[];
  private readonly days = new Map<number, Ohlc[]>();

  constructor(
    private readonly instrument: SimInstrument,
    seed: number,
  ) {
    this.stream = hashString(`${seed}|${instrument.symbol}`);
    this.slotSigmas = Array.from({ length: SLOTS_PER_DAY }, (_, i) => instrument.fiveMinuteSigma * volatilityMultiplier(i * BAR_MS));
    this.daySigma = Math.sqrt(this.slotSigmas.reduce((sum, s) => sum + s * s, 0));
    this.dayOpens = [Math.log(instrument.level)];
  }

  slotOhlc(slotOpen: number): Ohlc | null {
    const day = Math.floor(slotOpen / DAY_MS);
    if (day < ANCHOR_DAY || isWeekendDay(day)) return null;
    return this.daySlots(day)[Math.floor((slotOpen - day * DAY_MS) / BAR_MS)] ?? null;
  }

  /** The daily sigma implied by the intraday profile (log units), for tests and the report. */
  dailySigma(): number {
    return this.daySigma;
  }

  private daySlots(day: number): Ohlc[] {
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
      const sigma = isWeekendDay(previousDay) ? (this.isSaturday(previousDay) ? this.daySigma * WEEKEND_GAP_RATIO : 0) : this.daySigma;
      const shock = sigma * Rng.keyed(this.stream, 1, previousDay).normal();
      this.dayOpens.push(previous + MEAN_REVERSION_PER_DAY * (mean - previous) + shock);
    }
    return this.dayOpens[target] as number;
  }

  private isSaturday(day: number): boolean {
    return (day + 4) % 7 === 6;
  }

  /** One weekday's slots: a variance-weighted Brownian bridge from today's open level to tomorrow's. */
  private buildDay(day: number): Ohlc[] {
    const start = this.dayOpen(day);
    const end = this.dayOpen(day + 1);
    const rng = Rng.keyed(this.stream, 2, day);
    const cumulative: number[] = [];
    const cumulativeVariance: number[] = [];
    let walk = 0;
    let variance = 0;
    for (const sigma of this.slotSigmas) {
      walk += sigma * rng.normal();
      variance += sigma * sigma;
      cumulative.push(walk);
      cumulativeVariance.push(variance);
    }
    const miss = walk - (end - start);
    const closes = cumulative.map((w, i) => start + w - ((cumulativeVariance[i] as number) / variance) * miss);
    return this.slotsFromCloses(start, closes, rng);
  }

  private slotsFromCloses(startLog: number, closeLogs: number[], rng: Rng): Ohlc[] {
    const { decimals } = this.instrument;
    let open = roundTo(Math.exp(startLog), decimals);
    return closeLogs.map((closeLog, i) => {
      const close = roundTo(Math.exp(closeLog), decimals);
      const wickSigma = (this.slotSigmas[i] as number) * WICK_SIGMAS;
      const high = roundTo(Math.max(open, close) * Math.exp(Math.abs(rng.normal()) * wickSigma), decimals);
      const low = roundTo(Math.min(open, close) * Math.exp(-Math.abs(rng.normal()) * wickSigma), decimals);
      const bar = { open, high, low, close };
      open = close;
      return bar;
    });
  }
}
