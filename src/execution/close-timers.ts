/** One timer per session close on the injected clock, however many DAY orders wait for it. */
import type { CancelTimer, Clock } from '../clock.ts';

export class CloseTimers {
  private readonly timers = new Map<number, CancelTimer>();

  constructor(private readonly clock: Clock) {}

  /** Calls `onClose` at `close` (epoch ms) unless a timer for that close is already set. */
  schedule(close: number, onClose: () => void): void {
    if (this.timers.has(close)) return;
    const cancel = this.clock.setTimer(close - this.clock.now(), () => {
      this.timers.delete(close);
      onClose();
    });
    this.timers.set(close, cancel);
  }

  cancelAll(): void {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }
}
