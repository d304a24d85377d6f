/** Open/closed with a live countdown to the next open or close, and the holiday name when closed. */
import { useEffect, useState } from 'preact/hooks';
import { anchorServerTime, serverNow } from '../clock.ts';
import { duration } from '../format.ts';

export interface MarketStatus {
  /** The server clock's time (simulated sessions run on their own clock). */
  now: string;
  open: boolean;
  nextOpen: string | null;
  nextClose: string | null;
  holiday: string | null;
}

export function MarketStatusBadge({ status }: { status: MarketStatus }) {
  anchorServerTime(status.now);
  const [now, setNow] = useState(serverNow());
  useEffect(() => {
    const id = window.setInterval(() => setNow(serverNow()), 1000);
    return () => window.clearInterval(id);
  }, []);
  const target = status.open ? status.nextClose : status.nextOpen;
  const left = target === null ? null : duration(Date.parse(target) - now);
  return (
    <span class={`badge ${status.open ? 'ok' : 'warn'}`} data-testid="market-status">
      {status.open ? 'market open' : `market closed${status.holiday ? ` (${status.holiday})` : ''}`}
      {left !== null && ` · ${status.open ? 'closes' : 'opens'} in ${left}`}
    </span>
  );
}
