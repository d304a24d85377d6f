/**
 * Terminal: the live chart and ticker of the selected instrument (selected-symbol.ts), times in
 * its market's zone. History comes from REST, paged as the chart scrolls
 * back and on a jump to a date (chart-history.ts), with indicators at every interval;
 * the WebSocket then moves the forming candle tick by tick and replaces a bar when a final or
 * revised one arrives; each final bar reloads the stored figures. The page says when the feed
 * is the simulator, when data is stale, and when the socket is reconnecting. Paper trading sits
 * under the chart (trading-panel.tsx); its fills and the policy's signals are chart markers.
 *
 * Routes: GET /api/candlesticks/{symbol} (+ /indicators), /api/calendar, /api/stats/{symbol}, /market/latest, /market/status,
 * /status, /api/predictions/latest, /api/trading/*; WS /ws (ticks, bars, status, predictions,
 * orders, fills, positions).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { CandleChart, type ChartHandle } from '../components/candle-chart.tsx';
import { MarketStatusBadge } from '../components/market-status.tsx';
import { browserNow, serverNow, serverRate } from '../clock.ts';
import { decimal, duration, integer, percent, price, signed, zonedDateTime } from '../format.ts';
import type { SocketState } from '../live-socket.ts';
import { useMarket, type Market } from '../selected-symbol.ts';
import { useApi } from '../use-api.ts';
import { indicatorSeries, isDailyOrLonger, minuteCoverageText, type Interval, INTERVALS } from './candles.ts';
import { useChartHistory } from './chart-history.ts';
import type { StatsResponse } from '../../contracts/api/candles.ts';
import type { LatestBody, MarketStatusBody } from '../../contracts/api/market.ts';
import type { PredictionList, PredictionView } from '../../contracts/api/research.ts';
import type { StatusBody } from '../../contracts/api/status.ts';
import { useLive, type LiveQuote } from './terminal-live.ts';
import { fillMarkers, signalMarkers } from './trade-markers.ts';
import { useTrading } from './trading-data.ts';
import { TradingPanel } from './trading-panel.tsx';

/** Data is stale when no price has come for this long on the market's (server's) clock... */
const STALE_AFTER_MARKET_MS = 30_000;
/** ...and for at least this long in real time (a fast simulated clock would otherwise flicker). */
const STALE_FLOOR_REAL_MS = 5_000;
/** Empty slots are drawn between candles of one session: 4h has two (08:00, 12:00), so the step never leaves one. */
const STEP_MS: Record<Interval, number | null> = { '1min': 60_000, '5min': 300_000, '15min': 900_000, '1h': 3_600_000, '4h': 14_400_000, '1day': null, '1w': null };
/** Weekly candles are days apart by nature: no trading-day holes are marked between them. */
const NO_TRADING_DAYS: readonly string[] = [];
/** Final bars come every 5 minutes (every few seconds on a fast simulated clock): reload at most this often. */
const RELOAD_GAP_MS = 2000;
/** Predictions loaded: the newest is shown, and each change of position among them is a chart marker. */
const SIGNALS = 100;

