/**
 * Data quality: a calendar heatmap of session coverage over a period up to the whole stored
 * history (by month beyond a year; a month opens as days), where the history ends and the command
 * that fills what is missing (quality-history.tsx), totals of
 * gaps, repairs and backfills, the feed and lifecycle state, the key pool's credits and recent
 * alerts. Clicking a day (or Enter on it) shows its bars, gaps, and what was repaired or
 * backfilled, with the audit entries that record it.
 *
 * Routes: GET /market/status (today in the market's zone), /api/history/{symbol}/span, /api/pipeline/data-quality, /api/calendar,
 * /status, /api/alerts; for a day /api/market/historical and /api/compliance/audit-trail.
 */
import { useMemo, useState } from 'preact/hooks';
import type { DataQualityReport, DayQuality } from '../../contracts/api/data-quality.ts';
import type { CalendarBody, MarketStatusBody } from '../../contracts/api/market.ts';
import type { StatusBody } from '../../contracts/api/status.ts';
import { AlertsPanel } from '../components/alerts-panel.tsx';
import type { HistorySpanResponse } from '../../contracts/api/desk.ts';
import { CalendarHeatmap, type DayLevel, type HeatDay } from '../components/calendar-heatmap.tsx';
import { MonthHeatmap, monthsOf } from '../components/month-heatmap.tsx';
import { Empty, Loaded } from '../components/empty-state.tsx';
import { FeedPanel } from '../components/feed-panel.tsx';
import { KeysPanel } from '../components/keys-panel.tsx';
import { integer, percent } from '../format.ts';
import { sessionDateOf } from '../market-time.ts';
import { useMarket } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';
import { QualityDay } from './quality-day.tsx';
import { HistoryNote } from './quality-history.tsx';

const PERIODS = [
  { days: 31, label: '1 month' },
  { days: 92, label: '3 months' },
  { days: 183, label: '6 months' },
  { days: 366, label: '1 year' },
] as const;

/** Beyond this many days the heatmap shows months. */
const DAY_GRID_MAX_DAYS = 400;

type Period = { kind: 'days'; days: number } | { kind: 'all' } | { kind: 'month'; month: string };

function periodRange(p: Period, today: string, firstStored: string | null): { from: string; to: string } | null {
  if (p.kind === 'days') return { from: addDays(today, -p.days + 1), to: today };
  if (p.kind === 'all') return firstStored === null ? null : { from: firstStored < today ? firstStored : today, to: today };
  const last = addDays(`${p.month}-01`, 31).slice(0, 7);
  return { from: `${p.month}-01`, to: addDays(`${last}-01`, -1) };
}

