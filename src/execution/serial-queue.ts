/** Runs async jobs one at a time, in the order given: the order service's single writer. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    // A failed job fails its caller only; the next one still runs.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every job given so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
