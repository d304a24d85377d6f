/** One TickPrinter per symbol, running only while at least one connection is subscribed to it. */
import type { Clock } from '../../clock.ts';
import { TickPrinter } from './tick-printer.ts';
import type { SimTick, TickPath } from './tick-path.ts';

export class TickPrinters {
  private readonly feeds = new Map<string, { feed: TickPrinter; subscribers: number }>();
  ticksGenerated = 0;

  constructor(
    private readonly clock: Clock,
    private readonly paths: ReadonlyMap<string, TickPath>,
    private readonly publish: (symbol: string, tick: SimTick) => void,
    private readonly maxBacklogMs?: number,
  ) {}

  acquire(symbol: string): void {
    const entry = this.feeds.get(symbol);
    if (entry) {
      entry.subscribers++;
      return;
    }
    const path = this.paths.get(symbol);
    if (!path) return;
    const feed = new TickPrinter(this.clock, path, (tick) => {
      this.ticksGenerated++;
      this.publish(symbol, tick);
    }, this.maxBacklogMs);
    this.feeds.set(symbol, { feed, subscribers: 1 });
    feed.start();
  }

  release(symbol: string): void {
    const entry = this.feeds.get(symbol);
    if (!entry) return;
    entry.subscribers--;
    if (entry.subscribers > 0) return;
    entry.feed.stop();
    this.feeds.delete(symbol);
  }

  stopAll(): void {
    for (const { feed } of this.feeds.values()) feed.stop();
    this.feeds.clear();
  }
}