function daysIn(r: { from: string; to: string }): number {
  return Math.round((Date.parse(r.to) - Date.parse(r.from)) / 86_400_000) + 1;
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function levelOf(q: DayQuality | undefined, today: string): DayLevel {
  if (q === undefined) return 'none';
  if (q.date === today) return 'pending';
  const c = q.coverage ?? 0;
  if (q.status === 'complete') return 'complete';
  if (q.present === 0) return 'missing';
  return c >= 0.95 ? 'high' : c >= 0.5 ? 'partial' : 'low';
}

function dayLabel(date: string, q: DayQuality | undefined, holiday: string | null, today: string): string {
  if (holiday !== null) return `${date}: holiday, ${holiday}`;
  if (q === undefined) return `${date}: no session`;
  const extra = [q.repaired > 0 ? `${q.repaired} repaired` : '', q.backfilled > 0 ? `${q.backfilled} backfilled` : '', q.gaps.length > 0 ? `${q.gaps.length} gaps` : ''].filter((s) => s !== '');
  return `${date}: ${q.present}/${q.expected} bars (${percent(q.coverage, 0)})${q.date === today ? ', in progress' : `, ${q.status}`}${extra.length ? `, ${extra.join(', ')}` : ''}`;
}

export function QualityView() {
  const [period, setPeriod] = useState<Period>({ kind: 'days', days: 92 });
  const [selected, setSelected] = useState<string | null>(null);
  const selectedMarket = useMarket();
  const market = useApi<MarketStatusBody>(`/market/status?symbol=${selectedMarket.path}`);
  const span = useApi<HistorySpanResponse>(`/api/history/${selectedMarket.path}/span`, 60_000);
  const today = market.data?.today.date ?? null;
  const firstStored = span.data?.all.first ? sessionDateOf(selectedMarket.session, Date.parse(span.data.all.first)) : null;
  const range = today === null ? null : periodRange(period, today, firstStored);
  const byMonth = range !== null && daysIn(range) > DAY_GRID_MAX_DAYS;
  const quality = useApi<DataQualityReport>(range ? `/api/pipeline/data-quality?symbol=${selectedMarket.path}&from=${range.from}&to=${range.to}` : null, 60_000);
  const calendar = useApi<CalendarBody>(range && !byMonth ? `/api/calendar?symbol=${selectedMarket.path}&from=${range.from}&to=${range.to}` : null);
  const status = useApi<StatusBody>('/status', 15_000);

  const days = useMemo((): HeatDay[] => {
    if (!calendar.data || !quality.data || today === null) return [];
    const byDate = new Map(quality.data.byDay.map((d) => [d.date, d]));
    return calendar.data.days.map((d) => {
      const q = byDate.get(d.date);
      return { date: d.date, level: d.holiday !== null ? 'holiday' : levelOf(q, today), label: dayLabel(d.date, q, d.holiday, today) };
    });
  }, [calendar.data, quality.data, today]);
  const selectedDay = quality.data?.byDay.find((d) => d.date === selected);

  return (
    <>
      <section class="panel" aria-labelledby="coverage-title">
        <div class="toolbar">
          <h2 id="coverage-title">Session coverage · {selectedMarket.symbol}</h2>
          <span class="spacer" />
          <span class="muted">Period</span>
          {PERIODS.map((p) => (
            <button key={p.days} aria-pressed={period.kind === 'days' && period.days === p.days} onClick={() => setPeriod({ kind: 'days', days: p.days })}>
              {p.label}
            </button>
          ))}
          <button aria-pressed={period.kind === 'all'} onClick={() => setPeriod({ kind: 'all' })} disabled={firstStored === null} data-testid="period-all">
            all history
          </button>
          {period.kind === 'month' && <span class="badge muted">{period.month}</span>}
        </div>
        {range && (
          <p class="muted small" data-testid="quality-period">
            Sessions {range.from} to {range.to} (dates in {selectedMarket.zone}){byMonth ? ' · by month: click a month for its days' : ''}
          </p>
        )}
        {market.error && <Empty>Could not read the market calendar: {market.error}</Empty>}
        <Loaded resource={quality} missing="This server has no data-quality report (GET /api/pipeline/data-quality answered 404).">
          {(q) => (
            <>
              <QualityTotals q={q} />
              {span.data && <HistoryNote span={span.data} quality={q} />}
              {q.bars.present === 0 ? <Empty>No bars stored in this period: import history (tasa import) or let the live session run.</Empty> : null}
              {byMonth ? <MonthHeatmap months={monthsOf(q.byDay)} onSelect={(month) => setPeriod({ kind: 'month', month })} /> : <CalendarHeatmap days={days} selected={selected} onSelect={setSelected} />}
            </>
          )}
        </Loaded>
      </section>
      {selected !== null && (
        <section class="panel" aria-label={`Session ${selected}`} data-testid="quality-day">
          <QualityDay date={selected} quality={selectedDay} holiday={calendar.data?.days.find((d) => d.date === selected)?.holiday ?? null} onClose={() => setSelected(null)} />
        </section>
      )}
      <div class="grid-2">
        <section class="panel" aria-labelledby="feed-title">
          <h2 id="feed-title">Feed and lifecycle</h2>
          <Loaded resource={status}>{(s) => <FeedPanel status={s} />}</Loaded>
        </section>
        <section class="panel" aria-labelledby="keys-title">
          <h2 id="keys-title">Key-pool credits</h2>
          <Loaded resource={status}>{(s) => <KeysPanel keys={s.keys} />}</Loaded>
        </section>
      </div>
      <section class="panel" aria-labelledby="alerts-title">
        <h2 id="alerts-title">Recent alerts</h2>
        <AlertsPanel />
      </section>
    </>
  );
}

function QualityTotals({ q }: { q: DataQualityReport }) {
  const figures: Array<[string, string]> = [
    ['sessions', integer(q.sessions.total)],
    ['complete', integer(q.sessions.complete)],
    ['partial', integer(q.sessions.partial)],
    ['missing', integer(q.sessions.missing)],
    ['coverage', percent(q.bars.coverage)],
    ['gaps', integer(q.bars.gaps)],
    ['missing bars', integer(q.bars.missing)],
    ['repaired bars', integer(q.bars.repaired)],
    ['backfilled bars', integer(q.bars.backfilled)],
    ['flat share', percent(q.bars.flatShare)],
  ];
  return (
    <dl class="figures" data-testid="quality-totals">
      {figures.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd class="num">{value}</dd>
        </div>
      ))}
    </dl>
  );
}
