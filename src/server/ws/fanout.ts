/**
 * The gateway's fan-out hub: ONE bus subscription per symbol per process however many clients
 * watch it. Each event is encoded once (protocol.ts) and the same bytes are offered to every
 * interested client; a client's offer never awaits, so a slow client cannot hold the loop up.
 *
 * Writes are batched per event-loop turn: each client collects its frames of the turn and the
 * hub writes them out on setImmediate, so a burst of events is one write per client instead of
 * one per message; clients with the same frames share one joined buffer. Metrics are counted
 * in plain numbers and added to the Prometheus counters at the same moment, not once per message.
 */
import type { FastifyInstance } from 'fastify';
import type { BusEvent, SeqGap, Unsubscribe } from '../../bus/index.ts';
import type { CancelTimer } from '../../clock.ts';
import { errorMessage } from '../../errors.ts';
import type { MarketCalendar } from '../../domain/calendar.ts';
import type { ServerDeps } from '../deps.ts';
import { encodeEvent, heartbeatPayload, marketStatusPayload, type OutboundEvent } from './protocol.ts';
import type { DeliveryStats, TurnWriter, WriteBatcher } from './send-queue.ts';

export const HEARTBEAT_INTERVAL_MS = 15_000;
/** A client congested this long (four heartbeats) has stopped reading: it is disconnected. */
export const STALL_LIMIT_MS = 4 * HEARTBEAT_INTERVAL_MS;

/** What the hub needs from a connected client (a ClientSession). */
export interface HubClient {
  /** Held back by the slow-client policy (its socket buffer is over the bound). */
  readonly congested: boolean;
  /** A live event of a symbol the client is attached to; must not throw or await. */
  offer(ev: OutboundEvent): void;
  /** Seqs of a symbol the client is attached to that the bus cannot deliver; must not throw or await. */
  gap(gap: SeqGap): void;
  /** Every HEARTBEAT_INTERVAL_MS, with the encoded heartbeat. */
  heartbeat(payload: Buffer, now: number): void;
  /** At each market open and close, with the encoded market_status. */
  marketStatus(payload: Buffer): void;
}

interface Feed {
  clients: Set<HubClient>;
  ready: Promise<void>;
  unsubscribe: Unsubscribe | null;
  closed: boolean;
}

type HubDeps = Pick<ServerDeps, 'bus' | 'clock' | 'calendar' | 'metrics' | 'logger' | 'symbols'>;

export class FanoutHub implements DeliveryStats, WriteBatcher {
  private readonly feeds = new Map<string, Feed>();
  private readonly clients = new Set<HubClient>();
  private readonly writers = new Set<TurnWriter>();
  /** This turn's joined frames, by their first frame: clients with the same frames share one buffer. */
  private readonly joined = new Map<Buffer, Array<{ frames: readonly Buffer[]; buffer: Buffer }>>();
  private readonly sentCounts = new Map<string, number>();
  private readonly droppedCounts = new Map<string, number>();
  private flushScheduled = false;
  private heartbeatTimer: CancelTimer | null = null;
  private transitionTimer: CancelTimer | null = null;
  private closed = false;

