/**
 * The injectable clock. Nothing outside this file reads the wall clock, so any component
 * can be run at any simulated time (tests) or faster than real time (demo replay).
 */
export type CancelTimer = () => void;

export interface Clock {
  /** Current time, epoch milliseconds UTC. */
  now(): number;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
  /** Calls `fn` once after `ms` of this clock's time; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): CancelTimer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};

interface PendingTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that only moves when told to; timers fire in time order as it advances. */
export class ManualClock implements Clock {
  private current: number;
  private timers: PendingTimer[] = [];
  private nextId = 0;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(ms, resolve));
  }

  setTimer(ms: number, fn: () => void): CancelTimer {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      const due = this.nextDue(target);
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
      await flushMicrotasks();
    }
    this.current = Math.max(this.current, target);
    await flushMicrotasks();
  }

  private nextDue(target: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.at <= target && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  }
}

/**
 * A clock that starts at `start` and runs `speed` times faster than the wall clock (demo replay).
 * `anchor` is the wall-clock epoch ms at which this clock reads `start` (default: now). Processes
 * given the same start, speed and anchor share one simulated timeline whenever each of them starts.
 */
export class ScaledClock implements Clock {
  private readonly realStart: number;

  constructor(
    private readonly start: number,
    private readonly speed: number,
    anchor: number = Date.now(),
  ) {
    if (!(speed > 0)) throw new RangeError(`clock speed must be > 0, got ${speed}`);
    if (!Number.isFinite(anchor)) throw new RangeError(`clock anchor must be an epoch ms, got ${anchor}`);
    this.realStart = anchor;
  }

  now(): number {
    return this.start + (Date.now() - this.realStart) * this.speed;
  }

  sleep(ms: number): Promise<void> {
    return systemClock.sleep(ms / this.speed);
  }

  setTimer(ms: number, fn: () => void): CancelTimer {
    return systemClock.setTimer(ms / this.speed, fn);
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
