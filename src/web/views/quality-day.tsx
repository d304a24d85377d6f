/**
 * One session in detail: its bars (chart and table, flags and sources), its gaps, and what was
 * repaired or backfilled, with the audit entries that record it.
 *
 * Routes: GET /api/market/historical?symbol&from=date&to=date, /api/compliance/audit-trail?entity=bars:<symbol>:<date>.
 */
import { useMemo } from 'preact/hooks';
import type { AuditTrail } from '../../contracts/api/compliance.ts';
import type { DayQuality } from '../../contracts/api/data-quality.ts';
import type { BarRow } from '../../contracts/api/market.ts';
import { Badge } from '../components/badge.tsx';
import { CandleChart, type Candle } from '../components/candle-chart.tsx';
import { Empty, Loaded } from '../components/empty-state.tsx';
import { sourceKindOf } from '../candle-types.ts';
import { integer, percent, price, zonedDateTime, zonedTime } from '../format.ts';
import { sessionDateOf } from '../market-time.ts';
import { useMarket } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';

interface Props {
  date: string;
  quality: DayQuality | undefined;
  holiday: string | null;
  onClose: () => void;
}

export function QualityDay({ date, quality, holiday, onClose }: Props) {
  const market = useMarket();
  const zone = market.zone;
  const bars = useApi<BarRow[]>(holiday === null ? `/api/market/historical?symbol=${market.path}&from=${date}&to=${date}` : null);
  const audit = useApi<AuditTrail>(`/api/compliance/audit-trail?entity=${encodeURIComponent(`bars:${market.symbol}:${date}`)}&limit=50`);
  const candles = useMemo((): Candle[] => (bars.data ?? []).map((b) => ({ time: Date.parse(b.time), open: b.open, high: b.high, low: b.low, close: b.close, session: sessionDateOf(market.session, Date.parse(b.time)), simulated: b.source === 'simulator', source: sourceKindOf([b.source], b.flags.split('|').includes('partial')) })), [bars.data]);
  const flagged = (bars.data ?? []).filter((b) => b.flags !== '');
  return (
    <>
      <div class="toolbar">
        <h2>Session {date}</h2>
        {quality && <Badge tone={quality.status === 'complete' ? 'ok' : quality.status === 'partial' ? 'warn' : 'bad'}>{quality.status}</Badge>}
        <span class="spacer" />
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {holiday !== null ? (
        <Empty>No session: a Colombian holiday ({holiday}).</Empty>
      ) : quality === undefined ? (
        <Empty>No session on this day (weekend or outside the period).</Empty>
      ) : (
        <>
          <p data-testid="quality-day-summary">
            {integer(quality.present)} of {integer(quality.expected)} bars ({percent(quality.coverage)}) · {integer(quality.repaired)} repaired · {integer(quality.backfilled)} backfilled ·{' '}
            {integer(quality.flat)} flat · {quality.gaps.length === 0 ? 'no gaps' : `${quality.gaps.length} gap${quality.gaps.length > 1 ? 's' : ''}: `}
            {quality.gaps.map((g) => `${zonedTime(zone, Date.parse(g.from))}–${zonedTime(zone, Date.parse(g.to))} (${g.bars} bars)`).join(', ')}
            {quality.gaps.length > 0 && ` ${zone}`}
          </p>
          <Loaded resource={bars}>
            {(rows) =>
              rows.length === 0 ? (
                <Empty>No bars stored for this session.</Empty>
              ) : (
                <>
                  <CandleChart candles={candles} indicators={null} showOverlays={false} showOscillators={false} daily={false} stepMs={300_000} dataKey={date} compact />
                  <BarTable rows={flagged.length > 0 ? flagged : rows} title={flagged.length > 0 ? `Flagged bars (${flagged.length} of ${rows.length})` : `Bars (${rows.length}, none flagged)`} />
                </>
              )
            }
          </Loaded>
        </>
      )}
      <h3>Audit trail</h3>
      <Loaded resource={audit} missing="This server has no audit trail route.">
        {(a) =>
          a.entries.length === 0 ? (
            <Empty>Nothing was repaired, backfilled or changed by hand on this day.</Empty>
          ) : (
            <ul class="plain" data-testid="quality-day-audit">
              {a.entries.map((e) => (
                <li key={e.id}>
                  {zonedDateTime(zone, e.at)} · <b>{e.action}</b> by {e.actor} · <span class="muted small">{summarize(e.details)}</span>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </>
  );
}

function BarTable({ rows, title }: { rows: BarRow[]; title: string }) {
  const { zone, decimals } = useMarket();
  return (
    <details open={rows.length <= 20}>
      <summary class="muted">{title}</summary>
      <div class="table-wrap tall">
        <table>
          <thead>
            <tr>
              <th>open ({zone})</th>
              <th class="num">open</th>
              <th class="num">high</th>
              <th class="num">low</th>
              <th class="num">close</th>
              <th>source</th>
              <th class="num">rev.</th>
              <th>flags</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((b) => (
              <tr key={b.time}>
                <td>{zonedTime(zone, Date.parse(b.time))}</td>
                <td class="num">{price(b.open, decimals)}</td>
                <td class="num">{price(b.high, decimals)}</td>
                <td class="num">{price(b.low, decimals)}</td>
                <td class="num">{price(b.close, decimals)}</td>
                <td>{b.source}</td>
                <td class="num">{b.revision}</td>
                <td>{b.flags === '' ? '' : <Badge tone="warn">{b.flags.replaceAll('|', ', ')}</Badge>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** A short line from an audit entry's details (counts and names, not the whole document). */
function summarize(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .slice(0, 6)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(' · ');
}
