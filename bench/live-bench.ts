/**
 * Live-path figures: TwelveData frames parsed and aggregated into bars (ticks/s on one core),
 * and bar close -> durable row latency through the DurableWriter (embedded and PostgreSQL).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../src/clock.ts';
import { BarAggregator } from '../src/domain/aggregator.ts';
import type { Bar } from '../src/domain/bar.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { parsePriceFrame, isProblem } from '../src/feeds/twelvedata/price-frame.ts';
import { DurableWriter } from '../src/ingest/durable-writer.ts';
import type { Db } from '../src/store/db.ts';
import { openDb } from '../src/store/open-db.ts';
import { migrate } from '../src/store/migrate.ts';
import { openScratchPostgres } from '../test/support/test-db.ts';
import { against, formatMs, formatRate, record } from './harness.ts';

const calendar = new MarketCalendar();
const session = calendar.sessionFor('2026-03-03');
const logger = pino({ level: 'silent' });

export async function benchLive(): Promise<void> {
  benchParseAndAggregate();
  const dir = mkdtempSync(join(tmpdir(), 'tasa-bench-live-'));
  const embedded = await openDb({ dataDir: dir });
  await benchBarLatency('embedded (PGlite, disk)', embedded);
  await embedded.close();
  const url = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];
  if (!url) return record('live', 'bar close -> durable row, PostgreSQL', 'skipped', 'set BENCH_DATABASE_URL or TEST_DATABASE_URL');
  const scratch = await openScratchPostgres(url);
  try {
    await benchBarLatency('PostgreSQL 15', scratch.db);
  } finally {
    await scratch.db.close();
  }
}

/**
 * Whole-session frames as TwelveData sends them (integer-second timestamps), parsed + aggregated,
 * against a bare JSON.parse loop over the same frames in the same run (runs interleaved).
 */
function benchParseAndAggregate(): void {
  if (!session) throw new Error('2026-03-03 must be a trading day');
  const n = 1_000_000;
  const frames = sessionFrames(session.open, session.close, n);
  let best = Infinity;
  let bestJsonParse = Infinity;
  let bars = 0;
  for (let run = 0; run < 5; run++) {
    const aggregator = new BarAggregator({ symbol: 'USD/COP', calendar, startedAt: session.open });
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const tick = parsePriceFrame(frames[i] ?? '', session.open, 'twelvedata_ws');
      if (!isProblem(tick)) aggregator.addTick(tick);
    }
    bars = aggregator.advanceTo(session.close + 10_000).length;
    best = Math.min(best, performance.now() - start);
    bestJsonParse = Math.min(bestJsonParse, jsonParseLoop(frames));
  }
  const reference = against('JSON.parse loop over the same frames, frames/s', (n / best) * 1000, (n / bestJsonParse) * 1000);
  record('live', 'parse + aggregate (one core)', formatRate(n, best, 'ticks'), `${n.toLocaleString('en-US')} frames -> ${bars} bars in ${formatMs(best)}; JSON.parse alone ${formatMs(bestJsonParse)}`, reference);
}

/** Price frames over a session; flat strings, as they come off the socket (not concatenation ropes). */
function sessionFrames(open: number, close: number, n: number): string[] {
  const frames: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = open + Math.floor((i / n) * (close - open));
    const price = (4000 + Math.sin(i / 500) * 20).toFixed(2);
    const frame = `{"event":"price","symbol":"USD/COP","currency_base":"US Dollar","currency_quote":"Colombian Peso","type":"Physical Currency","timestamp":${Math.floor(t / 1000)},"price":${price},"bid":${(Number(price) - 1).toFixed(2)},"ask":${(Number(price) + 1).toFixed(2)}}`;
    frames.push(Buffer.from(frame).toString());
  }
  return frames;
}

/** Wall ms of JSON.parse over every frame, reading one field so that the work cannot be skipped. */
function jsonParseLoop(frames: readonly string[]): number {
  const start = performance.now();
  let sum = 0;
  for (const frame of frames) sum += (JSON.parse(frame) as { price: number }).price;
  if (!(sum > 0)) throw new Error('JSON.parse loop read no prices');
  return performance.now() - start;
}

/** Time from a bar's close to its committed row, as the DurableWriter measures it. */
async function benchBarLatency(label: string, db: Db): Promise<void> {
  if (!session) return;
  await migrate(db);
  const writer = new DurableWriter({ db, clock: systemClock, logger, spoolPath: join(mkdtempSync(join(tmpdir(), 'spool-')), 'spool.jsonl') });
  const samples = 200;
  for (let i = 0; i < samples; i++) {
    const bar: Bar = { symbol: 'USD/COP', time: session.open + (i % 60) * 300_000 + Math.floor(i / 60) * 86_400_000, open: 4000, high: 4001, low: 3999, close: 4000.5, volume: null, tickCount: 100, source: 'simulator', revision: 1, flags: [] };
    writer.addBar(bar, systemClock.now());
    await writer.flush();
  }
  await writer.close();
  const sorted = writer.stats().barLatenciesMs.sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  record('live', `bar close -> durable row, ${label}`, `p99 ${formatMs(pct(99))}`, `p50 ${formatMs(pct(50))}, ${sorted.length} bars, one at a time`);
}