export function TerminalView() {
  const [interval, setChartInterval] = useState<Interval>('5min');
  const [overlays, setOverlays] = useState(true);
  const [oscillators, setOscillators] = useState(true);
  const selected = useMarket();
  const history = useChartHistory(selected, interval);
  const stats = useApi<StatsResponse>(`/api/stats/${selected.path}`, 30_000);
  const market = useApi<MarketStatusBody>(`/market/status?symbol=${selected.path}`, 10_000);
  const status = useApi<StatusBody>('/status', 30_000);
  const latest = useApi<LatestBody>(mayHaveLatest(status.data, selected.symbol) ? `/market/latest?symbol=${selected.path}` : null);
  const prediction = useApi<PredictionList>(`/api/predictions/latest?symbol=${selected.path}&limit=${SIGNALS}`, 60_000);
  const candles = history.candles;
  const indicators = useMemo(() => indicatorSeries(candles, history.indicators), [candles, history.indicators]);
  const lastReload = useRef(0);
  const reloadStored = () => {
    if (browserNow() - lastReload.current < RELOAD_GAP_MS) return;
    lastReload.current = browserNow();
    history.refreshLatest();
    stats.reload();
  };
  const firstCandle = candles[0];
  const trading = useTrading(selected.path, firstCandle === undefined ? null : new Date(firstCandle.time).toISOString());
  const live = useLive(selected, candles, interval, {
    onFinalBar: reloadStored,
    onMarketStatus: market.reload,
    onPrediction: prediction.reload,
    onRefetch: history.refreshLatest,
    onTrading: trading.reload,
    marketOpen: market.data?.open ?? null,
  });
  // Live bars extend the chart only while it shows the latest candles (not after a jump into the past).
  const atLatest = useRef(history.atLatest);
  atLatest.current = history.atLatest;
  const attach = (h: ChartHandle) => live.attach({ update: (candle) => atLatest.current && h.update(candle) });
  const quote = live.quote ?? latestQuote(latest.data);
  useEffect(() => trading.onPrice(), [live.quote]);
  const marks = useMemo(
    () => [...fillMarkers(trading.fills.data?.fills ?? [], interval, selected.session), ...signalMarkers(prediction.data?.items ?? [], interval, selected.session)],
    [trading.fills.data, prediction.data, interval],
  );
  const upstream = status.data?.system?.upstream ?? null;

  return (
    <>
      <section class="panel" aria-label="Price">
        <Ticker market={selected} quote={quote} stats={stats.data} />
        <div class="toolbar status-line">
          {upstream?.startsWith('simulator') === true && <SimulatedBadge />}
          <LiveBadge state={live.socket} lastAt={live.lastDataAt} open={market.data?.open === true} />
          {market.data && <MarketStatusBadge status={market.data} />}
          {market.error && <span class="badge bad">market status unavailable: {market.error}</span>}
        </div>
        <p class="muted small">
          Last tick {zonedDateTime(selected.zone, quote?.at ?? null)} · prices in {selected.quote} per {selected.base} · {selected.name} · session {stats.data?.session.date ?? '—'}
          {stats.data && stats.data.session.bars === 0 && ' · no bars yet'}
          {stats.data && stats.data.session.bars > 0 && ` · range ${price(stats.data.session.low, selected.decimals)} – ${price(stats.data.session.high, selected.decimals)} · realized vol (annualized) ${percent(stats.data.realizedVolatility.value)}`}
          {stats.data?.provenance && stats.data.provenance.excludedBars > 0 && (
            <span data-testid="stats-provenance">
              {` · figures over ${stats.data.provenance.simulated === true ? 'simulated' : 'real'} bars only (${integer(stats.data.provenance.excludedBars)} ${stats.data.provenance.simulated === true ? 'real' : 'simulated'} bars left out)`}
            </span>
          )}
        </p>
      </section>
      <section class="panel" aria-label="Chart" data-bar-messages={live.barMessages}>
        <div class="toolbar" role="toolbar" aria-label="Chart options">
          <span class="muted">Interval</span>
          {INTERVALS.map((iv) => (
            <button key={iv.value} aria-pressed={interval === iv.value} onClick={() => setChartInterval(iv.value)}>
              {iv.label}
            </button>
          ))}
          <GoToDate onGo={history.goTo} />
          <span class="spacer" />
          <button aria-pressed={overlays} onClick={() => setOverlays(!overlays)}>
            EMA · Bollinger
          </button>
          <button aria-pressed={oscillators} onClick={() => setOscillators(!oscillators)}>
            RSI · MACD
          </button>
        </div>
        {history.error && <p class="empty">Could not load candles: {history.error}</p>}
        {!history.error && !history.loading && candles.length === 0 && (
          <p class="empty">{interval === '1min' ? 'No ticks stored here: 1-minute candles are built from stored ticks only.' : 'No bars stored yet: live bars appear here as the session runs.'}</p>
        )}
        <p class="muted small" data-testid="chart-window">
          {interval === '1min' && <span data-testid="minute-coverage">{minuteCoverageText(history.ticksFrom, selected.zone)} · </span>}
          {history.atStart ? (interval === '1min' ? 'from the first stored tick' : 'From the first stored bar') : 'Scroll or zoom out for older bars'}
          {history.loading ? ' · loading…' : ''}
          {!history.atLatest && (
            <>
              {' · '}
              <button class="link" onClick={history.showLatest}>
                back to the latest
              </button>
            </>
          )}
        </p>
        <CandleChart
          candles={candles}
          indicators={overlays || oscillators ? indicators : null}
          showOverlays={overlays}
          showOscillators={oscillators && !isDailyOrLonger(interval)}
          daily={isDailyOrLonger(interval)}
          stepMs={STEP_MS[interval]}
          dataKey={history.windowKey}
          focus={history.focus}
          tradingDays={interval === '1w' ? NO_TRADING_DAYS : history.tradingDays}
          indicatorValues={history.indicators}
          onEdge={(edge) => (edge === 'older' ? history.loadOlder() : history.loadNewer())}
          onReady={attach}
          marks={marks}
        />
      </section>
      <section class="panel" aria-label="Policy">
        <h2>Latest policy prediction</h2>
        <PredictionLine prediction={prediction.data?.items[0] ?? null} error={prediction.error} zone={selected.zone} />
      </section>
      <TradingPanel trading={trading} />
    </>
  );
}

/** A date field and a button: the chart jumps to that session (a date in the market's zone). */
function GoToDate({ onGo }: { onGo: (date: string) => void }) {
  const [date, setDate] = useState('');
  return (
    <form
      class="goto"
      onSubmit={(e) => {
        e.preventDefault();
        if (/^\d{4}-\d{2}-\d{2}$/.test(date)) onGo(date);
      }}
    >
      <label class="muted" for="goto-date">
        Go to
      </label>
      <input id="goto-date" type="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} data-testid="goto-date" />
      <button type="submit" disabled={date === ''}>
        Go
      </button>
    </form>
  );
}

