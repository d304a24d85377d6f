/** A price event from a feed. Times are the exchange's, never the receive time (kept apart). */
import type { SymbolCode } from './symbol.ts';

export type TickSource = 'twelvedata_ws' | 'simulator' | 'replay';

export interface Tick {
  symbol: SymbolCode;
  /** Exchange timestamp, epoch ms UTC (TwelveData sends whole seconds). */
  time: number;
  price: number;
  bid: number | null;
  ask: number | null;
  /** When this process received it, epoch ms UTC (for latency metrics). */
  receivedAt: number;
  source: TickSource;
}
