/**
 * Is a Sharpe ratio evidence of an edge? The probabilistic Sharpe ratio (PSR) and the deflated
 * Sharpe ratio (DSR) of Bailey & López de Prado ("The Sharpe Ratio Efficient Frontier", 2012;
 * "The Deflated Sharpe Ratio", 2014). Pure.
 *
 * Everything is per bar, never annualized: SR = mean(r) / stdev(r) over the T bar returns (sample
 * stdev, as performance.ts), skewness γ3 = m3 / m2^1.5 and kurtosis γ4 = m4 / m2² (not excess:
 * 3 for a normal law) with the central moments m_k = Σ(r - mean)^k / T.
 *
 * - PSR(SR*) = Φ((SR - SR*) √(T - 1) / √(1 - γ3 SR + (γ4 - 1) / 4 SR²)): the probability that the
 *   true Sharpe ratio exceeds SR*, given the sample's length, skew and fat tails.
 * - DSR = PSR(SR0), where SR0 is the Sharpe ratio the best of N unskilled trials would show by
 *   luck: SR0 = √V (1 - γ) Φ⁻¹(1 - 1/N) + √V γ Φ⁻¹(1 - 1/(N e)), V the variance of the trials'
 *   Sharpe ratios and γ the Euler-Mascheroni constant. One trial has nothing to deflate: SR0 = 0.
 */
import { TasaError } from '../errors.ts';

const EULER_MASCHERONI = 0.5772156649015329;

export interface ReturnMoments {
  count: number;
  mean: number;
  /** Sample standard deviation (n - 1). */
  stdev: number;
  skewness: number;
  /** Not excess: 3 for a normal law. */
  kurtosis: number;
}

/** The moments of per-bar returns; null with fewer than 2 returns or zero variance. */
export function returnMoments(returns: ArrayLike<number>): ReturnMoments | null {
  const n = returns.length;
  if (n < 2) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += returns[i]!;
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = returns[i]! - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  if (m2 === 0) return null;
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return { count: n, mean, stdev: Math.sqrt((m2 * n) / (n - 1)), skewness: m3 / Math.pow(m2, 1.5), kurtosis: m4 / (m2 * m2) };
}

/** The per-bar Sharpe ratio of the moments. */
export function perBarSharpe(m: ReturnMoments): number {
  return m.mean / m.stdev;
}

/** PSR(benchmark): the probability that the true per-bar Sharpe ratio exceeds `benchmark`; null when the variance term is not positive. */
export function probabilisticSharpe(m: ReturnMoments, benchmark = 0): number | null {
  const sr = perBarSharpe(m);
  const variance = 1 - m.skewness * sr + ((m.kurtosis - 1) / 4) * sr * sr;
  if (!(variance > 0)) return null;
  return normalCdf(((sr - benchmark) * Math.sqrt(m.count - 1)) / Math.sqrt(variance));
}

/** SR0: the per-bar Sharpe ratio the best of `trials` unskilled trials is expected to show, their Sharpe ratios having variance `sharpeVariance`. */
export function expectedMaxSharpe(trials: number, sharpeVariance: number): number {
  if (!Number.isInteger(trials) || trials < 1) throw new TasaError('bad_argument', `The number of trials must be an integer >= 1, got ${trials}.`, { input: 'trials' });
  if (!(sharpeVariance >= 0) || !Number.isFinite(sharpeVariance)) {
    throw new TasaError('bad_argument', `The variance of the trials' Sharpe ratios must be a finite number >= 0, got ${sharpeVariance}.`, { input: 'sharpeVariance' });
  }
  if (trials === 1) return 0;
  const g = EULER_MASCHERONI;
  return Math.sqrt(sharpeVariance) * ((1 - g) * normalQuantile(1 - 1 / trials) + g * normalQuantile(1 - 1 / (trials * Math.E)));
}

/** DSR: PSR against the luck of the best of `trials` trials. */
export function deflatedSharpe(m: ReturnMoments, trials: number, sharpeVariance: number): number | null {
  return probabilisticSharpe(m, expectedMaxSharpe(trials, sharpeVariance));
}

/** Sample variance (n - 1) of the trials' per-bar Sharpe ratios; 0 with fewer than two. */
export function sharpeVariance(sharpes: readonly number[]): number {
  const n = sharpes.length;
  if (n < 2) return 0;
  const mean = sharpes.reduce((s, x) => s + x, 0) / n;
  return sharpes.reduce((s, x) => s + (x - mean) * (x - mean), 0) / (n - 1);
}

/**
 * Φ(x), the standard normal CDF, to about 1e-15: Hart's rational approximation in the double
 * precision form of West ("Better approximations to cumulative normal functions", 2005).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) tail = 0;
  else {
    const e = Math.exp((-z * z) / 2);
    if (z < 7.07106781186547) {
      const num = ((((((3.52624965998911e-2 * z + 0.700383064443688) * z + 6.37396220353165) * z + 33.912866078383) * z + 112.079291497871) * z + 221.213596169931) * z + 220.206867912376);
      const den = (((((((8.83883476483184e-2 * z + 1.75566716318264) * z + 16.064177579207) * z + 86.7807322029461) * z + 296.564248779674) * z + 637.333633378831) * z + 793.826512519948) * z + 440.413735824752);
      tail = (e * num) / den;
    } else {
      tail = e / (z + 1 / (z + 2 / (z + 3 / (z + 4 / (z + 0.65))))) / 2.506628274631;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

/** Φ⁻¹(p) for 0 < p < 1: Acklam's approximation refined by one Halley step (about 1e-15). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new TasaError('bad_argument', `A normal quantile needs 0 < p < 1, got ${p}.`, { input: 'p' });
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const tail = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
    x = p < low ? tail : -tail;
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  // Halley: the error of Φ(x) - p, over the density at x.
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
