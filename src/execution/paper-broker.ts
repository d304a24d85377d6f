/**
 * The paper broker: fills with the trading fill model on the ticks of the bus. An order works
 * from the first tick newer than the latest one seen when it was accepted (the next live tick);
 * a tick at or before the time of an order's latest fill never fills it again, so a replayed
 * tick fills nothing twice. It rejects an order while the market is closed or the symbol's feed
 * is stale (no tick for `staleAfterMs` on the clock), and fills nothing on a tick outside a
 * session. Its book is in memory: after a restart the order service hands the open orders back
 * (`restore`).
 */
import type { Bus, Unsubscribe } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import type { LatestPrice } from '../contracts/bus-messages.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { TasaError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { decideFill, quoteFromTick, type FillModelConfig, type Quote } from '../trading/fill-model.ts';
import { isOpen, recordFill, transitionOrder, type Order } from '../trading/order.ts';
import type { Broker, BrokerAnswer, BrokerListener } from './broker.ts';

export interface PaperBrokerConfig {
  fillModel: FillModelConfig;
  /** A symbol without a tick for this long is stale: orders are rejected. */
  staleAfterMs: number;
}

export interface PaperBrokerDeps {
  bus: Bus;
  clock: Clock;
  calendar: Calendars;
  logger: Logger;
  config: PaperBrokerConfig;
}

interface WorkingOrder {
  order: Order;
  /** Only ticks newer than this exchange time fill it. */
  after: number;
}

interface LastQuote {
  quote: Quote;
  /** When it arrived, on the clock. */
  receivedAt: number;
}

export class PaperBroker implements Broker {
  private readonly working = new Map<string, WorkingOrder>();
  private readonly quotes = new Map<SymbolCode, LastQuote>();
  private unsubscribes: Unsubscribe[] = [];
  private listener: BrokerListener = () => undefined;

  constructor(private readonly deps: PaperBrokerDeps) {}

  async start(symbols: readonly SymbolCode[], listener: BrokerListener): Promise<void> {
    this.listener = listener;
    for (const symbol of symbols) {
      const unsubscribe = await this.deps.bus.subscribe(symbol, (e) => (e.channel === 'ticks' ? this.onTick(e.symbol, e.data) : undefined), { channels: ['ticks'] });
      this.unsubscribes.push(unsubscribe);
    }
  }

  async stop(): Promise<void> {
    const unsubscribes = this.unsubscribes;
    this.unsubscribes = [];
    await Promise.all(unsubscribes.map((u) => u()));
  }

  submit(order: Order): Promise<BrokerAnswer> {
    const reason = this.refusal(order.symbol);
    if (reason !== null) return Promise.resolve({ accepted: false, reason });
    const accepted = transitionOrder(order, 'accepted', this.deps.clock.now());
    this.working.set(order.clientOrderId, { order: accepted, after: this.quotes.get(order.symbol)?.quote.time ?? Number.NEGATIVE_INFINITY });
    return Promise.resolve({ accepted: true });
  }

  restore(order: Order, lastFillTime: number | null): void {
    const acceptedAt = order.history.find((h) => h.status === 'accepted')?.at ?? Number.NEGATIVE_INFINITY;
    this.working.set(order.clientOrderId, { order, after: Math.max(acceptedAt, lastFillTime ?? Number.NEGATIVE_INFINITY) });
  }

  cancel(clientOrderId: string): boolean {
    return this.working.delete(clientOrderId);
  }

  quote(symbol: SymbolCode): Quote | null {
    return this.quotes.get(symbol)?.quote ?? null;
  }

  /** Why an order for the symbol cannot be accepted now, or null. */
  private refusal(symbol: SymbolCode): string | null {
    const now = this.deps.clock.now();
    if (!this.deps.calendar.of(symbol).isMarketOpen(now)) return `the ${symbol} market is closed`;
    const last = this.quotes.get(symbol);
    if (last === undefined) return `no tick for ${symbol} yet: the feed is stale`;
    const silentMs = now - last.receivedAt;
    if (silentMs > this.deps.config.staleAfterMs) return `the ${symbol} feed is stale: no tick for ${Math.round(silentMs / 1000)} s`;
    return null;
  }

  private onTick(symbol: SymbolCode, data: LatestPrice): void {
    const quote = this.parseQuote(symbol, data);
    if (quote === null) return;
    this.quotes.set(symbol, { quote, receivedAt: this.deps.clock.now() });
    if (this.deps.calendar.of(symbol).isMarketOpen(quote.time)) this.fillOn(symbol, quote);
    this.listener({ kind: 'quote', symbol, quote });
  }

  private parseQuote(symbol: SymbolCode, data: LatestPrice): Quote | null {
    try {
      const time = Date.parse(data.timestamp);
      if (!Number.isFinite(time)) throw new TasaError('bad_input', `Tick timestamp "${data.timestamp}" is not a time.`, { input: data.timestamp });
      return quoteFromTick({ symbol, time, price: data.price, bid: data.bid, ask: data.ask });
    } catch (err) {
      this.deps.logger.warn({ err, symbol }, 'paper broker: unreadable tick skipped');
      return null;
    }
  }

  private fillOn(symbol: SymbolCode, quote: Quote): void {
    for (const [id, working] of this.working) {
      if (working.order.symbol !== symbol || quote.time <= working.after) continue;
      const fill = decideFill(working.order, quote, this.deps.config.fillModel);
      if (fill === null) continue;
      const order = recordFill(working.order, fill.quantity, this.deps.clock.now());
      if (isOpen(order)) this.working.set(id, { order, after: quote.time });
      else this.working.delete(id);
      this.listener({ kind: 'fill', fill });
    }
  }
}
