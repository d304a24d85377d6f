/** The TwelveData key pool's credits (from /status): left this minute and this UTC day, per key. */
import type { KeyBody } from '../../contracts/api/status.ts';
import { integer, zonedDateTime } from '../format.ts';
import { useZone } from '../selected-symbol.ts';
import { Badge } from './badge.tsx';
import { Empty } from './empty-state.tsx';

export function KeysPanel({ keys }: { keys: KeyBody[] }) {
  const zone = useZone();
  if (keys.length === 0) return <Empty>No API key has been used yet: credits appear after the first REST request.</Empty>;
  return (
    <div class="table-wrap" data-testid="keys-panel">
      <table>
        <thead>
          <tr>
            <th>key</th>
            <th>status</th>
            <th class="num">minute left</th>
            <th class="num">day left</th>
            <th class="num">credits used</th>
            <th>last used</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td>
                <code>{k.id}</code>
              </td>
              <td>
                <Badge tone={k.status === 'ok' ? 'ok' : 'warn'} title={k.badReason ?? undefined}>
                  {k.status}
                </Badge>
              </td>
              <td class="num">
                {integer(k.minuteLeft)} / {integer(k.minuteLimit)}
              </td>
              <td class="num">
                {integer(k.dayLeft)} / {integer(k.dayLimit)}
              </td>
              <td class="num">{integer(k.creditsTotal)}</td>
              <td>{zonedDateTime(zone, k.lastTakenAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
