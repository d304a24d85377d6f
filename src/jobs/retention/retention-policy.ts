/** Which tick partitions retention takes: pure rules over partition ranges and the clock's time. */
import { DAY_MS } from '../../domain/time.ts';

/** Ticks with an exchange time before this instant (epoch ms) are older than the limit. */
export function retentionCutoff(now: number, retentionDays: number): number {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new RangeError(`retentionDays must be a whole number >= 1, got ${retentionDays}`);
  return now - retentionDays * DAY_MS;
}

/** The partitions entirely older than the cutoff (their range ends at or before it), oldest first. */
export function partitionsDue<P extends { to: number }>(partitions: readonly P[], cutoff: number): P[] {
  return partitions.filter((p) => p.to <= cutoff).sort((a, b) => a.to - b.to);
}
