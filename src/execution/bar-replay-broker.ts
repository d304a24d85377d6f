/**
 * A broker over stored bars, for `tasa paper replay`: the replay prints prices (a bar's open at
 * its open time; a session's closing price at its last bar's close) and each print fills every
 * working order of its symbol with the trading fill model, on a quote with no bid or ask (the
 * print is the price; the backtest models the spread as a cost, so the replay charges it as a fee).
 * An order works from the first print after it was accepted: a market order sent at a bar's
 * close fills at the next bar's open, as the backtest executes a decision. It accepts every order
 * (a replay has no market hours to enforce beyond the prints it is given).
 */
import type { Clock } from '../clock.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { decideFill, type FillModelConfig, type Quote } from '../trading/fill-model.ts';
import { parsePrice } from '../trading/money.ts';
import { isOpen, recordFill, transitionOrder, type Order } from '../trading/order.ts';
import type { Broker, BrokerAnswer, BrokerListener } from './broker.ts';

export class BarReplayBroker implements Broker {
  private readonly working = new Map<string, Order>();
  private readonly quotes = new Map<SymbolCode, Quote>();
  private listener: BrokerListener = () => undefined;

  constructor(
    private readonly clock: Clock,
    private readonly fillModel: FillModelConfig,
  ) {}

  start(_symbols: readonly SymbolCode[], listener: BrokerListener): Promise<void> {
    this.listener = listener;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.listener = () => undefined;
    return Promise.resolve();
  }

  submit(order: Order): Promise<BrokerAnswer> {
    this.working.set(order.clientOrderId, transitionOrder(order, 'accepted', this.clock.now()));
    return Promise.resolve({ accepted: true });
  }

  restore(order: Order): void {
    this.working.set(order.clientOrderId, order);
  }

  cancel(clientOrderId: string): boolean {
    return this.working.delete(clientOrderId);
  }

  quote(symbol: SymbolCode): Quote | null {
    return this.quotes.get(symbol) ?? null;
  }

  /** A trade at `price` (COP, a bar's float) at exchange time `time`: fills what works, then reports the quote. */
  print(symbol: SymbolCode, time: number, price: number): void {
    const quote: Quote = { time, bid: null, ask: null, price: parsePrice(price, `${symbol} bar price`, 'half_even') };
    this.quotes.set(symbol, quote);
    for (const [id, order] of this.working) {
      if (order.symbol !== symbol) continue;
      const fill = decideFill(order, quote, this.fillModel);
      if (fill === null) continue;
      const after = recordFill(order, fill.quantity, this.clock.now());
      if (isOpen(after)) this.working.set(id, after);
      else this.working.delete(id);
      this.listener({ kind: 'fill', fill });
    }
    this.listener({ kind: 'quote', symbol, quote });
  }
}
