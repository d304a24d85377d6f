/**
 * Broadcast over Redis pub/sub: no seq, no replay, at most once. One subscriber connection per
 * bus serves every topic handler; it is opened on the first onBroadcast().
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../log.ts';
import { callIsolated } from '../subscription.ts';
import type { BroadcastHandler, Unsubscribe } from '../types.ts';

interface ChannelHandlers {
  handlers: Set<BroadcastHandler>;
  /** Settles when Redis has confirmed the SUBSCRIBE. */
  subscribed: Promise<unknown>;
}

export class Broadcaster {
  private readonly channels = new Map<string, ChannelHandlers>();

  constructor(
    private readonly subscriber: Redis,
    private readonly logger: Logger,
  ) {
    subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
  }

  /** Resolves once messages published from now on will reach `handler`. */
  async add(channel: string, handler: BroadcastHandler): Promise<Unsubscribe> {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { handlers: new Set(), subscribed: this.subscriber.subscribe(channel) };
      this.channels.set(channel, entry);
    }
    entry.handlers.add(handler);
    try {
      await entry.subscribed;
    } catch (err) {
      this.drop(channel, handler);
      throw err;
    }
    return () => {
      this.drop(channel, handler);
      return Promise.resolve();
    };
  }

  private drop(channel: string, handler: BroadcastHandler): void {
    const entry = this.channels.get(channel);
    if (!entry?.handlers.delete(handler) || entry.handlers.size > 0) return;
    this.channels.delete(channel);
    // Delivery stops at once (the handler set is gone); Redis hears of it when it can.
    this.subscriber.unsubscribe(channel).catch(() => undefined);
  }

  private onMessage(channel: string, message: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    let data: unknown;
    try {
      data = JSON.parse(message);
    } catch (err) {
      this.logger.error({ err, channel }, 'bus: skipping a broadcast that is not JSON');
      return;
    }
    for (const handler of [...entry.handlers]) callIsolated(this.logger, () => handler(data), { channel });
  }
}
