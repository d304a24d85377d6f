/**
 * Prints a symbol's ticks on the injected clock: one timer for the next tick, which then sends
 * every tick due by the clock's time (so a coarse or fast clock batches instead of falling behind).
 * A ManualClock fires each tick's timer at the tick's own time, which makes tests exact.
 */
import type { CancelTimer, Clock } from '../../clock.ts';
import { BAR_MS } from '../../domain/bar.ts';
import { DAY_MS, MINUTE_MS } from '../../domain/time.ts';
import type { SimTick, TickPath } from './tick-path.ts';

/** How far ahead to look for the next tick before checking again (covers a weekend). */
const SEARCH_HORIZON_MS = 3 * DAY_MS;
/** After a long pause (a suspended laptop, a huge clock speed) only this much backlog is sent, by default. */
export const DEFAULT_MAX_BACKLOG_MS = 10 * MINUTE_MS;

export class TickPrinter {
  private lastSent = 0;
  private cancel: CancelTimer | null = null;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly path: TickPath,
    private readonly onTick: (tick: SimTick) => void,
    private readonly maxBacklogMs = DEFAULT_MAX_BACKLOG_MS,
  ) {}

  /** Starts printing the ticks after the current time (earlier ones are history, not news). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastSent = this.clock.now();
    this.scheduleNext();
  }

  stop(): void {
    this.running = false;
    this.cancel?.();
    this.cancel = null;
  }

  private scheduleNext(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const next = this.nextTickAfter(this.lastSent);
    const wakeAt = next?.time ?? this.lastSent + SEARCH_HORIZON_MS;
    this.cancel = this.clock.setTimer(Math.max(0, wakeAt - now), () => this.sendDue());
  }

  private sendDue(): void {
    this.cancel = null;
    if (!this.running) return;
    const now = this.clock.now();
    const from = Math.max(this.lastSent, now - this.maxBacklogMs);
    for (const tick of this.ticksBetween(from, now)) this.onTick(tick);
    // A timer that fired early (scaled clocks round) sends nothing and simply searches again.
    this.lastSent = Math.max(this.lastSent, now);
    this.scheduleNext();
  }

  /** Ticks with from < time <= to, in time order. */
  private ticksBetween(from: number, to: number): SimTick[] {
    const out: SimTick[] = [];
    for (let slot = slotOf(from); slot <= to; slot += BAR_MS) {
      for (const tick of this.path.ticksInSlot(slot)) if (tick.time > from && tick.time <= to) out.push(tick);
    }
    return out;
  }

  private nextTickAfter(t: number): SimTick | null {
    const source = this.path.source;
    const horizon = Math.min(t + SEARCH_HORIZON_MS, source.latest);
    for (let slot = slotOf(t); slot < horizon; slot += BAR_MS) {
      for (const tick of this.path.ticksInSlot(slot)) if (tick.time > t) return tick;
    }
    return null;
  }
}

function slotOf(t: number): number {
  return Math.floor(t / BAR_MS) * BAR_MS;
}
