/** Feed and ingest lifecycle from /status: state, connection, recent transitions, counters. */
import type { StatusBody } from '../../contracts/api/status.ts';
import { decimal, integer, zonedClock, zonedDateTime } from '../format.ts';
import { useZone } from '../selected-symbol.ts';
import { Badge } from './badge.tsx';
import { Empty } from './empty-state.tsx';

const STATE_TONES: Record<string, 'ok' | 'warn' | 'bad' | 'muted'> = { ACTIVE: 'ok', READY: 'ok', ERROR: 'bad', SHUTDOWN: 'muted' };

export function FeedPanel({ status }: { status: StatusBody }) {
  const zone = useZone();
  const ingest = status.ingest;
  if (ingest === null) return <Empty>No ingest status: {status.note}.</Empty>;
  return (
    <div data-testid="feed-panel">
      <p class="toolbar">
        lifecycle <Badge tone={STATE_TONES[ingest.state] ?? 'warn'}>{ingest.state}</Badge>
        feed <Badge tone={ingest.feed.state === 'connected' || ingest.feed.state === 'subscribed' ? 'ok' : 'warn'}>{ingest.feed.state}</Badge>
        <span class="muted small">
          {integer(ingest.feed.connects)} connects{ingest.feed.detail ? ` · ${ingest.feed.detail}` : ''} · upstream {status.system?.upstream ?? '—'}
        </span>
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>symbol</th>
              <th class="num">ticks</th>
              <th class="num">rejected</th>
              <th class="num">bars</th>
              <th class="num">empty slots</th>
              <th>last tick (age)</th>
            </tr>
          </thead>
          <tbody>
            {ingest.symbols.map((s) => (
              <tr key={s.symbol}>
                <td>{s.symbol}</td>
                <td class="num">{integer(s.ticks)}</td>
                <td class="num">{integer(s.rejected)}</td>
                <td class="num">{integer(s.bars)}</td>
                <td class="num">{integer(s.emptySlots)}</td>
                <td>
                  {zonedClock(zone, s.lastTickAt)} {s.lastTickAgeSeconds !== null && <span class="muted">({decimal(s.lastTickAgeSeconds, 1)} s)</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <details>
        <summary class="muted">Lifecycle transitions ({ingest.transitions.length})</summary>
        <ul class="plain small">
          {[...ingest.transitions].reverse().map((t) => (
            <li key={`${t.at}-${t.to}`}>
              {zonedDateTime(zone, t.at)} · {t.from} → <b>{t.to}</b> · {t.reason}
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
