/**
 * The one clock on screen, in the top bar of every view: the server's clock in the selected market's zone, and
 * whether it is simulated (the built-in simulator's feed or a scaled clock) or the real time.
 * Every time a view shows is on this clock. Routes: GET /market/status (its time), /status (upstream).
 */
import { useEffect, useState } from 'preact/hooks';
import type { MarketStatusBody } from '../../contracts/api/market.ts';
import type { StatusBody } from '../../contracts/api/status.ts';
import { anchorServerTime, serverNow, serverRate } from '../clock.ts';
import { decimal, zonedDateTime } from '../format.ts';
import { useZone } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';

export function ClockBadge() {
  const zone = useZone();
  const market = useApi<MarketStatusBody>('/market/status', 30_000);
  const status = useApi<StatusBody>('/status', 60_000);
  const [now, setNow] = useState(serverNow());
  useEffect(() => anchorServerTime(market.data?.time, false), [market.data?.time]);
  useEffect(() => {
    const id = window.setInterval(() => setNow(serverNow()), 1000);
    return () => window.clearInterval(id);
  }, []);
  const rate = serverRate();
  const simulated = status.data?.system?.upstream.startsWith('simulator') === true || rate !== 1;
  return (
    <span class={`badge ${simulated ? 'warn' : 'muted'}`} data-testid="clock" data-simulated={String(simulated)} title={`Every time on this page is on this clock, in ${zone}`}>
      {simulated ? 'simulated clock' : 'real clock'} · {zonedDateTime(zone, now)}
      {rate !== 1 && ` · ×${decimal(rate, rate >= 10 ? 0 : 1)}`}
    </span>
  );
}
