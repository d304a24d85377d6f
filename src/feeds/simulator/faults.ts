/**
 * Fault injection, for testing clients against the failures the real service shows (dropped
 * connections, silent stalls, 429 bursts, garbage frames, repeated and late ticks). Timed faults
 * run on the injected clock; random ones draw from a generator seeded like the prices, so a
 * ManualClock run is reproducible.
 */
import type { CancelTimer, Clock } from '../../clock.ts';
import { Rng, hashString } from '../../domain/random.ts';

export interface StreamFaultRates {
  /** Probability per price event of an extra invalid-JSON text frame sent just before it. */
  malformedRate: number;
  /** Probability per price event of being sent twice in a row. */
  duplicateRate: number;
  /** Probability per price event of being held back and sent after the next one of its symbol. */
  outOfOrderRate: number;
}

export interface FaultOptions extends Partial<StreamFaultRates> {
  /** Terminate every WS connection every this many ms. */
  dropEveryMs?: number;
  /** Start a stall every this many ms... */
  stallEveryMs?: number;
  /** ...lasting this long (default 5 s). */
  stallForMs?: number;
  /** Answer the first N REST requests with 429. */
  rest429Burst?: number;
}

export interface FaultControls {
  /** Terminates every WS connection now (no close frame, like a reset); returns how many. */
  dropAll(): number;
  /** Drops all connections every `ms` from now on; null stops it. */
  dropEvery(ms: number | null): void;
  /** Sends nothing (no prices, no heartbeat or status replies) for `ms`; sockets stay open. */
  stall(ms: number): void;
  stallEvery(everyMs: number | null, forMs?: number): void;
  /** The next `count` REST requests get 429 (credits are not charged for them). */
  burst429(count: number): void;
  setRates(rates: Partial<StreamFaultRates>): void;
  isStalled(): boolean;
  /** Ground truth for tests: the ticks REST has but no client was sent. */
  readonly lostInFlight: readonly LostTick[];
}

export interface FaultCounts {
  drops: number;
  connectionsDropped: number;
  stalls: number;
  /** Frames not sent because a stall was on. */
  framesSuppressed: number;
  rest429: number;
  malformedFrames: number;
  duplicateTicks: number;
  outOfOrderTicks: number;
  /** Held-back ticks a drop destroyed before they were sent (see `lostInFlight`). */
  ticksLostInFlight: number;
}

/** A tick the feed never delivered: it was held back for reordering when its connection dropped. */
export interface LostTick {
  symbol: string;
  frame: string;
}

export interface ShapedFrame {
  text: string;
  /** False for the injected garbage frames. */
  isPrice: boolean;
}

const DEFAULT_STALL_MS = 5000;

export class FaultInjector implements FaultControls {
  readonly counts: FaultCounts = {
    drops: 0,
    connectionsDropped: 0,
    stalls: 0,
    framesSuppressed: 0,
    rest429: 0,
    malformedFrames: 0,
    duplicateTicks: 0,
    outOfOrderTicks: 0,
    ticksLostInFlight: 0,
  };
  /** Ground truth for tests: the ticks REST has but no client was sent. */
  readonly lostInFlight: LostTick[] = [];
  private rates: StreamFaultRates;
  private readonly rng: Rng;
  private stalledUntil = Number.NEGATIVE_INFINITY;
  private pending429: number;
  private readonly heldBack = new Map<string, string>();
  private cancelDrops: CancelTimer | null = null;
  private cancelStalls: CancelTimer | null = null;
  /** Set by the WS gateway: terminates every socket, returns how many. */
  terminateAll: () => number = () => 0;

  constructor(
    private readonly clock: Clock,
    seed: number,
    options: FaultOptions = {},
  ) {
    this.rng = Rng.keyed(hashString(`${seed}|faults`));
    this.rates = {
      malformedRate: checkRate('malformedRate', options.malformedRate ?? 0),
      duplicateRate: checkRate('duplicateRate', options.duplicateRate ?? 0),
      outOfOrderRate: checkRate('outOfOrderRate', options.outOfOrderRate ?? 0),
    };
    this.pending429 = options.rest429Burst ?? 0;
    if (options.dropEveryMs !== undefined) this.dropEvery(options.dropEveryMs);
    if (options.stallEveryMs !== undefined) this.stallEvery(options.stallEveryMs, options.stallForMs);
  }

  dropAll(): number {
    const dropped = this.terminateAll();
    this.counts.drops++;
    this.counts.connectionsDropped += dropped;
    for (const [symbol, frame] of this.heldBack) this.lostInFlight.push({ symbol, frame });
    this.counts.ticksLostInFlight += this.heldBack.size;
    this.heldBack.clear();
    return dropped;
  }

  dropEvery(ms: number | null): void {
    this.cancelDrops?.();
    this.cancelDrops = ms === null ? null : this.repeat(checkPeriod('dropEveryMs', ms), () => this.dropAll());
  }

  stall(ms: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, this.clock.now() + ms);
    this.counts.stalls++;
  }

  stallEvery(everyMs: number | null, forMs = DEFAULT_STALL_MS): void {
    this.cancelStalls?.();
    this.cancelStalls = everyMs === null ? null : this.repeat(checkPeriod('stallEveryMs', everyMs), () => this.stall(forMs));
  }

  burst429(count: number): void {
    this.pending429 += Math.max(0, Math.floor(count));
  }

  setRates(rates: Partial<StreamFaultRates>): void {
    for (const [name, value] of Object.entries(rates)) if (value !== undefined) checkRate(name, value);
    this.rates = { ...this.rates, ...rates };
  }

  isStalled(): boolean {
    return this.clock.now() < this.stalledUntil;
  }

  /** True when this REST request must be answered with 429 by the burst. */
  takeRest429(): boolean {
    if (this.pending429 <= 0) return false;
    this.pending429--;
    this.counts.rest429++;
    return true;
  }

  /** The frames to send for one price event (possibly none, when it is held back). */
  shapePriceFrame(symbol: string, frame: string): ShapedFrame[] {
    const frames: ShapedFrame[] = [];
    if (this.rng.chance(this.rates.malformedRate)) {
      frames.push({ text: frame.slice(0, Math.ceil(frame.length / 2)), isPrice: false });
      this.counts.malformedFrames++;
    }
    const held = this.heldBack.get(symbol);
    if (held === undefined && this.rng.chance(this.rates.outOfOrderRate)) {
      this.heldBack.set(symbol, frame);
      this.counts.outOfOrderTicks++;
      return frames;
    }
    frames.push({ text: frame, isPrice: true });
    if (this.rng.chance(this.rates.duplicateRate)) {
      frames.push({ text: frame, isPrice: true });
      this.counts.duplicateTicks++;
    }
    if (held !== undefined) {
      frames.push({ text: held, isPrice: true });
      this.heldBack.delete(symbol);
    }
    return frames;
  }

  stop(): void {
    this.cancelDrops?.();
    this.cancelStalls?.();
    this.cancelDrops = null;
    this.cancelStalls = null;
  }

  private repeat(ms: number, action: () => void): CancelTimer {
    let cancel: CancelTimer = () => {};
    const arm = (): void => {
      cancel = this.clock.setTimer(ms, () => {
        action();
        arm();
      });
    };
    arm();
    return () => cancel();
  }
}

function checkRate(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  return value;
}

function checkPeriod(name: string, ms: number): number {
  if (!(ms > 0)) throw new RangeError(`${name} must be > 0 ms, got ${ms}`);
  return ms;
}
