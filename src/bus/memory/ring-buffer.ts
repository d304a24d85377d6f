/** The last `capacity` events of one symbol. Seqs are consecutive, so an event's slot follows from its seq. */
import type { BusEvent } from '../types.ts';

export class EventRing {
  private readonly slots: (BusEvent | undefined)[];
  private size = 0;
  private last = 0;

  constructor(private readonly capacity: number) {
    this.slots = new Array<BusEvent | undefined>(capacity);
  }

  get lastSeq(): number {
    return this.last;
  }

  /** Seq of the oldest event kept (lastSeq + 1 when empty). */
  get oldestSeq(): number {
    return this.last - this.size + 1;
  }

  nextSeq(): number {
    return this.last + 1;
  }

  push(e: BusEvent): void {
    this.slots[e.seq % this.capacity] = e;
    this.last = e.seq;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Kept events with seq > `since`, oldest first, at most `limit`. */
  after(since: number, limit: number): BusEvent[] {
    const from = Math.max(since + 1, this.oldestSeq);
    const to = Math.min(this.last, from + limit - 1);
    const out: BusEvent[] = [];
    for (let seq = from; seq <= to; seq++) out.push(this.slots[seq % this.capacity] as BusEvent);
    return out;
  }
}
