/**
 * The market rules Tasa applies, as configured in this deployment: session hours and bar grid
 * (domain/calendar.ts), the holiday calendar's source and fingerprint (store/reference-data.ts),
 * a year's holidays, the time zone, and what data is kept for how long.
 */
import { Type, type Static } from 'typebox';
import { BAR_MS } from '../../domain/bar.ts';
import type { Calendars, Holiday, MarketCalendar } from '../../domain/calendar.ts';
import type { SymbolCode } from '../../domain/symbol.ts';
import { MINUTE_MS, utcOffsetText } from '../../domain/time.ts';
import type { Db } from '../../store/db.ts';
import { calendarFingerprint, HOLIDAY_TABLE_YEARS, holidayLibraryVersion, storedCalendarFingerprint } from '../../store/reference-data.ts';
import { IsoDateText, Nullable } from '../../contracts/api/schema-kit.ts';

const HolidayView = Type.Object({
  date: IsoDateText('Date'),
  name: Type.String(),
  origin: Type.Union([Type.Literal('date-holidays'), Type.Literal('override'), Type.Literal('market rule')], {
    description: 'The holiday library, a decree override (instruments file or overrides file), or a fixed closure of the market',
  }),
});

const RetentionRule = Type.Object({
  data: Type.String({ description: 'Table or store' }),
  kept: Type.String({ description: 'How long it is kept' }),
  mutability: Type.String({ description: 'Whether and how it can change' }),
});

export const Regulations = Type.Object(
  {
    symbol: Type.String({ description: 'The instrument whose market rules these are' }),
    market: Type.String({ description: 'The market its calendar follows' }),
    timeZone: Type.Object({
      market: Type.String({ description: 'IANA zone of sessions and dates' }),
      utcOffset: Type.String(),
      daylightSaving: Type.Boolean(),
      storage: Type.String({ description: 'How times are stored and sent' }),
    }),
    session: Type.Object({
      open: Type.String({ description: "Wall time in the market's zone" }),
      close: Type.String({ description: "Wall time in the market's zone (exclusive end)" }),
      opensDayBefore: Type.Boolean({ description: 'The session opens the evening before its date (the 24-hour FX week)' }),
      tradingDays: Type.String(),
      barMinutes: Type.Integer(),
      barsPerSession: Type.Integer(),
      barLabel: Type.String(),
      nextDaySettlement: Nullable(Type.String({ description: 'What a settlement holiday (US federal for USD/COP) on a business day means; null when the market has none' })),
    }),
    holidayCalendar: Type.Object({
      source: Type.String(),
      libraryVersion: Type.String({ description: 'date-holidays version in use' }),
      overridesFile: Nullable(Type.String({ description: 'TASA_CALENDAR_OVERRIDES, when set' })),
      overrides: Type.Object({ add: Type.Array(Type.Object({ date: IsoDateText('Date'), name: Type.String() })), remove: Type.Array(IsoDateText('Date')) }),
      fingerprint: Type.String({ description: 'Fingerprint of the calendar in force (library version, overrides, years)' }),
      storedFingerprint: Nullable(Type.String({ description: 'Fingerprint the holidays table was last built from (app_state)' })),
      tableInSync: Type.Boolean({ description: 'The holidays table matches the calendar in force' }),
      tableYears: Type.Object({ from: Type.Integer(), to: Type.Integer() }),
    }),
    holidays: Type.Object({
      year: Type.Integer(),
      closed: Type.Array(HolidayView, { description: "The market's holidays: no session" }),
      settlement: Type.Array(HolidayView, { description: 'Settlement holidays (USD/COP: US federal, observed): a session on a business day settles the next day' }),
    }),
    retention: Type.Array(RetentionRule),
  },
  { description: 'Market rules and data policies in force' },
);
export type Regulations = Static<typeof Regulations>;

