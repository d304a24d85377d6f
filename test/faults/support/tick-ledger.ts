/**
 * The simulator's side of the truth: every price frame it wrote to an ingest connection, with
 * the wall-clock instant it was written. A tick is identified by what the wire carries (symbol,
 * exchange second, price, bid, ask): two identical quotes in the same second cannot be told apart
 * by any client, so they are one tick here too, as they are for the aggregator's duplicate check.
 */
import { performance } from 'node:perf_hooks';

export interface DeliveredTick {
  key: string;
  symbol: string;
  /** Exchange time, epoch ms (whole seconds, as on the wire). */
  time: number;
  /** performance.now() when the frame was written; the first delivery counts. */
  sentAt: number;
  connection: number;
}

export class TickLedger {
  private readonly ticks = new Map<string, DeliveredTick>();
  framesRecorded = 0;

  /** For the simulator's `onPriceFrame`. */
  readonly record = (connection: number, frame: string): void => {
    this.framesRecorded++;
    const f = JSON.parse(frame) as { symbol: string; timestamp: number; price: number; bid: number | null; ask: number | null };
    const time = f.timestamp * 1000;
    const key = tickKey(f.symbol, time, f.price, f.bid, f.ask);
    if (!this.ticks.has(key)) this.ticks.set(key, { key, symbol: f.symbol, time, sentAt: performance.now(), connection });
  };

  /** Distinct ticks of `symbol` delivered with exchange time in [from, to). */
  between(symbol: string, from: number, to: number): DeliveredTick[] {
    return [...this.ticks.values()].filter((t) => t.symbol === symbol && t.time >= from && t.time < to);
  }
}

export function tickKey(symbol: string, time: number, price: number, bid: number | null, ask: number | null): string {
  return `${symbol}|${time}|${price}|${bid ?? ''}|${ask ?? ''}`;
}
