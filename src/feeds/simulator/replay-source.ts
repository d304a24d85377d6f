/** Replay: stored 5-minute bars stand in for the model; a slot without a bar has no data. */
import { BAR_MS, ohlcViolation, type Bar, type Ohlc } from '../../domain/bar.ts';
import type { SlotPriceSource } from './price-source.ts';

export interface ReplaySkipped {
  /** Not on the 5-minute grid. */
  offGrid: number;
  /** OHLC that cannot be a bar (high below close...). */
  invalid: number;
}

export class ReplayPriceSource implements SlotPriceSource {
  readonly earliest: number;
  readonly latest: number;
  readonly skipped: ReplaySkipped = { offGrid: 0, invalid: 0 };
  private readonly bySlot = new Map<number, Ohlc>();

  /** `bars` must all be of one symbol; later duplicates of a slot win. */
  constructor(bars: readonly Bar[]) {
    for (const bar of bars) this.add(bar);
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const time of this.bySlot.keys()) {
      first = Math.min(first, time);
      last = Math.max(last, time);
    }
    this.earliest = first;
    this.latest = last + BAR_MS;
  }

  get size(): number {
    return this.bySlot.size;
  }

  slotOhlc(slotOpen: number): Ohlc | null {
    return this.bySlot.get(slotOpen) ?? null;
  }

  private add(bar: Bar): void {
    if (bar.time % BAR_MS !== 0) {
      this.skipped.offGrid++;
      return;
    }
    if (ohlcViolation(bar) !== null) {
      this.skipped.invalid++;
      return;
    }
    this.bySlot.set(bar.time, { open: bar.open, high: bar.high, low: bar.low, close: bar.close });
  }
}
