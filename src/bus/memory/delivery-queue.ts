/**
 * Runs deliveries after the current call returns (a microtask), one at a time in the order they
 * were queued. Publishers never re-enter handlers synchronously, and every subscriber sees events
 * in publish order, as with Redis.
 */
export class DeliveryQueue {
  private pending: (() => void)[] = [];
  private scheduled = false;

  push(delivery: () => void): void {
    this.pending.push(delivery);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    // Deliveries may queue more; they join this same drain, behind the ones already waiting.
    // They never throw: handlers run through callIsolated.
    try {
      for (let i = 0; i < this.pending.length; i++) (this.pending[i] as () => void)();
    } finally {
      this.pending = [];
      this.scheduled = false;
    }
  }
}
