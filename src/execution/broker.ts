/**
 * A venue the order service sends orders to: the paper broker now, a real venue adapter later.
 * The service owns the orders (state machine, store, audit); the broker works the ones it
 * accepted and reports, through the listener, each fill and each market quote (fills of a tick
 * before its quote, so that marks follow the fills).
 */
import type { SymbolCode } from '../domain/symbol.ts';
import type { Fill, Quote } from '../trading/fill-model.ts';
import type { Order } from '../trading/order.ts';

export type BrokerAnswer = { accepted: true } | { accepted: false; reason: string };

export type BrokerEvent = { kind: 'fill'; fill: Fill } | { kind: 'quote'; symbol: SymbolCode; quote: Quote };

export type BrokerListener = (event: BrokerEvent) => void;

export interface Broker {
  /** Starts market data for these symbols; events go to `listener` until `stop`. */
  start(symbols: readonly SymbolCode[], listener: BrokerListener): Promise<void>;
  stop(): Promise<void>;
  /** Accepts the order (it works from now on) or rejects it with the reason. */
  submit(order: Order): Promise<BrokerAnswer>;
  /**
   * Works an order accepted before a restart again. `lastFillTime`: exchange time of the tick of
   * its latest fill, null before any; it never fills again on a tick at or before that time.
   */
  restore(order: Order, lastFillTime: number | null): void;
  /** Stops working the order; false when the broker did not have it. */
  cancel(clientOrderId: string): boolean;
  /** The latest quote of the symbol, null before its first tick. */
  quote(symbol: SymbolCode): Quote | null;
}
