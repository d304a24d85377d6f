/** Open/closed with a live countdown to the next open or close, and the holiday name when closed. */
import { useEffect, useState } from 'preact/hooks';
import type { MarketStatusBody } from '../../contracts/api/market.ts';
import { anchorServerTime, serverNow } from '../clock.ts';
import { duration, zonedDateTime } from '../format.ts';
import { useZone } from '../selected-symbol.ts';


function closedReason(s: MarketStatusBody): string {
  if (s.today.holiday !== null) return ` · ${s.today.holiday}`;
  if (s.today.weekend) return ' · weekend';
  return '';
}

export function MarketStatusBadge({ status }: { status: MarketStatusBody }) {
  const zone = useZone();
  const [now, setNow] = useState(serverNow());
  useEffect(() => anchorServerTime(status.time, false), [status.time]);
  useEffect(() => {
    const id = window.setInterval(() => setNow(serverNow()), 1000);
    return () => window.clearInterval(id);
  }, []);
  const target = Date.parse(status.open ? status.nextClose : status.nextOpen);
  const left = Math.max(0, target - now);
  return (
    <span class={`badge ${status.open ? 'ok' : 'warn'}`} data-testid="market-status" title={`${status.open ? 'Closes' : 'Opens'} at ${zonedDateTime(zone, target)}`}>
      {status.open ? 'market open' : `market closed${closedReason(status)}`}
      {` · ${status.open ? 'closes' : 'opens'} in ${duration(left)}`}
      {status.today.nextDaySettlement && status.today.usHoliday !== null && ` · US holiday (${status.today.usHoliday}): next-day settlement`}
    </span>
  );
}
