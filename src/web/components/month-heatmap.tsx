/**
 * Session coverage by month, one row per year: a period of years stays one screen high. Each cell
 * is a month's stored bars over the bars its sessions expect, coloured as the day heatmap colours
 * a session; clicking one opens that month in the day heatmap.
 */
import { Fragment } from 'preact';
import type { DayQuality } from '../../contracts/api/data-quality.ts';
import { percent } from '../format.ts';

export interface MonthCell {
  month: string;
  expected: number;
  present: number;
  sessions: number;
  missingSessions: number;
}

/** The days' counts summed by month (YYYY-MM), in time order. */
export function monthsOf(days: readonly DayQuality[]): MonthCell[] {
  const byMonth = new Map<string, MonthCell>();
  for (const d of days) {
    const month = d.date.slice(0, 7);
    const cell = byMonth.get(month) ?? { month, expected: 0, present: 0, sessions: 0, missingSessions: 0 };
    cell.expected += d.expected;
    cell.present += d.present;
    cell.sessions++;
    if (d.present === 0) cell.missingSessions++;
    byMonth.set(month, cell);
  }
  return [...byMonth.values()].sort((a, b) => a.month.localeCompare(b.month));
}

function levelOf(c: MonthCell | undefined): string {
  if (c === undefined || c.expected === 0) return 'none';
  const coverage = c.present / c.expected;
  if (coverage === 1) return 'complete';
  if (c.present === 0) return 'missing';
  return coverage >= 0.95 ? 'high' : coverage >= 0.5 ? 'partial' : 'low';
}

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function MonthHeatmap({ months, onSelect }: { months: readonly MonthCell[]; onSelect: (month: string) => void }) {
  const byMonth = new Map(months.map((m) => [m.month, m]));
  const years = [...new Set(months.map((m) => m.month.slice(0, 4)))];
  return (
    <div class="heatmap-wrap">
      <div class="heatmap-months" role="grid" aria-label="Session coverage by month" data-testid="month-heatmap">
        <span />
        {MONTH_NAMES.map((m) => (
          <span key={m} class="muted">
            {m.slice(0, 1)}
          </span>
        ))}
        {years.map((year) => (
          <Fragment key={year}>
            <span class="muted">{year}</span>
            {MONTH_NAMES.map((_, i) => {
              const month = `${year}-${String(i + 1).padStart(2, '0')}`;
              const c = byMonth.get(month);
              const label = c === undefined ? `${month}: no session in the period` : `${month}: ${c.present}/${c.expected} bars (${percent(c.present / c.expected, 0)}), ${c.missingSessions} of ${c.sessions} sessions without data`;
              return <button key={month} type="button" class={`month day ${levelOf(c)}`} title={label} aria-label={label} data-month={month} data-level={levelOf(c)} disabled={c === undefined} onClick={() => onSelect(month)} />;
            })}
          </Fragment>
        ))}
      </div>
    </div>
  );
}
