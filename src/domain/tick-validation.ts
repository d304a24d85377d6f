/**
 * Plausibility checks for ticks, applied before aggregation. Pure and stateful per symbol: one
 * validator sees one symbol's ticks in arrival order. A rejected tick is still stored by the caller
 * (flagged with the reason); it is only kept out of the bars.
 *
 * Checks, in order (the first failure is the verdict):
 * 1. `not_finite`: exchange time, price, bid or ask is NaN or infinite.
 * 2. `non_positive_price`: price <= 0.
 * 3. `price_out_of_band`: the price lies outside the symbol's plausible band (`symbol.ts`, the
 *    same band imports apply), e.g. a corrupt 1e+23; a level shift can never confirm such a price.
 * 4. `bad_bid_ask`: a present bid or ask is <= 0, or both are present and crossed (bid > ask).
 *    A locked quote (bid = ask) is accepted. The price is not required to lie between them:
 *    TwelveData's price may be a last trade, not a mid.
 * 5. `future_time` (only with `maxFutureMs`): exchange time more than that ahead of receive time.
 * 6. `absurd_jump`: |price / reference - 1| > maxJump.
 *
 * The jump reference is the last ACCEPTED price, so one bad print does not poison the next good
 * one. A real gap (say, the open after a holiday) would then be rejected forever, so the validator
 * also watches the run of consecutive jump-rejected ticks: when `confirmAfter` of them in a row
 * agree with each other (their whole range within maxJump), the last one is accepted and becomes
 * the reference (`levelShift: true`). The earlier ticks of the run stay rejected: their verdicts
 * were already returned. A tick close to the reference ends the run; ticks failing checks 1-5 do
 * not touch it (they carry no trustworthy price). Until the first accepted tick there is no
 * reference unless `lastPrice` seeds one (e.g. the last stored close after a restart).
 */
import { priceBandViolation } from './symbol.ts';
import type { Tick } from './tick.ts';

export const DEFAULT_CONFIRM_AFTER = 5;

export type TickRejection = 'not_finite' | 'non_positive_price' | 'price_out_of_band' | 'bad_bid_ask' | 'future_time' | 'absurd_jump';

export interface TickAccepted {
  ok: true;
  /** Present when this tick confirmed a new price level after a run of jump rejections. */
  levelShift?: true;
}

export interface TickRejected {
  ok: false;
  reason: TickRejection;
  detail: string;
}

export type TickVerdict = TickAccepted | TickRejected;

export interface TickValidatorOptions {
  /** Largest accepted move relative to the last accepted price, e.g. 0.05 for 5 %. */
  maxJump: number;
  /** How many consecutive agreeing jump-rejected ticks establish a new level; default 5. */
  confirmAfter?: number;
  /** Seeds the jump reference (e.g. the last stored close), so the first tick is checked too. */
  lastPrice?: number;
  /** Rejects ticks stamped more than this many ms after their receive time; off when absent. */
  maxFutureMs?: number;
}

const ACCEPTED: TickAccepted = Object.freeze({ ok: true });
const LEVEL_SHIFT: TickAccepted = Object.freeze({ ok: true, levelShift: true });

export class TickValidator {
  private readonly maxJump: number;
  private readonly confirmAfter: number;
  private readonly maxFutureMs: number | null;
  private reference: number | null;
  // The current run of jump-rejected ticks: length and price range.
  private runLength = 0;
  private runLow = 0;
  private runHigh = 0;

  constructor(opts: TickValidatorOptions) {
    assertOptions(opts);
    this.maxJump = opts.maxJump;
    this.confirmAfter = opts.confirmAfter ?? DEFAULT_CONFIRM_AFTER;
    this.maxFutureMs = opts.maxFutureMs ?? null;
    this.reference = opts.lastPrice ?? null;
  }

  /** The price jumps are measured against: the last accepted one (or the seed). */
  referencePrice(): number | null {
    return this.reference;
  }

  check(tick: Tick): TickVerdict {
    const problem = shapeProblem(tick) ?? this.futureProblem(tick);
    if (problem !== null) return problem;
    return this.checkJump(tick.price);
  }

