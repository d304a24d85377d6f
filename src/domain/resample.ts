/**
 * 5-minute bars -> candles of a coarser interval, inside sessions only, in the market's own zone.
 * Buckets are aligned to the session open (USD/COP: 08:00 Bogota), so an hour candle is
 * 08:00-09:00, 09:00-10:00, ... and never spans two sessions; `1day` is the whole session. `4h` is
 * session-aligned too: USD/COP's are 08:00-12:00 and 12:00-13:00 (the session's last hour; its
 * candle expects 12 bars, not 48). `1w` is the market's trading week (Monday to Sunday by session
 * date): its candle opens at the week's first session
 * open, closes at its last session's close, and expects the bars of the week's sessions only
 * (a holiday week expects fewer); its `session` is the week's first session. Missing bars are not filled: a candle holds
 * the bars present, says how many, and is `complete` only when every bar of its bucket is there
 * and none of them is `partial` (built while the feed covered only part of its slot).
 *
 * Provenance: a candle holds bars of one class only, simulated or real (`isSimulatedSource`).
 * Where the class changes inside a bucket, the bucket is split: the candle so far closes, and a
 * new one opens at the first bar of the other class (its `time` is that bar's, not the bucket
 * open). Neither part holds the whole bucket, so neither is `complete`. Simulated prices are
 * never blended into a real candle, nor real ones into a simulated candle.
 * Pure: bars in, candles out.
 */
import { BAR_MS, isPartial, isSimulatedSource, type Bar, type BarSource, type Ohlc } from './bar.ts';
import { sessionDateOf, type MarketCalendar, type Session } from './calendar.ts';
import { addDays, weekday } from './time.ts';
import { CANDLESTICK_INTERVALS, type CandlestickInterval } from '../contracts/candle-intervals.ts';

/** The intervals resampled from 5-minute bars: every interval the API serves but `1min`, built from ticks (minute-candles.ts). */
export type CandleInterval = Exclude<CandlestickInterval, '1min'>;
export const CANDLE_INTERVALS: readonly CandleInterval[] = CANDLESTICK_INTERVALS.filter((i): i is CandleInterval => i !== '1min');

/** 5-minute bars per bucket inside one session; `session` = the whole session, `week` = the market week's sessions. */
const BARS_PER_BUCKET: Record<CandleInterval, number | 'session' | 'week'> = { '5min': 1, '15min': 3, '30min': 6, '1h': 12, '4h': 48, '1day': 'session', '1w': 'week' };
/** What the intervals mean, for the API docs. */
export const CANDLE_INTERVALS_TEXT =
  "Buckets are defined by session in the market's own zone: they align to the session open and never span two sessions, except 1w. " +
  '5min, 15min, 30min, 1h: fixed buckets from the open; 4h: from the open, the last one cut at the close (USD/COP, 08:00-13:00 Bogota: 08:00-12:00 and 12:00-13:00, the short last one expecting 12 bars); 1day: the session; ' +
  "1w: the market's trading week, Monday to Sunday by session date: from its first session open to its last session close, expecting the bars of its sessions only.";
/** Trading days in a week at most (Monday to Friday). */
const SESSIONS_PER_WEEK = 5;

export interface Candle extends Ohlc {
  /** Bucket open, epoch ms UTC. */
  time: number;
  /** The Bogota date of its session. */
  session: string;
  /** 5-minute bars present in the bucket (a 1-minute candle: 1). */
  bars: number;
  /** 5-minute bars the bucket holds when nothing is missing (a 1-minute candle: 1). */
  expected: number;
  complete: boolean;
  /** 1-minute candles only: the ticks it was built from. */
  ticks?: number;
  /** Its bars are the simulator's (see the provenance rule above). */
  simulated: boolean;
  /** The distinct sources of its bars, in order of first appearance (all of one class). */
  sources: BarSource[];
}

/** A run of consecutive candles of one provenance class: `from` and `to` are the first and last candle's time. */
export interface ProvenanceSegment {
  from: number;
  to: number;
  simulated: boolean;
  candles: number;
}

export interface Bucket {
  open: number;
  /** Exclusive end. */
  end: number;
  /** The session holding the bucket (for `1w`, the week's first). */
  session: Session;
  /** 5-minute bars the bucket holds when nothing is missing. */
  expected: number;
}

/** The bucket holding `t`, or null outside every session (for `1w`: outside the span of its week's sessions). */
export function bucketAt(calendar: MarketCalendar, interval: CandleInterval, t: number): Bucket | null {
  const perBucket = BARS_PER_BUCKET[interval];
  if (perBucket === 'week') return weekBucketAt(calendar, t);
  const session = calendar.sessionAt(t);
  if (session === null) return null;
  const span = (perBucket === 'session' ? session.barCount : perBucket) * BAR_MS;
  const open = session.open + Math.floor((t - session.open) / span) * span;
  const end = Math.min(open + span, session.close);
  return { open, end, session, expected: (end - open) / BAR_MS };
}