  constructor(private readonly deps: HubDeps) {
    this.armHeartbeat();
    this.armTransition();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Clients held back by the slow-client policy right now. */
  get congestedCount(): number {
    let n = 0;
    for (const client of this.clients) if (client.congested) n++;
    return n;
  }

  /** Symbols with a bus subscription in this process (one each). */
  get feedSymbols(): string[] {
    return [...this.feeds.keys()];
  }

  register(client: HubClient): void {
    if (this.clients.has(client)) return;
    this.clients.add(client);
    this.deps.metrics.wsClients.inc();
  }

  /** Forgets the client and detaches it from every symbol. */
  unregister(client: HubClient): void {
    if (!this.clients.delete(client)) return;
    this.deps.metrics.wsClients.dec();
    for (const symbol of [...this.feeds.keys()]) this.detach(client, symbol);
  }

  /** Starts delivering the symbol's live events to the client; resolves once the bus subscription is live. */
  async attach(client: HubClient, symbol: string): Promise<void> {
    const feed = this.feeds.get(symbol) ?? this.openFeed(symbol);
    feed.clients.add(client);
    this.countSubscriptions(symbol, feed);
    try {
      await feed.ready;
    } catch (err) {
      feed.clients.delete(client);
      this.countSubscriptions(symbol, feed);
      throw err;
    }
  }

  detach(client: HubClient, symbol: string): void {
    const feed = this.feeds.get(symbol);
    if (!feed?.clients.delete(client)) return;
    this.countSubscriptions(symbol, feed);
    if (feed.clients.size === 0) this.closeFeed(symbol, feed);
  }

  private countSubscriptions(symbol: string, feed: Feed): void {
    this.deps.metrics.wsSubscriptions.set({ symbol }, feed.clients.size);
  }

  enqueue(writer: TurnWriter): void {
    this.writers.add(writer);
    this.scheduleFlush();
  }

  join(frames: readonly Buffer[]): Buffer {
    const first = frames[0] as Buffer;
    const candidates = this.joined.get(first) ?? [];
    const same = candidates.find((c) => c.frames.length === frames.length && c.frames.every((f, i) => f === frames[i]));
    if (same) return same.buffer;
    const buffer = Buffer.concat(frames);
    this.joined.set(first, [...candidates, { frames, buffer }]);
    return buffer;
  }

  sent(type: string): void {
    this.sentCounts.set(type, (this.sentCounts.get(type) ?? 0) + 1);
  }

  dropped(reason: string, n: number): void {
    this.droppedCounts.set(reason, (this.droppedCounts.get(reason) ?? 0) + n);
    this.scheduleFlush();
  }

  finalBarSent(closeAt: number): void {
    this.deps.metrics.barCloseToClient.observe(Math.max(0, this.deps.clock.now() - closeAt) / 1000);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heartbeatTimer?.();
    this.transitionTimer?.();
    const feeds = [...this.feeds];
    this.feeds.clear();
    for (const [symbol, feed] of feeds) this.closeFeed(symbol, feed);
    this.flush();
    await Promise.all(feeds.map(([, feed]) => feed.ready.catch(() => undefined)));
  }

  private openFeed(symbol: string): Feed {
    const feed: Feed = { clients: new Set(), ready: Promise.resolve(), unsubscribe: null, closed: false };
    feed.ready = this.deps.bus.subscribe(symbol, (e) => this.dispatch(feed, e), { onGap: (gap) => this.dispatchGap(feed, gap) }).then(
      (unsubscribe) => {
        if (feed.closed) void unsubscribe().catch(() => undefined);
        else feed.unsubscribe = unsubscribe;
      },
      (err: unknown) => {
        if (this.feeds.get(symbol) === feed) this.feeds.delete(symbol);
        throw err;
      },
    );
    // Callers of attach() handle the rejection; this keeps a feed nobody awaits any more from crashing the process.
    feed.ready.catch(() => undefined);
    this.feeds.set(symbol, feed);
    return feed;
  }

  private closeFeed(symbol: string, feed: Feed): void {
    feed.closed = true;
    if (this.feeds.get(symbol) === feed) this.feeds.delete(symbol);
    const unsubscribe = feed.unsubscribe;
    feed.unsubscribe = null;
    if (unsubscribe) {
      unsubscribe().catch((err: unknown) => this.deps.logger.warn({ symbol, err: errorMessage(err) }, 'ws gateway: bus unsubscribe failed'));
    }
  }

  private dispatch(feed: Feed, e: BusEvent): void {
    if (feed.closed) return;
    const ev = encodeEvent(e, { calendar: this.deps.calendar, now: this.deps.clock.now() });
    for (const client of feed.clients) {
      try {
        client.offer(ev);
      } catch (err) {
        this.deps.logger.error({ err: errorMessage(err), symbol: e.symbol, seq: e.seq }, 'ws gateway: delivery to one client failed');
      }
    }
  }

  private dispatchGap(feed: Feed, gap: SeqGap): void {
    if (feed.closed) return;
    this.deps.logger.warn({ symbol: gap.symbol, from: gap.from, to: gap.to, clients: feed.clients.size }, `ws gateway: events ${gap.from}..${gap.to} of ${gap.symbol} cannot be delivered; clients get a gap frame`);
    for (const client of feed.clients) {
      try {
        client.gap(gap);
      } catch (err) {
        this.deps.logger.error({ err: errorMessage(err), symbol: gap.symbol }, 'ws gateway: telling one client of a gap failed');
      }
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const writer of this.writers) writer.writeOut();
    this.writers.clear();
    this.joined.clear();
    for (const [type, n] of this.sentCounts) this.deps.metrics.wsMessagesSent.inc({ type }, n);
    for (const [reason, n] of this.droppedCounts) this.deps.metrics.wsMessagesDropped.inc({ reason }, n);
    this.sentCounts.clear();
    this.droppedCounts.clear();
  }

  private armHeartbeat(): void {
    this.heartbeatTimer = this.deps.clock.setTimer(HEARTBEAT_INTERVAL_MS, () => {
      if (this.closed) return;
      const now = this.deps.clock.now();
      const payload = heartbeatPayload(now);
      for (const client of [...this.clients]) client.heartbeat(payload, now);
      this.armHeartbeat();
    });
  }

  /** At the next session open or close of any served market, every client gets that market's new market_status. */
  private armTransition(): void {
    const now = this.deps.clock.now();
    const changes = this.deps.symbols.map((symbol) => ({ calendar: this.deps.calendar.of(symbol), at: nextChange(this.deps.calendar.of(symbol), now) }));
    if (changes.length === 0) return;
    const next = Math.min(...changes.map((c) => c.at));
    this.transitionTimer = this.deps.clock.setTimer(next - now, () => {
      if (this.closed) return;
      for (const { calendar } of changes.filter((c) => c.at === next)) {
        const payload = marketStatusPayload(calendar, this.deps.clock.now());
        for (const client of [...this.clients]) client.marketStatus(payload);
      }
      this.armTransition();
    });
  }
}

/** The next open or close of a market after `now`. */
function nextChange(calendar: MarketCalendar, now: number): number {
  const open = calendar.sessionAt(now);
  return open ? open.close : calendar.nextSession(now).open;
}

const hubs = new WeakMap<object, FanoutHub>();

/** The one hub of this server (shared by the /ws routes and the realtime routes); closed with the server. */
export function gatewayHub(app: FastifyInstance, deps: ServerDeps): FanoutHub {
  let hub = hubs.get(app.server);
  if (!hub) {
    const created = new FanoutHub(deps);
    hubs.set(app.server, created);
    app.addHook('onClose', () => created.close());
    hub = created;
  }
  return hub;
}
