/**
 * The WebSocket side of the terminal: the quote, the freshness of the feed, and chart updates.
 * Every accepted tick makes the gateway send the forming 5-minute bar (final = false); a closed or
 * revised bar comes as final. On the 5-minute chart each bar replaces its candle; on longer
 * intervals the 5-minute bars received so far are folded into their bucket's candle. Orders,
 * fills and positions come on the same socket (the symbol's stream): the trading panel reloads.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { SYMBOL } from '../api.ts';
import type { Candle, ChartHandle } from '../components/candle-chart.tsx';
import { anchorServerTime, browserNow } from '../clock.ts';
import { bogotaDateOf } from '../format.ts';
import type { BarData, QuoteData, ServerMessage } from '../../contracts/ws-protocol.ts';
import { LiveSocket, type SocketState } from '../live-socket.ts';
import { bucketStart, foldBucket, type Interval } from './candles.ts';

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
}

export interface LiveState {
  quote: LiveQuote | null;
  socket: SocketState;
  /** Browser time of the last data message (tick or bar). */
  lastDataAt: number | null;
  barMessages: number;
  attach: (h: ChartHandle) => void;
}

function candleOf(d: BarData): Candle | null {
  if (d.empty || d.open === null || d.high === null || d.low === null || d.close === null) return null;
  const time = Date.parse(d.time);
  return Number.isNaN(time) ? null : { time, open: d.open, high: d.high, low: d.low, close: d.close, session: bogotaDateOf(time), simulated: d.simulated === true, source: d.simulated === true ? 'simulated' : d.partial ? 'partial' : 'vendor' };
}

export function useLive(history: Candle[], interval: Interval, callbacks: LiveCallbacks): LiveState {
  const [quote, setQuote] = useState<LiveQuote | null>(null);
  const [socket, setSocket] = useState<SocketState>('connecting');
  const [lastDataAt, setLastDataAt] = useState<number | null>(null);
  const [barMessages, setBarMessages] = useState(0);
  const chart = useRef<ChartHandle | null>(null);
  /** 5-minute bars received live, by open time (folded into longer candles). */
  const liveBars = useRef(new Map<number, Candle>());
  const current = useRef({ history, interval, callbacks });
  current.current = { history, interval, callbacks };

  useEffect(() => liveBars.current.clear(), [interval]);

  useEffect(() => {
    const onBar = (d: BarData) => {
      setBarMessages((n) => n + 1);
      const candle = candleOf(d);
      // An empty slot closing is news, but not fresh prices: it does not make the data fresh.
      if (candle !== null) setLastDataAt(browserNow());
      const { interval: iv, history: stored, callbacks: cb } = current.current;
      if (candle !== null) {
        if (iv === '5min') chart.current?.update(candle);
        else {
          liveBars.current.set(candle.time, candle);
          const start = bucketStart(candle.time, iv);
          const inBucket = [...liveBars.current.values()].filter((k) => bucketStart(k.time, iv) === start);
          // The bucket's latest stored candle: a bucket split where the provenance changed holds two.
          const folded = foldBucket(start, stored.filter((k) => bucketStart(k.time, iv) === start).at(-1), inBucket);
          if (folded) chart.current?.update(folded);
        }
      }
      if (d.final) cb.onFinalBar((d.revision ?? 1) > 1);
    };
    const onMessage = (m: ServerMessage) => {
      const cb = current.current.callbacks;
      if (m.type === 'market_data') {
        if (m.data.price === null) return;
        setQuote({ ...m.data, price: m.data.price, at: Date.parse(m.timestamp) });
        setLastDataAt(browserNow());
      } else if (m.type === 'bar') onBar(m.data);
      else if (m.type === 'heartbeat') anchorServerTime(m.timestamp);
      else if (m.type === 'market_status') {
        anchorServerTime(m.timestamp);
        cb.onMarketStatus();
      } else if (m.type === 'prediction') cb.onPrediction();
      else if (m.type === 'order' || m.type === 'fill' || m.type === 'position') cb.onTrading();
    };
    const live = new LiveSocket({
      symbols: [SYMBOL],
      channels: ['ticks', 'bars', 'status', 'predictions', 'orders', 'fills', 'positions'],
      onMessage,
      onState: setSocket,
      onRefetch: () => current.current.callbacks.onRefetch(),
    });
    return () => live.close();
  }, []);

  return { quote, socket, lastDataAt, barMessages, attach: (h) => (chart.current = h) };
}
