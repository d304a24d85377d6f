/**
 * `tasa up` (what `npm start` runs): prepares the store and shows the state of the system:
 * the market now, the data held and its quality. Live ingestion, the API and the dashboard
 * join this command as they are built.
 */
import type { Command } from 'commander';
import { systemClock, type Clock } from '../../clock.ts';
import type { MarketCalendar } from '../../domain/calendar.ts';
import { bogotaDate, toBogotaText, HOUR_MS, MINUTE_MS, addDays } from '../../domain/time.ts';
import { storedBarsSummary } from '../../store/bars-repo.ts';
import { sessionsBetween } from '../../store/sessions-repo.ts';
import type { Db } from '../../store/db.ts';
import { createContext, withStore } from '../context.ts';

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('Prepare the store and show the market, the data held and its quality')
    .action(async () => {
      const ctx = createContext();
      await withStore(ctx, async (db) => {
        console.log(`Tasa ${process.env['npm_package_version'] ?? ''} — store: ${db.target}`);
        console.log(marketStatusText(ctx.calendar, systemClock));
        console.log(await dataStatusText(db, ctx.calendar, systemClock));
      });
    });
}

/** "Market open/closed" with the next change and a countdown, in Bogota time. */
export function marketStatusText(calendar: MarketCalendar, clock: Clock): string {
  const now = clock.now();
  const today = calendar.dayInfo(bogotaDate(now));
  const session = calendar.nextSession(now);
  const lines = [`now ${toBogotaText(now)} (America/Bogota)`];
  if (calendar.isMarketOpen(now)) {
    lines.push(`USD/COP market OPEN, closes ${toBogotaText(session.close)} (in ${duration(session.close - now)})`);
  } else {
    const why = today.holiday ? ` (holiday: ${today.holiday})` : today.tradingDay ? '' : ' (weekend)';
    lines.push(`USD/COP market CLOSED${why}, opens ${toBogotaText(session.open)} (in ${duration(session.open - now)})`);
  }
  if (today.nextDaySettlement) lines.push(`today is a US holiday (${today.usHoliday}): trades settle next day`);
  return lines.join('\n');
}

async function dataStatusText(db: Db, calendar: MarketCalendar, clock: Clock): Promise<string> {
  const summary = await storedBarsSummary(db, 'USD/COP');
  if (summary.first === null || summary.last === null) {
    return 'No USD/COP bars stored yet. Load history with: npm run tasa -- import <file.csv.gz> --symbol USD/COP';
  }
  const to = bogotaDate(clock.now());
  const from = addDays(to, -30);
  const recent = await sessionsBetween(db, 'USD/COP', from, to);
  const expected = calendar.sessionsBetween(from, to).length;
  const complete = recent.filter((s) => s.status === 'complete').length;
  return [
    `USD/COP: ${summary.count.toLocaleString('en-US')} bars from ${toBogotaText(summary.first)} to ${toBogotaText(summary.last)}`,
    `last 30 days: ${complete} of ${expected} sessions complete`,
  ].join('\n');
}

function duration(ms: number): string {
  const hours = Math.floor(ms / HOUR_MS);
  const minutes = Math.floor((ms % HOUR_MS) / MINUTE_MS);
  return hours >= 48 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${hours} h ${minutes} min`;
}
