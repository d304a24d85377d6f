/**
 * Terminal: the live USD/COP chart and ticker. History comes from REST; the WebSocket then moves
 * the forming candle tick by tick, replaces a bar when a final or revised one arrives, and the
 * page says when data is stale or the socket is reconnecting.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { SYMBOL, SYMBOL_PATH } from '../api.ts';
import { CandleChart, type Candle, type ChartHandle, type IndicatorSeries } from '../components/candle-chart.tsx';
import { MarketStatusBadge, type MarketStatus } from '../components/market-status.tsx';
import { browserNow } from '../clock.ts';
import { bogotaDateTime, cop, percent, signed } from '../format.ts';
import { LiveSocket, type ServerMessage, type SocketState } from '../live-socket.ts';
import { useApi } from '../use-api.ts';
import { candlesFrom, bucketStart, type CandlesResponse, type Interval, INTERVALS, indicatorsFrom } from './candles.ts';

interface Stats {
  last: number | null;
  change: number | null;
  changePct: number | null;
  previousClose: number | null;
  sessionHigh: number | null;
  sessionLow: number | null;
}

interface Quote {
  price: number;
  bid: number | null;
  ask: number | null;
  spread: number | null;
  at: number;
}

interface Status {
  upstream?: string | null;
}

interface Prediction {
  position?: number;
  probabilities?: number[];
  modelId?: string;
  barTime?: string;
}

const STALE_AFTER_MS = 30_000;
const OVERLAY_INDICATORS = 'ema20,ema50,bbUpper,bbMiddle,bbLower,rsi14,macd,macdSignal,macdHistogram';

export function TerminalView() {
  const [interval, setInterval] = useState<Interval>('5min');
  const [overlays, setOverlays] = useState(true);
  const [oscillators, setOscillators] = useState(true);
  const [reloadKey, setReloadKey] = useState(0);
  const withIndicators = interval === '5min' && (overlays || oscillators);
  const history = useApi<CandlesResponse>(`/api/candlesticks/${SYMBOL_PATH}?interval=${interval}&limit=300${withIndicators ? `&indicators=${OVERLAY_INDICATORS}` : ''}&r=${reloadKey}`);
  const stats = useApi<Stats>(`/api/stats/${SYMBOL_PATH}`, 60_000);
  const market = useApi<MarketStatus>('/market/status', 60_000);
  const status = useApi<Status>('/status', 60_000);
  const prediction = useApi<Prediction>(`/api/predictions/latest?symbol=${SYMBOL_PATH}`, 60_000);
  const candles = useMemo(() => (history.data ? candlesFrom(history.data) : []), [history.data]);
  const indicators: IndicatorSeries | null = useMemo(() => (history.data ? indicatorsFrom(history.data) : null), [history.data]);
  const live = useLive(candles, interval, () => setReloadKey((k) => k + 1));
  const simulated = status.data?.upstream?.startsWith('simulator') === true;

  return (
    <>
      <section class="panel" aria-label="Price">
        <div class="ticker">
          <strong>{SYMBOL}</strong>
          <span class="last" data-testid="last-price">{cop(live.quote?.price ?? stats.data?.last ?? null)}</span>
          <span>bid <b class="num">{cop(live.quote?.bid)}</b></span>
          <span>ask <b class="num">{cop(live.quote?.ask)}</b></span>
          <span>spread <b class="num">{cop(live.quote?.spread)}</b></span>
          <Change stats={stats.data} last={live.quote?.price ?? null} />
          <span class="spacer" />
          {simulated && <span class="badge warn" title="No TwelveData key: the built-in simulator is the feed">simulated feed</span>}
          <LiveBadge state={live.socket} lastAt={live.lastAt} open={market.data?.open === true} />
          {market.data && <MarketStatusBadge status={market.data} />}
        </div>
        <p class="muted">Last tick {bogotaDateTime(live.quote?.at ?? null)} · prices in COP per USD</p>
      </section>
      <section class="panel" aria-label="Chart">
        <div class="toolbar" role="toolbar" aria-label="Chart options">
          {INTERVALS.map((iv) => (
            <button key={iv.value} aria-pressed={interval === iv.value} onClick={() => setInterval(iv.value)}>
              {iv.label}
            </button>
          ))}
          <span class="spacer" />
          <button aria-pressed={overlays} onClick={() => setOverlays(!overlays)} disabled={interval !== '5min'}>EMA · Bollinger</button>
          <button aria-pressed={oscillators} onClick={() => setOscillators(!oscillators)} disabled={interval !== '5min'}>RSI · MACD</button>
        </div>
        {history.error && <p class="empty">Could not load candles: {history.error}</p>}
        {!history.error && !history.loading && candles.length === 0 && <p class="empty">No bars stored yet: live bars appear here as the session runs.</p>}
        <CandleChart candles={candles} indicators={indicators} showOverlays={overlays} showOscillators={oscillators} onReady={live.attach} />
        {interval !== '5min' && <p class="muted">Indicators are drawn on the 5-minute chart.</p>}
      </section>
      <section class="panel" aria-label="Policy">
        <h2>Latest policy prediction</h2>
        <PredictionLine prediction={prediction.data} error={prediction.error} />
      </section>
    </>
  );
}

function Change({ stats, last }: { stats: Stats | null; last: number | null }) {
  const previous = stats?.previousClose ?? null;
  const price = last ?? stats?.last ?? null;
  const change = price !== null && previous !== null ? price - previous : null;
  const cls = change === null ? 'muted' : change >= 0 ? 'up' : 'down';
  return (
    <span class={cls} title="Change vs the previous session's close">
      {signed(change)} ({change !== null && previous !== null ? percent(change / previous) : '—'})
    </span>
  );
}

function LiveBadge({ state, lastAt, open }: { state: SocketState; lastAt: number | null; open: boolean }) {
  const [now, setNow] = useState(browserNow());
  useEffect(() => {
    const id = window.setInterval(() => setNow(browserNow()), 1000);
    return () => window.clearInterval(id);
  }, []);
  if (state !== 'open') return <span class="badge bad" data-testid="live-state">{state === 'connecting' ? 'connecting…' : 'reconnecting…'}</span>;
  const stale = open && (lastAt === null || now - lastAt > STALE_AFTER_MS);
  return <span class={`badge ${stale ? 'warn' : 'ok'}`} data-testid="live-state">{stale ? 'live · stale data' : 'live'}</span>;
}

function PredictionLine({ prediction, error }: { prediction: Prediction | null; error: string | null }) {
  if (error !== null || prediction === null || prediction.position === undefined) return <p class="empty">No prediction yet: promote a trained policy to production (Research view) and it predicts on every final bar in session.</p>;
  const label = prediction.position > 0 ? 'long' : prediction.position < 0 ? 'short' : 'flat';
  return (
    <p>
      <b>{label}</b> · model {prediction.modelId} · bar {bogotaDateTime(prediction.barTime ?? null)} · p(short/flat/long) {(prediction.probabilities ?? []).map((p) => p.toFixed(2)).join(' / ')}
    </p>
  );
}

/** The WebSocket side of the terminal: quote, freshness and chart updates. */
function useLive(candles: Candle[], interval: Interval, refetch: () => void) {
  const [quote, setQuote] = useState<(Quote & { symbol: string }) | null>(null);
  const [socket, setSocket] = useState<SocketState>('connecting');
  const [lastAt, setLastAt] = useState<number | null>(null);
  const chart = useRef<ChartHandle | null>(null);
  const forming = useRef<Candle | null>(null);
  const state = useRef({ candles, interval, refetch });
  state.current = { candles, interval, refetch };
  useEffect(() => {
    forming.current = candles[candles.length - 1] ?? null;
  }, [candles]);
  useEffect(() => {
    const onMessage = (m: ServerMessage) => {
      if (m.type === 'market_data') {
        const at = Date.parse(m.timestamp);
        setQuote({ symbol: m.symbol, ...m.data, at });
        setLastAt(browserNow());
        forming.current = moveForming(forming.current, m.data.price, at, state.current.interval);
        if (forming.current) chart.current?.update(forming.current);
      } else if (m.type === 'bar') {
        setLastAt(browserNow());
        const time = Date.parse(m.data.time);
        if (state.current.interval === '5min') {
          const candle = { time, open: m.data.open, high: m.data.high, low: m.data.low, close: m.data.close, session: sessionOf(time) };
          if (forming.current === null || time >= forming.current.time) forming.current = candle;
          chart.current?.update(candle);
        } else if (m.data.revision > 1) {
          state.current.refetch();
        }
      }
    };
    const live = new LiveSocket({ symbols: [SYMBOL], channels: ['ticks', 'bars', 'status'], onMessage, onState: setSocket, onRefetch: () => state.current.refetch() });
    return () => live.close();
  }, []);
  return { quote, socket, lastAt, attach: (h: ChartHandle) => (chart.current = h) };
}

function sessionOf(ms: number): string {
  return new Date(ms - 5 * 3_600_000).toISOString().slice(0, 10);
}

/** The forming candle after a tick: same bucket -> extend it, a new bucket -> open one. */
function moveForming(current: Candle | null, price: number, at: number, interval: Interval): Candle {
  const start = bucketStart(at, interval);
  if (current !== null && current.time === start) {
    return { ...current, high: Math.max(current.high, price), low: Math.min(current.low, price), close: price };
  }
  return { time: start, open: price, high: price, low: price, close: price, session: sessionOf(at) };
}
