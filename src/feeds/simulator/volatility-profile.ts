/**
 * The intraday shape of a pair's volatility, from the hours of the market it follows (its own
 * wall time, DST included), as a multiplier of the pair's 5-minute sigma per 5-minute UTC slot.
 *
 * - A local market (USD/COP, USD/BRL, USD/MXN, USD/CLP): busiest in the half hour after the open,
 *   calming to a midday lull, a run-up in the last hour, then a quieter after-hours tail and the
 *   pair's off-session level overnight. For USD/COP this is exactly the SET-FX profile the model
 *   always had (08:00 open, 13:00 close and fix, T+1..T+3 trading until 16:30).
 * - The 24-hour FX week (EUR/USD): by hours since the 17:00 New York day start, a rollover lull,
 *   the quieter Asian hours, London, the busiest London/New York overlap, the New York afternoon.
 *
 * The multipliers of a UTC day are computed once (the zone is asked for its offset at the day's
 * start and end, and per slot only on the rare day the offset changes) and kept, so a lookup is O(1).
 */
import { DateTime } from 'luxon';
import { BAR_MS } from '../../domain/bar.ts';
import { DAY_MS, MINUTE_MS, minuteOfDay } from '../../domain/time.ts';
import type { SimSession } from './instruments.ts';

const MINUTES_PER_DAY = DAY_MS / MINUTE_MS;
const SLOTS_PER_DAY = DAY_MS / BAR_MS;
const DAYS_CACHED = 64;
/** From this multiplier up a slot counts as busy: the feed ticks at its full rate. */
const BUSY_MULTIPLIER = 1;

/** [from, to) in minutes after the open, and the multiplier there; later entries paint over earlier ones. */
type Band = readonly [from: number, to: number, multiplier: number];

/** A local session of `length` minutes; in a short session the open's bands win, none reaching past the close. */
function localSessionBands(length: number): Band[] {
  const inSession: Band[] = [
    [0, length, 1.0], // the midday lull's level
    [length - 60, length, 1.2], // run-up to the close (and USD/COP's fix)
    [0, 120, 1.4], // the morning
    [0, 30, 2.0], // the open: the busiest half hour
  ];
  const afterClose: Band = [length, length + 210, 0.5]; // forward and next-day trading, thinner
  return [afterClose, ...inSession.map(([from, to, multiplier]): Band => [from, Math.min(to, length), multiplier])];
}

/** The 24-hour FX day from 17:00 New York, in minutes after that open. */
const FX_DAY_BANDS: readonly Band[] = [
  [0, 2 * 60, 0.3], // 17:00-19:00 New York: rollover, Wellington and Sydney only
  [2 * 60, 10 * 60, 0.5], // Tokyo and Singapore
  [10 * 60, 15 * 60, 1.0], // London morning
  [15 * 60, 19 * 60, 1.6], // London and New York both open: the busiest hours
  [19 * 60, 24 * 60, 0.8], // New York afternoon
];

export class VolatilityProfile {
  /** Multiplier per minute of the market's wall-clock day. */
  private readonly byLocalMinute: Float64Array;
  private readonly days = new Map<number, Float64Array>();

  constructor(
    private readonly session: SimSession,
    offSessionMultiplier: number,
  ) {
    this.byLocalMinute = localMinuteTable(session, offSessionMultiplier);
  }

  /** The multiplier of the 5-minute slot holding `t`. */
  multiplierAt(t: number): number {
    const day = Math.floor(t / DAY_MS);
    return this.slotMultipliers(day)[Math.floor((t - day * DAY_MS) / BAR_MS)] as number;
  }

  /** Slots where the market is busy (its session; London to New York lunch for the 24-hour week): the full tick rate. */
  isBusy(t: number): boolean {
    return this.multiplierAt(t) >= BUSY_MULTIPLIER;
  }

  /** The multipliers of the UTC day's 288 slots, in time order. */
  slotMultipliers(day: number): Float64Array {
    const cached = this.days.get(day);
    if (cached) return cached;
    const slots = this.computeDay(day);
    if (this.days.size >= DAYS_CACHED) this.days.delete(this.days.keys().next().value as number);
    this.days.set(day, slots);
    return slots;
  }

  private computeDay(day: number): Float64Array {
    const start = day * DAY_MS;
    const first = offsetMinutes(this.session.zone, start);
    const steady = first === offsetMinutes(this.session.zone, start + DAY_MS - BAR_MS);
    const out = new Float64Array(SLOTS_PER_DAY);
    for (let i = 0; i < SLOTS_PER_DAY; i++) {
      const t = start + i * BAR_MS;
      const offset = steady ? first : offsetMinutes(this.session.zone, t);
      out[i] = this.byLocalMinute[localMinuteOf(t, offset)] as number;
    }
    return out;
  }
}

function localMinuteTable(session: SimSession, offSessionMultiplier: number): Float64Array {
  const open = minuteOfDay(session.open);
  const close = minuteOfDay(session.close);
  const table = new Float64Array(MINUTES_PER_DAY).fill(offSessionMultiplier);
  if (!session.opensDayBefore) {
    for (const band of localSessionBands(close - open)) paint(table, open, band);
    return table;
  }
  for (const band of FX_DAY_BANDS) paint(table, open, band);
  // A week that closes before it reopens (say 17:00 to 18:00) is shut in between.
  if (close !== open) paint(table, close, [0, (open - close + MINUTES_PER_DAY) % MINUTES_PER_DAY, offSessionMultiplier]);
  return table;
}

/** Sets the band's minutes (relative to `origin`, wrapping past midnight) to its multiplier. */
function paint(table: Float64Array, origin: number, [from, to, multiplier]: Band): void {
  for (let m = Math.max(0, from); m < to; m++) table[(origin + m) % MINUTES_PER_DAY] = multiplier;
}

function localMinuteOf(t: number, offsetMinutes: number): number {
  const local = t + offsetMinutes * MINUTE_MS;
  return Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS);
}

/** The zone's UTC offset at an instant, in minutes (from the zone database: slow, so callers cache). */
function offsetMinutes(zone: string, t: number): number {
  return DateTime.fromMillis(t, { zone }).offset;
}
