/**
 * Seeded randomness, one implementation for the whole system: the simulator's keyed generator
 * (mulberry32: any slot or day can be recomputed on its own) and the research layers' streams
 * (sfc32: one independent stream per use). Both share the derived draws (integers, normals,
 * categorical, shuffle) of `RandomSource`. Not for cryptography.
 */
import { TasaError } from '../errors.ts';

/** Mixes 32-bit integers into one well-spread 32-bit hash (murmur3-style finaliser per step). */
export function hashInts(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const value of values) {
    // Split into two 32-bit words so values above 2^32 (epoch-ish numbers, big seeds) still count.
    const low = value >>> 0;
    const high = Math.floor(value / 0x1_0000_0000) >>> 0;
    h = mixWord(mixWord(h, low), high);
  }
  return finalise(h);
}

/** FNV-1a of a string, to turn a symbol or a fault name into a hash input. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  const mixed = h ^ k;
  return (Math.imul((mixed << 13) | (mixed >>> 19), 5) + 0xe6546b64) >>> 0;
}

function finalise(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Draws derived from a uniform `next()` in [0, 1). */
export abstract class RandomSource {
  private spareNormal: number | null = null;

  abstract next(): number;

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability;
  }

  /** Standard normal (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    const u = 1 - this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Index drawn with the given probabilities (which sum to 1, up to rounding); never one of probability 0. */
  categorical(probabilities: ArrayLike<number>): number {
    let u = this.next();
    let lastPossible = -1;
    for (let i = 0; i < probabilities.length; i++) {
      const p = probabilities[i] ?? 0;
      if (p <= 0) continue;
      lastPossible = i;
      u -= p;
      if (u < 0) return i;
    }
    // Rounding left u >= 0 after the last term: that term is the draw.
    if (lastPossible < 0) throw new TasaError('bad_argument', 'Cannot sample from probabilities that are all zero.', { input: 'probabilities' });
    return lastPossible;
  }

  /** Shuffles in place (Fisher-Yates). */
  shuffle<T extends Int32Array | number[]>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as number;
      items[i] = items[j] as number;
      items[j] = tmp;
    }
    return items;
  }
}

/** A small, fast generator (mulberry32); not for cryptography. */
export class Rng extends RandomSource {
  private state: number;

  constructor(seed: number) {
    super();
    this.state = seed >>> 0;
  }

  static keyed(...values: number[]): Rng {
    return new Rng(hashInts(...values));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }
}

/**
 * A small seeded PRNG (sfc32: 128-bit state, passes PractRand far beyond what training draws).
 * Each use (initial weights, action sampling, minibatch shuffling) gets its own stream derived
 * from the run's seed, so changing how one is used does not shift the others.
 */
export class SeededRandom extends RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    super();
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88 ^ stream;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    // Mix the seed in: the first outputs of sfc32 from a fresh state are correlated.
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
}
