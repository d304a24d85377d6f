/** Recent alerts (GET /api/alerts), newest first, with a resolve button for open ones (admin). */
import type { AlertList } from '../../contracts/api/alerts.ts';
import { integer, zonedDateTime } from '../format.ts';
import { useZone } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';
import { AdminButton } from './admin-button.tsx';
import { SeverityBadge } from './badge.tsx';
import { Empty, Loaded } from './empty-state.tsx';

export function AlertsPanel({ limit = 20 }: { limit?: number }) {
  const zone = useZone();
  const alerts = useApi<AlertList>(`/api/alerts?limit=${limit}`, 30_000);
  return (
    <Loaded resource={alerts} missing="This server does not serve alerts (GET /api/alerts answered 404).">
      {({ alerts: list }) =>
        list.length === 0 ? (
          <Empty>No alerts raised.</Empty>
        ) : (
          <div class="table-wrap" data-testid="alerts-panel">
            <table>
              <thead>
                <tr>
                  <th>raised</th>
                  <th>severity</th>
                  <th>kind</th>
                  <th>message</th>
                  <th class="num">times</th>
                  <th>state</th>
                </tr>
              </thead>
              <tbody>
                {list.map((a) => (
                  <tr key={a.id}>
                    <td>{zonedDateTime(zone, a.at)}</td>
                    <td>
                      <SeverityBadge severity={a.severity} />
                    </td>
                    <td>{a.kind}</td>
                    <td class="wrap">{a.message}</td>
                    <td class="num">{integer(a.occurrences)}</td>
                    <td>
                      {a.resolvedAt !== null ? (
                        <span class="muted">resolved {zonedDateTime(zone, a.resolvedAt)}</span>
                      ) : (
                        <AdminButton label="Resolve" path={`/api/alerts/${a.id}/resolve`} describe={() => 'resolved'} onDone={alerts.reload} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      }
    </Loaded>
  );
}