/** The market's trading week (Monday start, by session date) holding `t`: from its first session's open to its last one's close. */
function weekBucketAt(calendar: MarketCalendar, t: number): Bucket | null {
  const date = sessionDateOf(calendar, t);
  const monday = addDays(date, 1 - weekday(date));
  const sessions = calendar.sessionsBetween(monday, addDays(monday, 6));
  const first = sessions[0];
  const last = sessions.at(-1);
  if (first === undefined || last === undefined || t < first.open || t >= last.close) return null;
  return { open: first.open, end: last.close, session: first, expected: sessions.reduce((n, s) => n + s.barCount, 0) };
}

/** 5-minute bars in a full bucket of this interval (a session's bar count for `1day`, a five-session week's for `1w`). */
export function barsPerBucket(interval: CandleInterval, barsPerSession: number): number {
  const perBucket = BARS_PER_BUCKET[interval];
  if (perBucket === 'session') return barsPerSession;
  return perBucket === 'week' ? SESSIONS_PER_WEEK * barsPerSession : perBucket;
}

/**
 * Builds candles from bars fed in time order, one bucket at a time, so that a long range never
 * needs all its bars in memory. Bars outside every session are ignored (stored bars never are).
 */
export class CandleResampler {
  private bucket: Bucket | null = null;
  private candle: Candle | null = null;
  /** Partial bars in the candle being built: any makes it not complete. */
  private partialBars = 0;

  constructor(
    private readonly calendar: MarketCalendar,
    private readonly interval: CandleInterval,
  ) {}

  /** Adds a bar; returns the candle it closed (the previous bucket's, or the other class's part of this one), if any. */
  add(bar: Bar): Candle | null {
    const simulated = isSimulatedSource(bar.source);
    const current = this.bucket !== null && bar.time >= this.bucket.open && bar.time < this.bucket.end ? this.bucket : null;
    if (current !== null && this.candle?.simulated === simulated) {
      this.extend(bar);
      return null;
    }
    if (this.candle !== null && bar.time < this.candle.time) throw new RangeError(`Bars must come in time order: ${new Date(bar.time).toISOString()} after a later one.`);
    const bucket = current ?? bucketAt(this.calendar, this.interval, bar.time);
    if (bucket === null) return null;
    const closed = this.flush();
    this.bucket = bucket;
    const expected = bucket.expected;
    // A split bucket's second part opens at its own first bar (see the provenance rule).
    const time = current === null ? bucket.open : bar.time;
    this.candle = { time, session: bucket.session.date, open: bar.open, high: bar.high, low: bar.low, close: bar.close, bars: 1, expected, complete: expected === 1 && !isPartial(bar), simulated, sources: [bar.source] };
    this.partialBars = isPartial(bar) ? 1 : 0;
    return closed;
  }

  /** The candle being built (its bucket may still get bars), which is then forgotten. */
  flush(): Candle | null {
    const candle = this.candle;
    this.candle = null;
    this.bucket = null;
    return candle;
  }

  private extend(bar: Bar): void {
    const c = this.candle;
    if (c === null) return;
    c.high = Math.max(c.high, bar.high);
    c.low = Math.min(c.low, bar.low);
    c.close = bar.close;
    c.bars++;
    if (isPartial(bar)) this.partialBars++;
    c.complete = c.bars >= c.expected && this.partialBars === 0;
    if (!c.sources.includes(bar.source)) c.sources.push(bar.source);
  }
}

/** Runs of consecutive candles (in time order) of one provenance class. */
export function provenanceSegments(candles: readonly Candle[]): ProvenanceSegment[] {
  const segments: ProvenanceSegment[] = [];
  for (const c of candles) {
    const last = segments.at(-1);
    if (last !== undefined && last.simulated === c.simulated) {
      last.to = c.time;
      last.candles++;
    } else segments.push({ from: c.time, to: c.time, simulated: c.simulated, candles: 1 });
  }
  return segments;
}

/** Candles of `bars` (in time order). */
export function resampleBars(calendar: MarketCalendar, interval: CandleInterval, bars: Iterable<Bar>): Candle[] {
  return collectCandles(new CandleResampler(calendar, interval), bars);
}

/** Every candle a builder (bars or ticks in, candles out as buckets close) makes of `items`, the last one flushed. */
export function collectCandles<T>(builder: { add(item: T): Candle | null; flush(): Candle | null }, items: Iterable<T>): Candle[] {
  const candles: Candle[] = [];
  for (const item of items) {
    const closed = builder.add(item);
    if (closed) candles.push(closed);
  }
  const last = builder.flush();
  if (last) candles.push(last);
  return candles;
}
