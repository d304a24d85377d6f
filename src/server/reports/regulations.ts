/**
 * The market rules Tasa applies, as configured in this deployment: session hours and bar grid
 * (domain/calendar.ts), the holiday calendar's source and fingerprint (store/reference-data.ts),
 * a year's holidays, the time zone, and what data is kept for how long.
 */
import { Type, type Static } from 'typebox';
import { BAR_MS } from '../../domain/bar.ts';
import { BARS_PER_SESSION, SESSION_CLOSE_HOUR, SESSION_OPEN_HOUR, type Holiday, type MarketCalendar } from '../../domain/calendar.ts';
import { MARKET_ZONE, MINUTE_MS } from '../../domain/time.ts';
import type { Db } from '../../store/db.ts';
import { calendarFingerprint, HOLIDAY_TABLE_YEARS, holidayLibraryVersion, storedCalendarFingerprint } from '../../store/reference-data.ts';
import { IsoDateText, Nullable } from '../../contracts/api/schema-kit.ts';

const HolidayView = Type.Object({
  date: IsoDateText('Date'),
  name: Type.String(),
  origin: Type.Union([Type.Literal('date-holidays'), Type.Literal('override')], { description: 'The holiday library, or the configured overrides file' }),
});

const RetentionRule = Type.Object({
  data: Type.String({ description: 'Table or store' }),
  kept: Type.String({ description: 'How long it is kept' }),
  mutability: Type.String({ description: 'Whether and how it can change' }),
});

export const Regulations = Type.Object(
  {
    timeZone: Type.Object({
      market: Type.String({ description: 'IANA zone of sessions and dates' }),
      utcOffset: Type.String(),
      daylightSaving: Type.Boolean(),
      storage: Type.String({ description: 'How times are stored and sent' }),
    }),
    session: Type.Object({
      open: Type.String({ description: 'Bogota wall time' }),
      close: Type.String({ description: 'Bogota wall time (exclusive end)' }),
      tradingDays: Type.String(),
      barMinutes: Type.Integer(),
      barsPerSession: Type.Integer(),
      barLabel: Type.String(),
      nextDaySettlement: Type.String({ description: 'What a US federal holiday on a Colombian business day means' }),
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
      colombia: Type.Array(HolidayView, { description: 'Colombian holidays: no session' }),
      unitedStates: Type.Array(HolidayView, { description: 'US federal holidays (observed): a session on a Colombian business day settles the next day' }),
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

export async function regulations(db: Db, calendar: MarketCalendar, o: { year: number; overridesFile: string | null }): Promise<Regulations> {
  const hhmm = (hour: number) => `${String(hour).padStart(2, '0')}:00`;
  const fingerprint = calendarFingerprint(calendar);
  const stored = await storedCalendarFingerprint(db);
  const view = (h: Holiday) => ({ date: h.date, name: h.name, origin: h.origin });
  return {
    timeZone: { market: MARKET_ZONE, utcOffset: '-05:00', daylightSaving: false, storage: 'UTC: timestamptz in the database, ISO 8601 with Z on the wire' },
    session: {
      open: hhmm(SESSION_OPEN_HOUR),
      close: hhmm(SESSION_CLOSE_HOUR),
      tradingDays: 'Monday to Friday, except Colombian public holidays',
      barMinutes: BAR_MS / MINUTE_MS,
      barsPerSession: BARS_PER_SESSION,
      barLabel: 'a bar is labelled by its open time and covers [open, open + 5 min)',
      nextDaySettlement: 'the market trades and settles the next business day',
    },
    holidayCalendar: {
      source: 'date-holidays (country CO; US federal holidays for next-day settlement), plus the overrides file for decree changes',
      libraryVersion: holidayLibraryVersion(),
      overridesFile: o.overridesFile,
      overrides: calendar.overrides(),
      fingerprint,
      storedFingerprint: stored,
      tableInSync: stored === fingerprint,
      tableYears: { ...HOLIDAY_TABLE_YEARS },
    },
    holidays: { year: o.year, colombia: calendar.holidays(o.year).map(view), unitedStates: calendar.usHolidays(o.year).map(view) },
    retention: RETENTION,
  };
}