/** What each store keeps: the schema's guarantees. Only tick retention removes rows on a schedule, after archiving them. */
const RETENTION: Array<Static<typeof RetentionRule>> = [
  { data: 'raw_bars (L0)', kept: 'forever', mutability: 'append-only: a trigger refuses UPDATE, DELETE and TRUNCATE; re-importing a file adds nothing' },
  { data: 'bars (L1)', kept: 'forever', mutability: 'a changed bar gets revision + 1; its previous values are kept in bar_revisions' },
  { data: 'bar_revisions', kept: 'forever', mutability: 'insert-only history of every bar change' },
  { data: 'ticks', kept: 'TASA_TICK_RETENTION_DAYS (default 90) in the store, in monthly range partitions; an older partition is archived to Parquet with a manifest, verified by reading it back, then dropped (`tasa retention`)', mutability: 'insert-only; a duplicate tick is ignored' },
  { data: 'sessions', kept: 'forever', mutability: 'recomputed from bars when they change' },
  { data: 'audit_log', kept: 'forever', mutability: 'append-only: a trigger refuses UPDATE, DELETE and TRUNCATE' },
  { data: 'pipeline_runs', kept: 'forever', mutability: 'one row per run, finished once' },
  { data: 'api_tokens', kept: 'forever', mutability: 'only the sha256 of a token is stored; revoked tokens stay, marked revoked' },
];

export async function regulations(db: Db, calendars: Calendars, served: readonly SymbolCode[], symbol: SymbolCode, o: { year: number; overridesFile: string | null }): Promise<Regulations> {
  const calendar = calendars.of(symbol);
  const fingerprint = calendarFingerprint(served.map((s) => calendars.of(s)));
  const stored = await storedCalendarFingerprint(db);
  const view = (h: Holiday) => ({ date: h.date, name: h.name, origin: h.origin });
  const hours = calendar.sessionHours();
  const { market } = calendar.instrument;
  const session = calendar.nextSession(Date.UTC(o.year, 0, 1));
  return {
    symbol,
    market: market.name,
    timeZone: zoneFacts(calendar.zone, o.year),
    session: {
      open: hours.open,
      close: hours.close,
      opensDayBefore: hours.opensDayBefore,
      tradingDays: `${weekdayNames(market.weekdays)}, except the market's holidays`,
      barMinutes: BAR_MS / MINUTE_MS,
      barsPerSession: session.barCount,
      barLabel: 'a bar is labelled by its open time and covers [open, open + 5 min)',
      nextDaySettlement: market.settlementHolidays === undefined ? null : 'the market trades and settles the next business day',
    },
    holidayCalendar: {
      source: holidaySource(calendar),
      libraryVersion: holidayLibraryVersion(),
      overridesFile: o.overridesFile,
      overrides: calendar.overrides(),
      fingerprint,
      storedFingerprint: stored,
      tableInSync: stored === fingerprint,
      tableYears: { ...HOLIDAY_TABLE_YEARS },
    },
    holidays: { year: o.year, closed: calendar.holidays(o.year).map(view), settlement: calendar.usHolidays(o.year).map(view) },
    retention: RETENTION,
  };
}

const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function weekdayNames(weekdays: readonly number[]): string {
  return weekdays.map((d) => WEEKDAY_NAMES[d - 1]).join(', ');
}

/** The zone's offset in January and July of the year: two different offsets mean daylight saving. */
function zoneFacts(zone: string, year: number): Regulations['timeZone'] {
  const offsets = [Date.UTC(year, 0, 15), Date.UTC(year, 6, 15)].map((t) => utcOffsetText(zone, t));
  return { market: zone, utcOffset: [...new Set(offsets)].join(' / '), daylightSaving: offsets[0] !== offsets[1], storage: 'UTC: timestamptz in the database, ISO 8601 with Z on the wire' };
}

function holidaySource(calendar: MarketCalendar): string {
  const rules = calendar.instrument.market.holidays;
  const parts = [];
  if (rules.country !== undefined) parts.push(`date-holidays (country ${rules.country}, types ${(rules.types ?? ['public']).join(', ')})`);
  if ((rules.fixed ?? []).length > 0) parts.push(`fixed closures ${(rules.fixed ?? []).map((f) => f.monthDay).join(', ')}`);
  if (calendar.instrument.market.settlementHolidays !== undefined) parts.push(`${calendar.instrument.market.settlementHolidays} holidays for next-day settlement`);
  return `${parts.join('; ')}; plus decree changes from the instruments file and the overrides file`;
}
