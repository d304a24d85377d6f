/**
 * The WebSocket side of the terminal: the quote, the freshness of the feed, and chart updates.
 * Every accepted tick makes the gateway send the forming 5-minute bar (final = false); a closed or
 * revised bar comes as final. On the 5-minute chart each bar replaces its candle; on longer
 * intervals the 5-minute bars received so far are folded into their bucket's candle; on the
 * 1-minute chart each tick inside session hours moves its minute's candle (its provenance that of
 * the latest bar message), and a final bar reloads the stored candles as on the others. Orders,
 * fills and positions come on the same socket (the symbol's stream): the trading panel reloads.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Candle, ChartHandle } from '../components/candle-chart.tsx';
import { anchorServerTime, browserNow } from '../clock.ts';
import type { BarData, QuoteData, ServerMessage } from '../../contracts/ws-protocol.ts';
import { LiveSocket, type SocketState } from '../live-socket.ts';
import { inSessionHours, sessionDateOf, type SessionRules } from '../market-time.ts';
import type { Market } from '../selected-symbol.ts';
import { bucketStart, foldBucket, foldTick, type Interval } from './candles.ts';

export interface LiveQuote extends QuoteData {
  price: number;
  /** Exchange time of the tick, epoch ms. */
  at: number;
}

export interface LiveCallbacks {
  /** A bar closed or was revised: stored figures (stats, indicators) changed. */
  onFinalBar: (revision: boolean) => void;
  onMarketStatus: () => void;
  onPrediction: () => void;
  /** An order, fill or position changed. */
  onTrading: () => void;
  /** Missed events beyond the replay window. */
  onRefetch: () => void;
  /** The market is open now (the calendar's answer, holidays included); null while unknown. */
  marketOpen?: boolean | null;
}

export interface LiveState {
  quote: LiveQuote | null;
  socket: SocketState;
  /** Browser time of the last data message (tick or bar). */
  lastDataAt: number | null;
  barMessages: number;
  attach: (h: ChartHandle) => void;
}

function candleOf(d: BarData, rules: SessionRules): Candle | null {
  if (d.empty || d.open === null || d.high === null || d.low === null || d.close === null) return null;
  const time = Date.parse(d.time);
  return Number.isNaN(time) ? null : { time, open: d.open, high: d.high, low: d.low, close: d.close, session: sessionDateOf(rules, time), simulated: d.simulated === true, source: d.simulated === true ? 'simulated' : d.partial ? 'partial' : 'vendor' };
}

/** The socket of the market's symbol; the view is rebuilt for another symbol, so `market` is fixed for its life. */
export function useLive(market: Market, history: Candle[], interval: Interval, callbacks: LiveCallbacks): LiveState {
  const rules = market.session;
  const [quote, setQuote] = useState<LiveQuote | null>(null);
  const [socket, setSocket] = useState<SocketState>('connecting');
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  const [barMessages, setBarMessages] = useState(0);
  const chart = useRef<ChartHandle | null>(null);
  /** 5-minute bars received live, by open time (folded into longer candles). */
  const liveBars = useRef(new Map<number, Candle>());
  /** The 1-minute candle the latest ticks formed, and the provenance of the latest bar message (ticks carry none). */
  const liveMinute = useRef<Candle | undefined>(undefined);
  const barSimulated = useRef<boolean | null>(null);
  const current = useRef({ history, interval, callbacks });
  current.current = { history, interval, callbacks };

  useEffect(() => {
    liveBars.current.clear();
    liveMinute.current = undefined;
  }, [interval]);

  useEffect(() => {
    const onBar = (d: BarData) => {
      setBarMessages((n) => n + 1);
      const candle = candleOf(d, rules);
      // An empty slot closing is news, but not fresh prices: it does not make the data fresh.
      if (candle !== null) setLastDataAt(browserNow());
      const { interval: iv, history: stored, callbacks: cb } = current.current;
      if (candle !== null) barSimulated.current = candle.simulated;
      if (candle !== null && iv !== '1min') {
        if (iv === '5min') chart.current?.update(candle);
        else {
          liveBars.current.set(candle.time, candle);
          const start = bucketStart(candle.time, iv, rules);
          const inBucket = [...liveBars.current.values()].filter((k) => bucketStart(k.time, iv, rules) === start);
          // The bucket's latest stored candle: a bucket split where the provenance changed holds two.
          const folded = foldBucket(start, stored.filter((k) => bucketStart(k.time, iv, rules) === start).at(-1), inBucket);
          if (folded) chart.current?.update(folded);
        }
      }
      if (d.final) cb.onFinalBar((d.revision ?? 1) > 1);
    };
    const onMinuteTick = (price: number, at: number) => {
      const { history: stored, callbacks: cb } = current.current;
      if (Number.isNaN(at) || !inSessionHours(rules, at) || cb.marketOpen === false) return;
      const minute = bucketStart(at, '1min', rules);
      const last = stored.at(-1);
      const held = liveMinute.current !== undefined && bucketStart(liveMinute.current.time, '1min', rules) === minute ? liveMinute.current : stored.findLast((k) => bucketStart(k.time, '1min', rules) === minute);
      const folded = foldTick(held, price, at, barSimulated.current ?? last?.simulated ?? false, rules);
      // The chart only moves forward: a late tick of a minute already passed is left to the next reload.
      if (folded.time < Math.max(last?.time ?? -Infinity, liveMinute.current?.time ?? -Infinity)) return;
      liveMinute.current = folded;
      chart.current?.update(folded);
    };
    const onMessage = (m: ServerMessage) => {
      const cb = current.current.callbacks;
      if (m.type === 'market_data') {
        if (m.data.price === null) return;
        const at = Date.parse(m.timestamp);
        setQuote({ ...m.data, price: m.data.price, at });
        setLastDataAt(browserNow());
        if (current.current.interval === '1min') onMinuteTick(m.data.price, at);
      } else if (m.type === 'bar') onBar(m.data);
      else if (m.type === 'heartbeat') anchorServerTime(m.timestamp);
      else if (m.type === 'market_status') {
        anchorServerTime(m.timestamp);
        cb.onMarketStatus();
      } else if (m.type === 'prediction') cb.onPrediction();
      else if (m.type === 'order' || m.type === 'fill' || m.type === 'position') cb.onTrading();
    };
    const live = new LiveSocket({
      symbols: [market.symbol],
      channels: ['ticks', 'bars', 'status', 'predictions', 'orders', 'fills', 'positions'],
      onMessage,
      onState: setSocket,
      onRefetch: () => current.current.callbacks.onRefetch(),
    });
    return () => live.close();
  }, []);

  return { quote, socket, lastDataAt, barMessages, attach: (h) => (chart.current = h) };
}
