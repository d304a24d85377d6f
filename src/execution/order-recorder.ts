/**
 * Records each change of the order service: the store write and its audit entry in one
 * transaction (a fill: in one statement), then the published message. Publishing never fails a
 * change: a publish error is logged (the store is the truth; readers refetch).
 *
 * With a fence (the `trading` lease this process holds, and its epoch), every order, fill and
 * trading-state write proves in its own statement or transaction that the lease still carries
 * this holder and epoch, and is refused (`conflict`) otherwise: a process that lost the lease
 * (paused, or cut off while another took over) cannot write orders or fills when it comes back.
 */
import type { TradingMessage } from '../contracts/trading-messages.ts';
import type { Logger } from '../log.ts';
import { appendAudit, type AuditInput } from '../store/audit-repo.ts';
import type { Db } from '../store/db.ts';
import { fencedOut, holdsFence, type LeaseFence } from '../store/leases-repo.ts';
import { insertOrder, recordFill, saveOrder, type FillWrite, type OrderMeta, type StoredOrder } from '../store/trading-repo.ts';
import { saveRiskState, type StoredRiskState } from '../store/trading-state-repo.ts';
import type { Order } from '../trading/order.ts';
import { stateAudit } from './trading-audit.ts';
import { fillMessage, orderUpdate, positionMessage } from './trading-wire.ts';

/** Sends a trading message on (the bus, once its channels exist); may return a promise. */
export type TradingPublisher = (message: TradingMessage) => unknown;

export class OrderRecorder {
  constructor(
    private readonly db: Db,
    private readonly publisher: TradingPublisher,
    private readonly logger: Logger,
    private readonly fence: LeaseFence | null = null,
  ) {}

  /** Stores a new order unless its client order id is taken (then returns the stored one, `created` false). */
  async insert(order: Order, meta: OrderMeta, audit: (stored: StoredOrder) => AuditInput): Promise<{ order: StoredOrder; created: boolean }> {
    const result = await this.db.transaction(async (tx) => {
      const inserted = await insertOrder(tx, order, meta, this.fence);
      if (inserted.created) await appendAudit(tx, [audit(inserted.order)]);
      return inserted;
    });
    if (result.created) this.publishOrder(result.order);
    return result;
  }

  async save(order: StoredOrder, audit: AuditInput | null): Promise<void> {
    if (audit === null) await saveOrder(this.db, order, this.fence);
    else {
      await this.db.transaction(async (tx) => {
        await saveOrder(tx, order, this.fence);
        await appendAudit(tx, [audit]);
      });
    }
    this.publishOrder(order);
  }

  /** False, with nothing written, when the order already has this fill. */
  async fill(write: FillWrite, audit: AuditInput, at: number): Promise<boolean> {
    const written = await recordFill(this.db, write, at, { audit, fence: this.fence });
    // Published even when it was stored already: only an attempt whose commit was not
    // acknowledged (and which therefore published nothing) leaves it stored but unapplied.
    this.publishOrder(write.order);
    this.publish({ channel: 'fills', symbol: write.fill.symbol, data: fillMessage(write.fill, write.order.id) });
    this.publish({ channel: 'positions', symbol: write.position.symbol, data: positionMessage(write.position, at) });
    return written;
  }

  async riskState(state: StoredRiskState): Promise<void> {
    await this.db.transaction(async (tx) => {
      const fence = this.fence;
      if (fence !== null && !(await holdsFence(tx, fence.name, fence.holder, fence.epoch))) throw fencedOut(fence);
      await saveRiskState(tx, state);
      await appendAudit(tx, [stateAudit(state)]);
    });
  }

  async audit(entry: AuditInput): Promise<void> {
    await appendAudit(this.db, [entry]);
  }

  private publishOrder(order: StoredOrder): void {
    this.publish({ channel: 'orders', symbol: order.symbol, data: orderUpdate(order) });
  }

  private publish(message: TradingMessage): void {
    Promise.resolve()
      .then(() => this.publisher(message))
      .catch((err: unknown) => this.logger.error({ err, channel: message.channel }, 'trading message not published'));
  }
}