/**
 * GET /market/latest answers 404 until a tick is cached (a fresh store, a restart while the market
 * is closed): ask once the ingest status shows a tick, or when no ingest process reports here.
 */
function mayHaveLatest(s: StatusBody | null, symbol: string): boolean {
  if (s === null) return false;
  return s.ingest === null || s.ingest.symbols.some((c) => c.symbol === symbol && c.lastTickAt !== null);
}

function latestQuote(l: LatestBody | null): LiveQuote | null {
  return l === null ? null : { price: l.price, bid: l.bid, ask: l.ask, spread: l.spread, at: Date.parse(l.timestamp) };
}

function Ticker({ market, quote, stats }: { market: Market; quote: LiveQuote | null; stats: StatsResponse | null }) {
  const money = (v: number | null | undefined) => price(v, market.decimals);
  const last = quote?.price ?? stats?.last ?? null;
  const previous = stats?.previousClose ?? null;
  const change = last !== null && previous !== null ? last - previous : null;
  const cls = change === null ? 'muted' : change >= 0 ? 'up' : 'down';
  return (
    <div class="ticker">
      <strong data-testid="terminal-symbol">{market.symbol}</strong>
      <span class="last" data-testid="last-price">
        {money(last)}
      </span>
      <span class={cls} title={`Change vs the close of the previous session (${stats?.previousSession ?? '—'}: ${money(previous)})`} data-testid="change">
        {signed(change, market.decimals)} ({change !== null && previous !== null ? percent(change / previous) : '—'})
      </span>
      <span>
        bid <b class="num">{money(quote?.bid)}</b>
      </span>
      <span>
        ask <b class="num">{money(quote?.ask)}</b>
      </span>
      <span>
        spread <b class="num">{money(quote?.spread)}</b>
      </span>
    </div>
  );
}

function SimulatedBadge() {
  const { zone } = useMarket();
  const [now, setNow] = useState(serverNow());
  useEffect(() => {
    // A fast simulated clock moves a minute per real second: refresh often enough to read it.
    const id = window.setInterval(() => setNow(serverNow()), 250);
    return () => window.clearInterval(id);
  }, []);
  const rate = serverRate();
  return (
    <span class="badge warn" data-testid="simulated" title="No TwelveData key is set: the built-in simulator is the feed, on its own clock">
      simulated feed · clock {zonedDateTime(zone, now)}
      {rate !== 1 && ` · ×${decimal(rate, rate >= 10 ? 0 : 1)}`}
    </span>
  );
}

function LiveBadge({ state, lastAt, open }: { state: SocketState; lastAt: number | null; open: boolean }) {
  const [now, setNow] = useState(browserNow());
  const [since] = useState(browserNow());
  useEffect(() => {
    const id = window.setInterval(() => setNow(browserNow()), 1000);
    return () => window.clearInterval(id);
  }, []);
  if (state !== 'open') return <span class="badge bad" data-testid="live-state">{state === 'connecting' ? 'connecting…' : 'disconnected · reconnecting…'}</span>;
  const age = now - (lastAt ?? since);
  const stale = open && age > STALE_FLOOR_REAL_MS && age * serverRate() > STALE_AFTER_MARKET_MS;
  if (stale) {
    return (
      <span class="badge warn" data-testid="live-state" title="The market is open but no price has arrived recently">
        live · stale data ({lastAt === null ? 'no price yet' : `last price ${duration(age * serverRate())} ago${serverRate() !== 1 ? ' on the simulated clock' : ''}`})
      </span>
    );
  }
  return <span class="badge ok" data-testid="live-state">{open ? 'live' : 'live · market closed'}</span>;
}

function PredictionLine({ prediction, error, zone }: { prediction: PredictionView | null; error: string | null; zone: string }) {
  if (prediction === null) {
    if (error !== null) return <p class="empty">Predictions are unavailable: {error}</p>;
    return <p class="empty">No prediction yet: a policy predicts on every final bar in session once one is promoted to production (Research view).</p>;
  }
  const label = prediction.position > 0 ? 'long' : prediction.position < 0 ? 'short' : 'flat';
  return (
    <p data-testid="prediction">
      <b class={prediction.position > 0 ? 'up' : prediction.position < 0 ? 'down' : ''}>{label}</b> · model {prediction.modelId} · at the close of the {zonedDateTime(zone, prediction.barTime)} bar ·
      p(short / flat / long) {decimal(prediction.probabilities.short, 2)} / {decimal(prediction.probabilities.flat, 2)} / {decimal(prediction.probabilities.long, 2)} · {decimal(prediction.latencyMs, 1)} ms
      to decide
    </p>
  );
}
