/** Keeps the latest `max` measurements (latencies) in `samples`, dropping the oldest. */
export function pushBounded(samples: number[], value: number, max = 1000): void {
  samples.push(value);
  if (samples.length > max) samples.shift();
}
