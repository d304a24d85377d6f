/** Shared by the TwelveData client tests: log capture, event collection and driving a ManualClock over real sockets. */
import { pino, type Logger } from 'pino';
import type { ManualClock } from '../../../src/clock.ts';
import type { FeedEvent, StatusEvent, TwelveDataStream } from '../../../src/feeds/twelvedata/index.ts';

/** Tuesday 2024-03-05 13:30Z: 08:30 in Bogota, the simulator ticks at its session rate. */
export const SESSION_TIME = Date.UTC(2024, 2, 5, 13, 30);

/** A debug-level pino logger whose raw JSON lines land in `lines` (to search them for secrets). */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: 'debug' }, { write: (line: string) => lines.push(line) }), lines };
}

export function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls (real time) until `condition` holds. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await realDelay(5);
  }
}

/**
 * Moves the clock forward in steps, giving the sockets a little real time after each so frames
 * sent during a step arrive (and are stamped) before the next one.
 */
export async function advance(clock: ManualClock, ms: number, stepMs = 500): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    await clock.advance(Math.min(stepMs, ms - done));
    await realDelay(3);
  }
}

/** Advances the clock until `promise` settles (a request waiting for credits, a backoff), at most `maxMs` of clock time. */
export async function drive<T>(clock: ManualClock, promise: Promise<T>, stepMs = 1000, maxMs = 3 * 86_400_000): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => (settled = true));
  watched.catch(() => {});
  for (let moved = 0; !settled && moved <= maxMs; moved += stepMs) {
    await realDelay(2);
    if (!settled) await clock.advance(stepMs);
  }
  return watched;
}

/** Consumes a stream in the background and keeps every event. */
export class EventLog {
  readonly events: FeedEvent[] = [];
  readonly done: Promise<void>;

  constructor(stream: TwelveDataStream) {
    this.done = (async () => {
      for await (const event of stream.events()) this.events.push(event);
    })();
  }

  ofType<K extends FeedEvent['type']>(type: K): Array<Extract<FeedEvent, { type: K }>> {
    return this.events.filter((e): e is Extract<FeedEvent, { type: K }> => e.type === type);
  }

  states(): StatusEvent['state'][] {
    return this.ofType('status').map((e) => e.state);
  }

  count(predicate: (e: FeedEvent) => boolean): number {
    return this.events.filter(predicate).length;
  }

  waitFor(predicate: (log: EventLog) => boolean, what: string, timeoutMs?: number): Promise<void> {
    return waitFor(() => predicate(this), what, timeoutMs);
  }
}