  private futureProblem(tick: Tick): TickRejected | null {
    if (this.maxFutureMs === null || tick.time - tick.receivedAt <= this.maxFutureMs) return null;
    const ahead = tick.time - tick.receivedAt;
    return reject('future_time', `exchange time is ${ahead} ms after the receive time (max ${this.maxFutureMs} ms)`);
  }

  private checkJump(price: number): TickVerdict {
    const reference = this.reference;
    if (reference === null || Math.abs(price - reference) / reference <= this.maxJump) {
      this.acceptLevel(price);
      return ACCEPTED;
    }
    this.extendRun(price);
    if (this.runLength >= this.confirmAfter) {
      this.acceptLevel(price);
      return LEVEL_SHIFT;
    }
    return reject('absurd_jump', this.jumpDetail(price, reference));
  }

  private acceptLevel(price: number): void {
    this.reference = price;
    this.runLength = 0;
  }

  /** Adds a jump-rejected price to the run, or starts a new run when it disagrees with it. */
  private extendRun(price: number): void {
    const low = Math.min(this.runLow, price);
    const high = Math.max(this.runHigh, price);
    if (this.runLength > 0 && (high - low) / low <= this.maxJump) {
      this.runLength++;
      this.runLow = low;
      this.runHigh = high;
    } else {
      this.runLength = 1;
      this.runLow = price;
      this.runHigh = price;
    }
  }

  private jumpDetail(price: number, reference: number): string {
    const move = percent(Math.abs(price - reference) / reference);
    return (
      `price ${price} is ${move} away from the last accepted ${reference} (max ${percent(this.maxJump)}); ` +
      `${this.runLength} of ${this.confirmAfter} agreeing ticks needed to accept a new level`
    );
  }
}

/** Checks 1-4: values that no tick can have, whatever came before. */
function shapeProblem(tick: Tick): TickRejected | null {
  const { time, price, bid, ask } = tick;
  if (!Number.isFinite(time)) return reject('not_finite', `exchange time ${time} is not a number`);
  if (!Number.isFinite(price)) return reject('not_finite', `price ${price} is not a number`);
  if (bid !== null && !Number.isFinite(bid)) return reject('not_finite', `bid ${bid} is not a number`);
  if (ask !== null && !Number.isFinite(ask)) return reject('not_finite', `ask ${ask} is not a number`);
  if (price <= 0) return reject('non_positive_price', `price must be > 0 (got ${price})`);
  const outside = priceBandViolation(tick.symbol, price);
  if (outside !== null) return reject('price_out_of_band', `price ${outside}`);
  if (bid !== null && bid <= 0) return reject('bad_bid_ask', `bid must be > 0 (got ${bid})`);
  if (ask !== null && ask <= 0) return reject('bad_bid_ask', `ask must be > 0 (got ${ask})`);
  if (bid !== null && ask !== null && bid > ask) return reject('bad_bid_ask', `crossed quote: bid ${bid} > ask ${ask}`);
  return null;
}

function reject(reason: TickRejection, detail: string): TickRejected {
  return { ok: false, reason, detail };
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)} %`;
}

function assertOptions(opts: TickValidatorOptions): void {
  const { maxJump, confirmAfter, lastPrice, maxFutureMs } = opts;
  if (!Number.isFinite(maxJump) || maxJump <= 0) throw new RangeError(`maxJump must be a positive ratio (got ${maxJump})`);
  if (confirmAfter !== undefined && (!Number.isInteger(confirmAfter) || confirmAfter < 1)) {
    throw new RangeError(`confirmAfter must be an integer >= 1 (got ${confirmAfter})`);
  }
  if (lastPrice !== undefined && (!Number.isFinite(lastPrice) || lastPrice <= 0)) {
    throw new RangeError(`lastPrice must be a positive price (got ${lastPrice})`);
  }
  if (maxFutureMs !== undefined && (!Number.isFinite(maxFutureMs) || maxFutureMs < 0)) {
    throw new RangeError(`maxFutureMs must be >= 0 (got ${maxFutureMs})`);
  }
}
