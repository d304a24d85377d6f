/**
 * The Redis codec's contract check: decoding stream entries with the channel's schema check
 * against the same decode without it and against a bare JSON.parse of the data, in the same run.
 */
import { performance } from 'node:perf_hooks';
import type { LatestPrice } from '../src/contracts/bus-messages.ts';
import { decodeEntry, entryFields, type StreamEntry } from '../src/bus/redis/codec.ts';
import { formatRate, record } from './harness.ts';

const N = 200_000;

function tickEntries(): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (let i = 1; i <= N; i++) {
    const price = 4000 + (i % 500) / 100;
    const tick: LatestPrice = {
      symbol: 'USD/COP',
      price,
      bid: price - 1,
      ask: price + 1,
      spread: 2,
      timestamp: new Date(1_772_546_400_000 + i * 1000).toISOString(),
      receivedAt: new Date(1_772_546_400_050 + i * 1000).toISOString(),
      source: 'twelvedata_ws',
    };
    entries.push([`${i}-0`, entryFields('ticks', 1_772_546_400_000 + i, JSON.stringify(tick))]);
  }
  return entries;
}

/** Best time (ms) of each variant, the variants taking turns so that load and JIT warm-up fall on all alike. */
function bestOfEach(runs: number, variants: ReadonlyArray<() => void>): number[] {
  const best = variants.map(() => Infinity);
  for (let r = 0; r <= runs; r++) {
    variants.forEach((fn, i) => {
      const start = performance.now();
      fn();
      if (r > 0) best[i] = Math.min(best[i] ?? Infinity, performance.now() - start);
    });
  }
  return best;
}

export function benchBusCodec(): void {
  const entries = tickEntries();
  const datas = entries.map(([, fields]) => fields[5] ?? '');
  let sink = 0;
  const [parse = 0, unchecked = 0, checked = 0] = bestOfEach(7, [
    () => {
      for (const d of datas) sink += (JSON.parse(d) as { price: number }).price;
    },
    () => {
      for (const e of entries) if (!(decodeEntry('USD/COP', e, false) instanceof Error)) sink++;
    },
    () => {
      for (const e of entries) if (!(decodeEntry('USD/COP', e, true) instanceof Error)) sink++;
    },
  ]);
  if (sink === 0) throw new Error('nothing decoded');
  const ratio = (ms: number) => (parse / ms).toFixed(2);
  record('bus', 'decode ticks entry, unchecked', formatRate(N, unchecked, 'events'), `${ratio(unchecked)} of a bare JSON.parse of the data (${formatRate(N, parse, 'parses')})`);
  record(
    'bus',
    'decode ticks entry, checked against the contract',
    formatRate(N, checked, 'events'),
    `${ratio(checked)} of a bare JSON.parse; ${(unchecked / checked).toFixed(2)} of the unchecked rate (${(((checked - unchecked) / N) * 1e6).toFixed(0)} ns per event)`,
  );
}
