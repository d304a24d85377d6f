/** What `tasa up`, `ingest` and `serve` run (loaded on demand by ../commands/up-command.ts). */
import { ScaledClock, systemClock, type Clock } from '../../clock.ts';
import type { MarketCalendar } from '../../domain/calendar.ts';
import { marketStatus } from '../../domain/market-status.ts';
import { toBogotaText, toIsoUtc, toZonedText, HOUR_MS, MINUTE_MS, addDays } from '../../domain/time.ts';
import { createLogger } from '../../log.ts';
import { storedBarsSummary } from '../../store/bars-repo.ts';
import { sessionsBetween } from '../../store/sessions-repo.ts';
import { startSystem, type RunningSystem, type SystemRoles } from '../../system.ts';
import { createContext, type CliContext } from '../context.ts';
import { untilShutdownSignal } from '../signals.ts';

const STATUS_EVERY_MS = 30_000;

export async function runUntilSignal(roles: SystemRoles): Promise<void> {
  const ctx = createContext();
  const logger = createLogger(ctx.config.TASA_LOG_LEVEL);
  const system = await startSystem({ config: ctx.config, calendar: ctx.calendar, logger, roles });
  console.log(`Tasa — store ${system.db.target}, bus ${system.bus.kind}, upstream ${system.status().upstream}`);
  // This process owns the embedded store and serves it (store/embedded-store.ts).
  if (system.db.driver === 'pglite') console.log('Other tasa commands (import, bars, backfill, ...) work on this store through this process while it runs.');
  if (system.apiUrl !== null) console.log(`API and dashboard on ${system.apiUrl} (OpenAPI at ${system.apiUrl}/docs)`);
  console.log(await overview(ctx, system));
  system.ingest?.lifecycle.onTransition((t) => console.log(`${toBogotaText(t.at)}  ingest ${t.from} -> ${t.to} (${t.reason})`));
  const timer = setInterval(() => console.log(statusLine(system)), STATUS_EVERY_MS);
  await untilShutdownSignal();
  clearInterval(timer);
  console.log('stopping...');
  await system.stop();
}

async function overview(ctx: CliContext, system: RunningSystem): Promise<string> {
  const lines = [clockText(system.clock)];
  for (const symbol of system.symbols) lines.push(marketStatusText(ctx.calendar.of(symbol), system.clock));
  for (const symbol of system.symbols) lines.push(await dataStatusText(system, ctx.calendar.of(symbol), symbol));
  return lines.join('\n');
}

/** One line: lifecycle state, ticks and bars so far, the latest price and its age. */
function statusLine(system: RunningSystem): string {
  const status = system.status();
  const parts = [`${status.now}${clockNote(system.clock)}`, `ingest ${status.ingest?.state ?? 'off'}`];
  for (const [symbol, c] of Object.entries(status.ingest?.symbols ?? {})) {
    const age = c.lastTickAt === null ? 'no tick yet' : `last tick ${Math.round((system.clock.now() - c.lastTickAt) / 1000)} s ago`;
    parts.push(`${symbol}: ${c.received} ticks, ${c.barsFinal} bars, ${c.emptySlots} empty slots, ${age}`);
  }
  if (status.ingest) parts.push(`written ${status.ingest.writer.ticksWritten} ticks / ${status.ingest.writer.barsWritten} bars`);
  return parts.join(' | ');
}

/** Says when the time shown is not the real time: a scaled (simulated) clock, with the real time beside it. */
function clockNote(clock: Clock): string {
  return clock instanceof ScaledClock ? `, SIMULATED clock; real time ${toBogotaText(systemClock.now())}` : '';
}

/** Now, in UTC, and whether the clock is simulated. */
export function clockText(clock: Clock): string {
  return `now ${toIsoUtc(clock.now())} (UTC${clockNote(clock)})`;
}

/** "Market open/closed" with the next change and a countdown, in the market's own time. */
export function marketStatusText(calendar: MarketCalendar, clock: Clock): string {
  const { now, open, today, nextOpen, nextClose } = marketStatus(calendar, clock.now());
  const at = (t: number) => `${toZonedText(calendar.zone, t)} ${calendar.zone}`;
  const lines: string[] = [];
  if (open) {
    lines.push(`${calendar.symbol} market OPEN, closes ${at(nextClose)} (in ${duration(nextClose - now)})`);
  } else {
    const why = today.holiday ? ` (holiday: ${today.holiday})` : today.tradingDay ? '' : ' (weekend)';
    lines.push(`${calendar.symbol} market CLOSED${why}, opens ${at(nextOpen)} (in ${duration(nextOpen - now)})`);
  }
  if (today.nextDaySettlement) lines.push(`today is a US holiday (${today.usHoliday}): trades settle next day`);
  return lines.join('\n');
}

async function dataStatusText(system: RunningSystem, calendar: MarketCalendar, symbol: string): Promise<string> {
  const summary = await storedBarsSummary(system.db, symbol);
  if (summary.first === null || summary.last === null) {
    return `${symbol}: no bars stored yet (live bars and backfill will arrive; history: npm run tasa -- import <file.csv.gz>)`;
  }
  const to = calendar.localDate(system.clock.now());
  const from = addDays(to, -30);
  const recent = await sessionsBetween(system.db, symbol, from, to);
  const expected = calendar.sessionsBetween(from, to).length;
  const complete = recent.filter((s) => s.status === 'complete').length;
  return [
    `${symbol}: ${summary.count.toLocaleString('en-US')} bars from ${toBogotaText(summary.first)} to ${toBogotaText(summary.last)}`,
    `${symbol}: last 30 days: ${complete} of ${expected} sessions complete`,
  ].join('\n');
}

function duration(ms: number): string {
  const hours = Math.floor(ms / HOUR_MS);
  const minutes = Math.floor((ms % HOUR_MS) / MINUTE_MS);
  return hours >= 48 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${hours} h ${minutes} min`;
}
