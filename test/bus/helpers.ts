/** Small helpers for the bus tests: collecting events, waiting on real time, capturing logs. */
import { pino, type Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, BusEvent, Channel, ChannelEvent, EventHandler } from '../../src/bus/index.ts';

export { sleep };

/**
 * A bus whose `publish` takes any JSON: the transport tests publish counters and markers, not the
 * channel contracts (their Redis buses do not check messages: see targets.ts).
 */
export interface AnyDataBus extends Omit<Bus, 'publish'> {
  publish<C extends Channel, T>(channel: C, symbol: string, data: T): Promise<ChannelEvent<C> & { data: T }>;
}

/** The same bus, seen as an AnyDataBus. */
export function anyData(bus: Bus): AnyDataBus {
  return bus as AnyDataBus;
}

/**
 * Polls `condition` every few ms of real time; fails with `what` after `timeoutMs`. `poke`, if
 * given, runs every 50 ms meanwhile (e.g. to repeat an at-most-once broadcast).
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000, poke?: () => Promise<unknown>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; !condition(); i++) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    if (poke && i % 25 === 0) await poke();
    await sleep(2);
  }
}

export class Collector {
  readonly events: BusEvent[] = [];
  readonly handler: EventHandler = (e) => {
    this.events.push(e);
  };

  /** Seqs received, without the markers that drain() publishes. */
  seqs(): number[] {
    return this.events.filter((e) => !isMarker(e)).map((e) => e.seq);
  }

  data(): unknown[] {
    return this.events.filter((e) => !isMarker(e)).map((e) => e.data);
  }

  async waitForCount(n: number, timeoutMs = 5_000): Promise<void> {
    await waitFor(() => this.events.length >= n, `${n} events (have ${this.events.length})`, timeoutMs);
  }
}

export const MARKER = { marker: true };

function isMarker(e: BusEvent): boolean {
  return typeof e.data === 'object' && e.data !== null && 'marker' in e.data;
}

/** 1, 2, ..., n (or from..to). */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger whose lines land in `lines`. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

export const START = Date.parse('2025-03-03T13:00:00Z');
