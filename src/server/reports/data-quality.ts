/**
 * Data quality of a symbol over a period of sessions, from the stored bars (L1) and the session
 * quality table: coverage of the calendar's bar grid, flat share, repairs and backfills, and the
 * gaps, by day and by hour of the session. Bars are streamed, so a long period stays in bounded
 * memory apart from the per-day results.
 */
import type { DataQualityReport, DayQuality, QualityCounts } from '../../contracts/api/data-quality.ts';
import { BAR_MS, type Bar } from '../../domain/bar.ts';
import { sessionDateOf, type MarketCalendar, type Session } from '../../domain/calendar.ts';
import { findGaps } from '../../domain/gaps.ts';
import { sessionQualityFromCounts, type SessionStatus } from '../../domain/session-quality.ts';
import type { SymbolCode } from '../../domain/symbol.ts';
import { HOUR_MS, toIsoUtc } from '../../domain/time.ts';
import { streamBars } from '../../store/bars-repo.ts';
import type { Db } from '../../store/db.ts';
import { sessionsBetween } from '../../store/sessions-repo.ts';
import type { DatePeriod } from '../request-inputs.ts';

interface Tally {
  expected: number;
  present: number;
  flat: number;
  repaired: number;
  backfilled: number;
}

const emptyTally = (): Tally => ({ expected: 0, present: 0, flat: 0, repaired: 0, backfilled: 0 });

function countsOf(t: Tally): QualityCounts {
  return {
    expected: t.expected,
    present: t.present,
    missing: t.expected - t.present,
    coverage: t.expected === 0 ? null : t.present / t.expected,
    flat: t.flat,
    flatShare: t.present === 0 ? null : t.flat / t.present,
    repaired: t.repaired,
    backfilled: t.backfilled,
  };
}

function addBar(t: Tally, bar: Bar): void {
  t.present++;
  if (bar.flags.includes('flat')) t.flat++;
  if (bar.flags.includes('repaired')) t.repaired++;
  if (bar.flags.includes('backfilled')) t.backfilled++;
}

interface DayState {
  session: Session;
  tally: Tally;
  times: Set<number>;
}

/** What the streamed bars add up to. */
interface Accumulated {
  days: Map<string, DayState>;
  hours: Tally[];
  flags: Record<string, number>;
  sources: Record<string, number>;
  outsideSessions: number;
}

export async function dataQuality(db: Db, calendar: MarketCalendar, symbol: SymbolCode, period: DatePeriod): Promise<DataQualityReport> {
  const acc = await accumulate(db, calendar, symbol, period);
  const recorded = new Map((await sessionsBetween(db, symbol, period.from, period.to)).map((s) => [s.date, s.status]));
  const byDay = [...acc.days.values()].map((d) => dayQuality(symbol, calendar, d, recorded.get(d.session.date) ?? null));
  const total = emptyTally();
  for (const d of acc.days.values()) for (const k of Object.keys(total) as Array<keyof Tally>) total[k] += d.tally[k];
  const count = (status: SessionStatus) => byDay.filter((d) => d.status === status).length;
  return {
    symbol,
    from: period.from,
    to: period.to,
    sessions: { total: byDay.length, complete: count('complete'), partial: count('partial'), missing: count('missing'), notRecorded: byDay.filter((d) => d.recordedStatus === null).length },
    bars: { ...countsOf(total), gaps: byDay.reduce((n, d) => n + d.gaps.length, 0), outsideSessions: acc.outsideSessions },
    flags: acc.flags,
    sources: acc.sources,
    byDay,
    byHourOfSession: acc.hours.map((t, i) => ({ hour: hourOfSession(calendar, i), ...countsOf(t) })),
  };
}

/** The market's wall-clock hour of the session's `i`th hour, e.g. 08:00 + 2 h = "10:00". */
function hourOfSession(calendar: MarketCalendar, i: number): string {
  const open = calendar.sessionHours().open;
  return `${String((Number(open.slice(0, 2)) + i) % 24).padStart(2, '0')}:${open.slice(3, 5)}`;
}

async function accumulate(db: Db, calendar: MarketCalendar, symbol: SymbolCode, period: DatePeriod): Promise<Accumulated> {
  const acc: Accumulated = { days: new Map(), hours: [], flags: {}, sources: {}, outsideSessions: 0 };
  for (const session of calendar.sessionsBetween(period.from, period.to)) {
    acc.days.set(session.date, { session, tally: { ...emptyTally(), expected: session.barCount }, times: new Set() });
    for (const slot of calendar.barGrid(session)) hourTally(acc, session, slot).expected++;
  }
  for await (const batch of streamBars(db, symbol, period.fromMs, period.toMs)) {
    for (const bar of batch) addStoredBar(acc, calendar, bar);
  }
  return acc;
}

function addStoredBar(acc: Accumulated, calendar: MarketCalendar, bar: Bar): void {
  acc.sources[bar.source] = (acc.sources[bar.source] ?? 0) + 1;
  for (const flag of bar.flags) acc.flags[flag] = (acc.flags[flag] ?? 0) + 1;
  const day = acc.days.get(sessionDateOf(calendar, bar.time));
  const session = day?.session;
  if (day === undefined || session === undefined || bar.time < session.open || bar.time >= session.close || (bar.time - session.open) % BAR_MS !== 0) {
    acc.outsideSessions++;
    return;
  }
  day.times.add(bar.time);
  addBar(day.tally, bar);
  addBar(hourTally(acc, session, bar.time), bar);
}

/** The tally of the session hour holding `slot` (hour 0 starts at the open). */
function hourTally(acc: Accumulated, session: Session, slot: number): Tally {
  const index = Math.floor((slot - session.open) / HOUR_MS);
  while (acc.hours.length <= index) acc.hours.push(emptyTally());
  return acc.hours[index] as Tally;
}

function dayQuality(symbol: SymbolCode, calendar: MarketCalendar, day: DayState, recordedStatus: SessionStatus | null): DayQuality {
  const { session, tally } = day;
  const status = sessionQualityFromCounts(symbol, session, { present: tally.present, flat: tally.flat, repaired: tally.repaired }).status;
  const gaps = findGaps(session.date, calendar.barGrid(session), day.times).map((g) => ({ from: toIsoUtc(g.from), to: toIsoUtc(g.to), bars: g.bars }));
  return { date: session.date, ...countsOf(tally), status, recordedStatus, gaps };
}
