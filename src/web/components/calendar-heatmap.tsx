/**
 * A calendar heatmap of weekdays: one column per week, one row per weekday (Monday to Friday;
 * the market never trades on weekends). Each day is a button coloured by its level. The grid is
 * one tab stop: arrow keys move by day (up/down) and by week (left/right), Home/End jump to the
 * ends, Enter or Space selects.
 */
import { useRef, useState } from 'preact/hooks';

export type DayLevel = 'complete' | 'high' | 'partial' | 'low' | 'missing' | 'holiday' | 'pending' | 'none';

export interface HeatDay {
  date: string;
  level: DayLevel;
  /** Read by screen readers and shown as a tooltip. */
  label: string;
}

interface Props {
  days: HeatDay[];
  selected: string | null;
  onSelect: (date: string) => void;
}

const WEEKDAY_ROWS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];

/** 0 = Monday .. 4 = Friday; null for weekends. */
function weekdayIndex(date: string): number | null {
  const d = new Date(`${date}T12:00:00Z`).getUTCDay();
  return d === 0 || d === 6 ? null : d - 1;
}

function mondayOf(date: string): string {
  const t = new Date(`${date}T12:00:00Z`);
  const back = (t.getUTCDay() + 6) % 7;
  return new Date(t.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}

interface Placed extends HeatDay {
  column: number;
  row: number;
}

function place(days: HeatDay[]): { placed: Placed[]; weeks: string[] } {
  const weeks: string[] = [];
  const placed: Placed[] = [];
  for (const day of days) {
    const row = weekdayIndex(day.date);
    if (row === null) continue;
    const monday = mondayOf(day.date);
    if (weeks.at(-1) !== monday) weeks.push(monday);
    placed.push({ ...day, column: weeks.length - 1, row });
  }
  return { placed, weeks };
}

export function CalendarHeatmap({ days, selected, onSelect }: Props) {
  const { placed, weeks } = place(days);
  const [focus, setFocus] = useState<string | null>(null);
  const grid = useRef<HTMLDivElement>(null);
  const current = focus ?? selected ?? placed.at(-1)?.date ?? null;

  const move = (from: Placed, key: string): Placed | undefined => {
    if (key === 'Home') return placed[0];
    if (key === 'End') return placed.at(-1);
    const i = placed.indexOf(from);
    if (key === 'ArrowUp') return placed[i - 1];
    if (key === 'ArrowDown') return placed[i + 1];
    const column = from.column + (key === 'ArrowLeft' ? -1 : 1);
    return placed.find((p) => p.column === column && p.row === from.row) ?? placed.find((p) => p.column === column);
  };

  const onKeyDown = (e: KeyboardEvent, day: Placed) => {
    if (!['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) return;
    e.preventDefault();
    const next = move(day, e.key);
    if (!next) return;
    setFocus(next.date);
    grid.current?.querySelector<HTMLButtonElement>(`[data-date="${next.date}"]`)?.focus();
  };

  return (
    <div class="heatmap-wrap">
      <div class="heatmap" ref={grid} role="group" aria-label="Sessions by day: arrow keys move, Enter shows the day" style={{ gridTemplateColumns: `28px repeat(${weeks.length}, 14px)` }}>
        {WEEKDAY_ROWS.map((name, row) => (
          <span key={name} class="heatmap-label muted" style={{ gridColumn: 1, gridRow: row + 2 }}>
            {row % 2 === 0 ? name : ''}
          </span>
        ))}
        {weeks.map((monday, column) =>
          monday.endsWith('-01') || monday.slice(8) <= '07' ? (
            <span key={monday} class="heatmap-label muted" style={{ gridColumn: column + 2, gridRow: 1 }}>
              {new Date(`${monday}T12:00:00Z`).toLocaleString('en-US', { month: 'short', timeZone: 'UTC' })}
            </span>
          ) : null,
        )}
        {placed.map((day) => (
          <button
            key={day.date}
            type="button"
            class={`day ${day.level}`}
            data-date={day.date}
            data-level={day.level}
            style={{ gridColumn: day.column + 2, gridRow: day.row + 2 }}
            tabIndex={day.date === current ? 0 : -1}
            aria-pressed={day.date === selected}
            aria-label={day.label}
            title={day.label}
            onClick={() => {
              setFocus(day.date);
              onSelect(day.date);
            }}
            onKeyDown={(e) => onKeyDown(e, day)}
          />
        ))}
      </div>
      <p class="legend-row muted small">
        <span class="day complete" /> complete <span class="day high" /> ≥ 95 % <span class="day partial" /> partial <span class="day low" /> &lt; 50 %{' '}
        <span class="day missing" /> missing <span class="day holiday" /> holiday <span class="day pending" /> in progress
      </p>
    </div>
  );
}
