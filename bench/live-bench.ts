/**
 * Live-path figures: TwelveData frames parsed and aggregated into bars (ticks/s on one core), for
 * USD/COP alone and for the five shipped symbols interleaved on one socket, and bar close -> durable row latency through the DurableWriter (embedded and PostgreSQL).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../src/clock.ts';
import { BarAggregator } from '../src/domain/aggregator.ts';
import type { Bar } from '../src/domain/bar.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { BAR_MS, barOpenTime } from '../src/domain/bar.ts';
import { loadMarketCalendar } from '../src/calendar-config.ts';
import { parsePriceFrame, isProblem } from '../src/feeds/twelvedata/price-frame.ts';
import { DurableWriter } from '../src/ingest/durable-writer.ts';
import type { Db } from '../src/store/db.ts';
import { openDb } from '../src/store/open-db.ts';
import { migrate } from '../src/store/migrate.ts';
import { openScratchPostgres } from '../test/support/test-db.ts';
import { against, formatMs, formatRate, record } from './harness.ts';
import { commonOpenWindow, interleavedFrames, MIX_SYMBOLS, type MixFrame } from './instrument-mix.ts';

const calendar = new MarketCalendar();
const session = calendar.sessionFor('2026-03-03');
const logger = pino({ level: 'silent' });

export async function benchLive(): Promise<void> {
  benchParseAndAggregate();
  benchParseAndAggregateMix();
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

/** The mix's ticks per second per symbol: about 1,000,000 frames over the three hours all five markets share. */
const MIX_TICKS_PER_SECOND = 20;

/**
 * The five shipped symbols' frames interleaved in time order (one socket subscribed to all), each
 * parsed and routed to its own BarAggregator on its own market's calendar, over 2026-03-03's hours
 * when every market is open; against a bare JSON.parse loop over the same frames (runs interleaved).
 */
function benchParseAndAggregateMix(): void {
  const calendars = loadMarketCalendar({});
  const { from, to } = commonOpenWindow(calendars, MIX_SYMBOLS, '2026-03-03');
  const mix = interleavedFrames(MIX_SYMBOLS, from, to, MIX_TICKS_PER_SECOND);
  const frames = mix.map((m) => Buffer.from(m.frame).toString());
  const n = frames.length;
  let best = Infinity;
  let bestJsonParse = Infinity;
  let bars = new Map<string, number>();
  for (let run = 0; run < 5; run++) {
    const aggregators = new Map(MIX_SYMBOLS.map((symbol) => [symbol, new BarAggregator({ symbol, calendar: calendars.of(symbol), startedAt: from })]));
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const tick = parsePriceFrame(frames[i] ?? '', from, 'twelvedata_ws');
      if (isProblem(tick)) continue;
      const aggregator = aggregators.get(tick.symbol);
      if (aggregator === undefined) throw new Error(`no aggregator for ${tick.symbol}`);
      aggregator.addTick(tick);
    }
    bars = closeAll(aggregators, to + 10_000);
    best = Math.min(best, performance.now() - start);
    bestJsonParse = Math.min(bestJsonParse, jsonParseLoop(frames));
  }
  const perSymbol = assertBarPerTickedSlot(mix, bars);
  const reference = against('JSON.parse loop over the same frames, frames/s', (n / best) * 1000, (n / bestJsonParse) * 1000);
  const hours = `${new Date(from).toISOString().slice(11, 16)}-${new Date(to).toISOString().slice(11, 16)} UTC`;
  record('live', 'parse + aggregate, 5 symbols interleaved', formatRate(n, best, 'ticks'), `${n.toLocaleString('en-US')} frames of ${MIX_SYMBOLS.join(', ')} (2026-03-03 ${hours}, all five open) -> ${perSymbol} in ${formatMs(best)}; JSON.parse alone ${formatMs(bestJsonParse)}`, reference);
}

/** Closes every slot of each aggregator; final bars per symbol. */
function closeAll(aggregators: ReadonlyMap<string, BarAggregator>, now: number): Map<string, number> {
  const bars = new Map<string, number>();
  for (const [symbol, aggregator] of aggregators) bars.set(symbol, aggregator.advanceTo(now).filter((e) => e.kind === 'bar' && e.final).length);
  return bars;
}

/** Fails the bench unless each symbol got one bar per 5-minute slot that had frames; returns "N bars (a SYM, ...)". */
function assertBarPerTickedSlot(mix: readonly MixFrame[], bars: ReadonlyMap<string, number>): string {
  const tickedSlots = new Map<string, Set<number>>();
  for (const { symbol, time } of mix) {
    // The slot of the frame's timestamp, which is the tick's time floored to the second.
    const slot = barOpenTime(Math.floor(time / 1000) * 1000);
    tickedSlots.set(symbol, (tickedSlots.get(symbol) ?? new Set()).add(slot));
  }
  for (const symbol of MIX_SYMBOLS) {
    const expected = tickedSlots.get(symbol)?.size ?? 0;
    const got = bars.get(symbol) ?? 0;
    if (expected === 0 || got !== expected) throw new Error(`${symbol}: ${got} bars aggregated for ${expected} slots with ticks`);
  }
  const total = [...bars.values()].reduce((sum, b) => sum + b, 0);
  return `${total} bars (${MIX_SYMBOLS.map((s) => `${bars.get(s) ?? 0} ${s}`).join(', ')}; one per ${BAR_MS / 60_000}-minute slot with ticks)`;
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
