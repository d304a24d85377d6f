/** Counters of the TwelveData stream, and the rule for problems: count every one, log each kind once. */
import type { Logger } from '../../log.ts';
import { problem, type FeedEvent, type ProblemKind } from '../feed-events.ts';

export interface StreamStats {
  /** Sockets that completed the upgrade. */
  connections: number;
  /** Connection attempts after the first. */
  reconnects: number;
  framesReceived: number;
  ticks: number;
  heartbeatsSent: number;
  heartbeatReplies: number;
  /** Events dropped because the consumer fell behind (oldest first). */
  dropped: number;
  /** Events waiting for the consumer. */
  queued: number;
  problems: Partial<Record<ProblemKind, number>>;
}

export type StreamCounters = Omit<StreamStats, 'dropped' | 'queued' | 'problems'>;

export function emptyCounters(): StreamCounters {
  return { connections: 0, reconnects: 0, framesReceived: 0, ticks: 0, heartbeatsSent: 0, heartbeatReplies: 0 };
}

/**
 * Counts problems by kind and hands each to the consumer as a `problem` event. The first of each
 * kind is logged as a warning with its context; later ones only at debug level, so a burst of
 * garbage frames costs a counter, not a log line each.
 */
export class ProblemLog {
  readonly counts: Partial<Record<ProblemKind, number>> = {};

  constructor(
    private readonly logger: Logger | undefined,
    private readonly emit: (event: FeedEvent) => void,
  ) {}

  report(kind: ProblemKind, detail: string, context: Record<string, unknown> = {}): void {
    this.note(kind, detail, context);
    this.emit(problem(kind, detail));
  }

  /** Counts and logs without emitting (for problems the caller delivers itself). */
  note(kind: ProblemKind, detail: string, context: Record<string, unknown> = {}): void {
    const count = (this.counts[kind] ?? 0) + 1;
    this.counts[kind] = count;
    const fields = { kind, detail, ...context };
    if (count === 1) this.logger?.warn(fields, `twelvedata stream: ${kind} (first one; later ones are counted, logged at debug)`);
    else this.logger?.debug({ ...fields, count }, `twelvedata stream: ${kind}`);
  }
}
