/**
 * One subscriber's view of the bus, shared by both drivers. It remembers the last seq handed to
 * the handler per symbol, so replayed and live events may overlap freely: whatever arrives twice
 * or late is dropped, which is what makes "replay, then live" free of gaps and duplicates.
 */
import type { Logger } from '../log.ts';
import { ALL_SYMBOLS, type BusEvent, type Channel, type EventHandler, type GapHandler, type SeqGap } from './types.ts';

export class Subscription {
  private readonly delivered = new Map<string, number>();
  /** Live events (and gaps) held back while the replay runs; null once live. */
  private held: Array<BusEvent | SeqGap> | null;
  private readonly onGap: GapHandler | null;
  private active = true;

  constructor(
    readonly symbol: string,
    private readonly handler: EventHandler,
    private readonly channels: ReadonlySet<Channel> | null,
    private readonly logger: Logger,
    opts: { replaying: boolean; onGap?: GapHandler },
  ) {
    this.held = opts.replaying ? [] : null;
    this.onGap = opts.onGap ?? null;
  }

  get isActive(): boolean {
    return this.active;
  }

  wants(e: BusEvent): boolean {
    return this.symbol === ALL_SYMBOLS || this.symbol === e.symbol;
  }

  /** Events of `symbol` up to `seq` count as already delivered. */
  startAfter(symbol: string, seq: number): void {
    this.delivered.set(symbol, seq);
  }

  /** A live event: delivered now, or held until the replay is done. */
  offerLive(e: BusEvent): void {
    if (!this.active) return;
    if (this.held) this.held.push(e);
    else this.deliver(e);
  }

  offerReplayed(e: BusEvent): void {
    this.deliver(e);
  }

  /** Seqs that cannot be delivered (see SeqGap), in order with the events: held while the replay runs like a live event. */
  offerGap(gap: SeqGap): void {
    if (!this.active) return;
    if (this.held) this.held.push(gap);
    else this.deliverGap(gap);
  }

  /** A gap found inside the replayed range: delivered in order with the replayed events. */
  offerReplayedGap(gap: SeqGap): void {
    this.deliverGap(gap);
  }

  /** Ends the replay: the held live events follow, minus those the replay already delivered. */
  goLive(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const item of held) {
      if ('seq' in item) this.deliver(item);
      else this.deliverGap(item);
    }
  }

  cancel(): void {
    this.active = false;
    this.held = null;
  }

  private deliver(e: BusEvent): void {
    if (!this.active) return;
    const last = this.delivered.get(e.symbol);
    if (last !== undefined && e.seq <= last) return;
    this.delivered.set(e.symbol, e.seq);
    if (this.channels && !this.channels.has(e.channel)) return;
    callIsolated(this.logger, () => this.handler(e), { symbol: e.symbol, seq: e.seq, channel: e.channel });
  }

  /** A gap the subscriber has already passed (its events were replayed or it started later) is not reported. */
  private deliverGap(gap: SeqGap): void {
    const last = this.delivered.get(gap.symbol);
    if (!this.active || (last !== undefined && gap.to <= last)) return;
    this.delivered.set(gap.symbol, gap.to);
    const onGap = this.onGap;
    if (onGap) callIsolated(this.logger, () => onGap(gap), { symbol: gap.symbol, gap: `${gap.from}..${gap.to}` });
  }
}

/** Runs a subscriber's handler so that neither its exception nor its rejected promise reaches the bus. */
export function callIsolated(logger: Logger, run: () => unknown, context: Record<string, unknown>): void {
  const report = (err: unknown) => logger.error({ err, ...context }, 'bus handler failed; the bus carries on');
  try {
    const result = run();
    if (result instanceof Promise) result.catch(report);
  } catch (err) {
    report(err);
  }
}
