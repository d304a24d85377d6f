/**
 * The ingest lifecycle, a small state machine:
 *
 *   INITIALIZING -> WAITING_L0 -> CHECKING_DATA -> READY <-> ACTIVE
 *                       any state -> ERROR -> (retry) WAITING_L0;  any state -> SHUTDOWN
 *
 * - WAITING_L0: history must exist first (a completed L0 import/backfill run or a ready-signal file).
 * - CHECKING_DATA: freshness and completeness of recent sessions; gaps are filled before going on.
 * - READY: everything is in place; the market is closed, so no socket is held (saves credits).
 * - ACTIVE: the market is open and the live feed is connected.
 */
export const LIFECYCLE_STATES = ['INITIALIZING', 'WAITING_L0', 'CHECKING_DATA', 'READY', 'ACTIVE', 'ERROR', 'SHUTDOWN'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

const ALLOWED: Record<LifecycleState, readonly LifecycleState[]> = {
  INITIALIZING: ['WAITING_L0'],
  WAITING_L0: ['CHECKING_DATA'],
  CHECKING_DATA: ['READY'],
  READY: ['ACTIVE', 'CHECKING_DATA'],
  ACTIVE: ['READY'],
  ERROR: ['WAITING_L0'],
  SHUTDOWN: [],
};

export interface Transition {
  from: LifecycleState;
  to: LifecycleState;
  at: number;
  reason: string;
}

export class Lifecycle {
  private current: LifecycleState = 'INITIALIZING';
  private readonly history: Transition[] = [];
  private readonly listeners = new Set<(t: Transition) => void>();

  constructor(private readonly now: () => number) {}

  get state(): LifecycleState {
    return this.current;
  }

  /** Moves to `to`; ERROR and SHUTDOWN are reachable from anywhere, the rest only along the arrows. */
  transition(to: LifecycleState, reason: string): void {
    const from = this.current;
    if (from === to || from === 'SHUTDOWN') return;
    if (to !== 'ERROR' && to !== 'SHUTDOWN' && !ALLOWED[from].includes(to)) {
      throw new Error(`Lifecycle cannot go from ${from} to ${to} (${reason})`);
    }
    const t: Transition = { from, to, at: this.now(), reason };
    this.current = to;
    this.history.push(t);
    if (this.history.length > 100) this.history.shift();
    for (const listener of this.listeners) listener(t);
  }

  onTransition(listener: (t: Transition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last transitions, oldest first. */
  transitions(): readonly Transition[] {
    return this.history;
  }
}
