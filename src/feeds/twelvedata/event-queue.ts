/**
 * A bounded queue between the socket and the consumer. The socket side never waits: when the
 * consumer falls behind and the queue is full, the OLDEST event is dropped (the newest prices
 * matter most) and counted; the consumer then first gets one item saying how many were lost.
 */

export class BoundedEventQueue<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;
  private ended = false;
  private droppedSinceReport = 0;
  private wake: (() => void) | null = null;
  /** Events dropped since the queue was created. */
  dropped = 0;

  constructor(
    readonly capacity: number,
    /** The item telling the consumer that `dropped` events were lost. */
    private readonly overflowItem: (dropped: number) => T,
    /** Called when the consumer stops iterating early (break, return, throw). */
    private readonly onConsumerReturn: () => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.ended) return;
    if (this.count === this.capacity) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.dropped++;
      this.droppedSinceReport++;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
    this.signal();
  }

  /** No more items; the consumer's loop ends once the queue is drained. */
  end(): void {
    this.ended = true;
    this.signal();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<T>> => {
        this.onConsumerReturn();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.droppedSinceReport > 0) {
        const lost = this.droppedSinceReport;
        this.droppedSinceReport = 0;
        return { done: false, value: this.overflowItem(lost) };
      }
      if (this.count > 0) return { done: false, value: this.shift() };
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private shift(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
