/**
 * The candlestick chart (lightweight-charts): candles, optional EMA/Bollinger overlays, an RSI
 * and a MACD pane, session-start markers, and a time axis in the selected market's zone (named). The library spaces
 * bars by index, so nights, weekends and holidays take no room: non-session time is collapsed,
 * and each session's first bar carries a marker with its date.
 *
 * History comes in through props; live bars go through the handle (no re-render per tick). Scrolling
 * or zooming to either edge asks for more (`onEdge`); candles added before the first one keep the
 * view where it was. A data hole (whole sessions missing) is an empty slot with a label; a strip
 * under the candles marks each one's source (vendor, backfilled, imported, simulated, partial), with
 * a legend; the crosshair legend gives the candle's OHLC, source and indicator values.
 * Live candles newer than the history are kept and re-applied when the history is reloaded, so a
 * refetch never drops the forming bar. Simulated candles are never joined with real ones: an empty
 * slot breaks the series where the provenance changes, they have their own colours, and a marker
 * names each part (see chart-series.ts). The element's data-* attributes say what is drawn (tests
 * and people debugging read them): data-candles, data-live-updates, data-last-time, data-last-close,
 * data-segments (`real:80,simulated:100`), data-breaks (empty slots at provenance changes),
 * data-holes (data holes drawn as breaks), data-sources (`imported:80,simulated:100`),
 * data-first-time and data-trade-markers (the `marks` given: fills, policy signals).
 */
import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  LineSeries,
  TickMarkType,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type LogicalRange,
  type MouseEventParams,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { INDICATOR_KEYS, SOURCE_KINDS, type Candle, type IndicatorSeries, type IndicatorValues } from '../candle-types.ts';
import { candlePoint, candlePoints, holeMarkers, isBreak, linePoints, provenanceMarkers, seconds, segmentSummary, SOURCE_COLORS, sourcePoints, sourceSummary, type SeriesPoints } from '../chart-series.ts';
import { INDICATOR_LABELS } from '../views/candles.ts';
import { decimal, price, zonedDay, zonedMinute, zonedTime } from '../format.ts';
import { zonedDate } from '../market-time.ts';
import { useMarket } from '../selected-symbol.ts';

export type { Candle, IndicatorSeries } from '../candle-types.ts';

export interface ChartHandle {
  /** Adds the candle or replaces the one with the same time (the forming bar, a revision). */
  update(candle: Candle): void;
}

interface Props {
  candles: Candle[];
  indicators: IndicatorSeries | null;
  showOverlays: boolean;
  showOscillators: boolean;
  /** Daily candles: no session markers, dates on the axis. */
  daily: boolean;
  /** Bucket size: a missing bucket inside a session is left as an empty slot (never filled). Null for daily candles. */
  stepMs: number | null;
  /** Changes when the data set changes (interval switch): the view is fitted again. */
  dataKey: string;
  /** A smaller chart (a day's detail). */
  compact?: boolean;
  onReady?: (handle: ChartHandle) => void;
  /** Markers besides the chart's own labels (fills, policy signals). */
  marks?: ReadonlyArray<SeriesMarker<UTCTimestamp>>;
  /** Dates (in the market's zone) of the calendar's sessions over the candles' span: a session among them without candles is a data hole. */
  tradingDays?: readonly string[];
  /** Indicator values by candle time, for the crosshair legend. */
  indicatorValues?: ReadonlyMap<number, IndicatorValues>;
  /** The view reached the oldest (or newest) candle held: load more there. */
  onEdge?: (edge: 'older' | 'newer') => void;
  /** The time to show when the data set changes (a jump to a date); the latest candles when null. */
  focus?: number | null;
}

/** Candles from either edge of the view at which more are asked for. */
const EDGE_MARGIN = 20;

const msOf = (t: Time): number => (typeof t === 'number' ? t * 1000 : 0);

function tickMark(zone: string, t: Time, type: TickMarkType): string {
  const ms = msOf(t);
  if (type === TickMarkType.Year) return zonedDate(zone, ms).slice(0, 4);
  if (type === TickMarkType.Month || type === TickMarkType.DayOfMonth) return zonedDay(zone, ms);
  return zonedTime(zone, ms);
}

/** What the chart holds now: the history and the live candles since. */
class ChartData {
  history: Candle[] = [];
  live = new Map<number, Candle>();
  updates = 0;

  all(): Candle[] {
    const lastHistory = this.history.at(-1)?.time ?? -Infinity;
    const newer = [...this.live.values()].filter((k) => k.time > lastHistory).sort((a, b) => a.time - b.time);
    return [...this.history, ...newer];
  }
}

const NO_MARKS: ReadonlyArray<SeriesMarker<UTCTimestamp>> = [];
const NO_DAYS: readonly string[] = [];

export function CandleChart(props: Props) {
  const { candles, indicators, showOverlays, showOscillators, daily, stepMs, dataKey, compact = false, onReady, marks = NO_MARKS, tradingDays = NO_DAYS, focus = null } = props;
  // The chart is built once per view, and a view is rebuilt for another symbol: the market is fixed for the chart's life.
  const market = useMarket();
  const money = (p: number | null | undefined) => price(p, market.decimals);
  const edge = useRef(props.onEdge);
  edge.current = props.onEdge;
  const values = useRef(props.indicatorValues);
  values.current = props.indicatorValues;
  const days = useRef(tradingDays);
  days.current = tradingDays;
  const holes = useRef<SeriesPoints['holes']>([]);
  const sources = useRef<ISeriesApi<'Histogram'> | null>(null);
  const step = useRef(stepMs);
  step.current = stepMs;
  const isDaily = useRef(daily);
  isDaily.current = daily;
  const extraMarks = useRef(marks);
  extraMarks.current = marks;
  const breaks = useRef(0);
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const data = useRef(new ChartData());
  const fitted = useRef<string | null>(null);
  const shownKey = useRef<string | null>(null);
  const [legend, setLegend] = useState<Candle | null>(null);
  const pointCount = useRef(0);
  const drawnTimes = useRef<number[]>([]);
  /** Set while the chart moves the view itself (no edge loads for that). */
  const shifting = useRef(false);
  const [simulated, setSimulated] = useState(false);

  const describe = () => {
    const el = box.current;
    if (!el) return;
    const all = data.current.all();
    const last = all.at(-1);
    el.dataset['candles'] = String(all.length);
    el.dataset['liveUpdates'] = String(data.current.updates);
    el.dataset['lastTime'] = last ? new Date(last.time).toISOString() : '';
    el.dataset['lastClose'] = last ? String(last.close) : '';
    el.dataset['segments'] = segmentSummary(all);
    el.dataset['breaks'] = String(breaks.current);
    el.dataset['holes'] = String(holes.current.length);
    el.dataset['sources'] = sourceSummary(all);
    el.dataset['firstTime'] = all[0] ? new Date(all[0].time).toISOString() : '';
    el.dataset['tradeMarkers'] = String(extraMarks.current.length);
    el.dataset['window'] = shownKey.current ?? '';
    setSimulated(all.some((k) => k.simulated));
  };

  /** Sets every point and marker from the candles held; returns the number of points. */
  const redraw = (s: ISeriesApi<'Candlestick'>): number => {
    const all = data.current.all();
    const drawn = candlePoints(all, step.current, days.current);
    breaks.current = drawn.breaks;
    holes.current = drawn.holes;
    s.setData(drawn.points);
    sources.current?.setData(sourcePoints(all));
    drawMarkers();
    drawnTimes.current = drawn.points.map((p) => p.time as number);
    pointCount.current = drawn.points.length;
    return drawn.points.length;
  };

  const drawMarkers = () => {
    const all = data.current.all();
    const labels = [...(isDaily.current ? [] : sessionStarts(all, step.current)), ...provenanceMarkers(all), ...holeMarkers(holes.current), ...extraMarks.current].sort((a, b) => a.time - b.time);
    markers.current?.setMarkers(labels);
  };

  useEffect(() => {
    if (!box.current) return;
    const c = createChart(box.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: '#171e26' }, textColor: '#c9d1d9', panes: { separatorColor: '#2a3542' } },
      grid: { vertLines: { color: '#1f2a36' }, horzLines: { color: '#1f2a36' } },
      localization: { timeFormatter: (t: Time) => zonedMinute(market.zone, msOf(t)), priceFormatter: (p: number) => money(p) },
      timeScale: { timeVisible: true, secondsVisible: false, tickMarkFormatter: (t: Time, type: TickMarkType) => tickMark(market.zone, t, type), rightOffset: 3 },
      rightPriceScale: { borderColor: '#2a3542' },
    });
    chart.current = c;
    const s = c.addSeries(CandlestickSeries, { upColor: '#26a69a', downColor: '#ef5350', wickUpColor: '#26a69a', wickDownColor: '#ef5350', borderVisible: false });
    series.current = s;
    markers.current = createSeriesMarkers(s, []);
    // The source strip: a thin band at the bottom of the price pane, on its own scale.
    const strip = c.addSeries(HistogramSeries, { priceScaleId: 'source', priceLineVisible: false, lastValueVisible: false, base: 0 }, 0);
    strip.priceScale().applyOptions({ scaleMargins: { top: 0.97, bottom: 0 }, visible: false });
    sources.current = strip;
    const onMove = (p: MouseEventParams<Time>) => {
      const hit = p.time === undefined ? null : data.current.all().find((k) => seconds(k.time) === p.time);
      setLegend(hit ?? null);
    };
    c.subscribeCrosshairMove(onMove);
    const onRange = (range: LogicalRange | null) => {
      if (range === null || shifting.current) return;
      const n = pointCount.current;
      if (range.from < EDGE_MARGIN) edge.current?.('older');
      else if (range.to > n - EDGE_MARGIN) edge.current?.('newer');
    };
    c.timeScale().subscribeVisibleLogicalRangeChange(onRange);
    onReady?.({
      update: (candle) => {
        const d = data.current;
        d.updates++;
        const all = d.all();
        const last = all.at(-1);
        if (last === undefined || candle.time >= last.time) {
          d.live.set(candle.time, candle);
          // A live candle of the other provenance starts a new part: redraw with the break and its marker.
          if (candle.time > (last?.time ?? Infinity) && isBreak(last, candle)) redraw(s);
          else s.update(candlePoint(candle));
        } else {
          // A revision of an older bar: replace it where it is.
          const i = d.history.findIndex((k) => k.time === candle.time);
          if (i >= 0) d.history[i] = candle;
          else d.live.set(candle.time, candle);
          if (all.some((k) => k.time === candle.time)) s.update(candlePoint(candle), true);
          else redraw(s);
        }
        describe();
      },
    });
    return () => {
      c.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      c.unsubscribeCrosshairMove(onMove);
      c.remove();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    const s = series.current;
    if (!c || !s) return;
    const d = data.current;
    if (shownKey.current !== dataKey) d.live.clear();
    shownKey.current = dataKey;
    const firstBefore = d.history[0]?.time ?? null;
    const countBefore = pointCount.current;
    const viewBefore = c.timeScale().getVisibleLogicalRange();
    d.history = [...candles];
    const all = d.all();
    shifting.current = true;
    const count = redraw(s);
    const extra = drawIndicators(c, candles, indicators, showOverlays, showOscillators, tradingDays);
    if (fitted.current !== dataKey && all.length > 0) {
      // Show a readable width of bars (the latest, or those from the date asked for) rather than squeezing the whole history.
      const at = focus === null ? count : Math.max(0, drawnTimes.current.findIndex((t) => t >= seconds(focus)));
      const from = focus === null ? at - 150 : at - 20;
      c.timeScale().setVisibleLogicalRange({ from: Math.max(0, from), to: Math.max(0, from) + 153 });
      fitted.current = dataKey;
    } else if (viewBefore !== null && firstBefore !== null && (all[0]?.time ?? firstBefore) < firstBefore) {
      // Older candles came in before the first one: keep the same candles in view.
      const added = count - countBefore;
      c.timeScale().setVisibleLogicalRange({ from: viewBefore.from + added, to: viewBefore.to + added });
    }
    shifting.current = false;
    describe();
    return () => {
      // Unmounting removes the whole chart first; its series are gone with it.
      if (chart.current === c) extra.forEach((x) => c.removeSeries(x));
    };
  }, [candles, indicators, showOverlays, showOscillators, daily, stepMs, dataKey, tradingDays]);

  useEffect(() => {
    drawMarkers();
    describe();
  }, [marks]);

  return (
    <div class="chart-wrap">
      <p class="legend muted" aria-live="off" data-testid="chart-legend">
        {legend ? (
          <>
            {`${zonedMinute(market.zone, legend.time)} · ${legend.source} · O ${money(legend.open)} H ${money(legend.high)} L ${money(legend.low)} C ${money(legend.close)}`}
            <IndicatorLegend values={values.current?.get(legend.time)} decimals={market.decimals} />
          </>
        ) : (
          `Times in ${market.zone} · nights, weekends and holidays collapsed · ▼ marks each session open`
        )}
      </p>
      {simulated && (
        <p class="legend small" data-testid="chart-provenance">
          <span class="badge warn">simulated</span> candles in grey-blue and brown are the built-in simulator&apos;s prices, not market data: they are drawn apart from real history, never joined to it.
        </p>
      )}
      <div
        ref={box}
        class={`chart${compact ? ' compact' : showOscillators && !daily ? ' with-panes' : ''}`}
        role="img"
        aria-label={`${market.symbol} candlestick chart, times in ${market.zone}`}
        data-symbol={market.symbol}
        data-testid="candle-chart"
      />
      <SourceLegend />
    </div>
  );
}

function IndicatorLegend({ values, decimals }: { values: IndicatorValues | undefined; decimals: number }) {
  if (values === undefined) return null;
  const shown = INDICATOR_KEYS.filter((k) => values[k] !== null && values[k] !== undefined);
  if (shown.length === 0) return <span data-testid="legend-indicators"> · indicators warming up</span>;
  return <span data-testid="legend-indicators">{shown.map((k) => ` · ${INDICATOR_LABELS[k]} ${k.startsWith('rsi') || k.startsWith('macd') ? decimal(values[k] ?? null, 2) : price(values[k], decimals)}`).join('')}</span>;
}

const SOURCE_TITLES: Record<(typeof SOURCE_KINDS)[number], string> = {
  vendor: "TwelveData's live feed",
  backfilled: "filled from TwelveData's REST history",
  imported: 'loaded from a file (tasa import)',
  simulated: "the built-in simulator's prices, not market data",
  partial: 'built while the feed covered only part of the slot (the failsafe replaces it)',
};

/** What the colours of the strip under the candles mean. */
function SourceLegend() {
  return (
    <p class="legend small source-legend" data-testid="source-legend">
      <span class="muted">Source strip:</span>
      {SOURCE_KINDS.map((kind) => (
        <span key={kind} title={SOURCE_TITLES[kind]}>
          <i class="swatch" style={{ background: SOURCE_COLORS[kind] }} /> {kind}
        </span>
      ))}
      <span class="muted">· empty slot = missing data</span>
    </p>
  );
}


/**
 * A marker at each session's first candle, dated; on hourly candles (5 a session) only every
 * few sessions carry the date, so the labels do not overlap.
 */
function sessionStarts(candles: Candle[], stepMs: number | null) {
  const labelEvery = stepMs !== null && stepMs >= 3_600_000 ? 5 : 1;
  return candles
    .filter((k, i) => i > 0 && candles[i - 1]?.session !== k.session)
    .map((k, i) => ({ time: seconds(k.time), position: 'aboveBar' as const, shape: 'arrowDown' as const, color: '#93a1b0', text: i % labelEvery === 0 ? k.session.slice(5) : '' }));
}


function drawIndicators(c: IChartApi, candles: Candle[], ind: IndicatorSeries | null, overlays: boolean, oscillators: boolean, tradingDays: readonly string[]) {
  const added: Array<ISeriesApi<'Line'> | ISeriesApi<'Histogram'>> = [];
  if (!ind) return added;
  const addLine = (values: Array<number | null> | undefined, color: string, pane = 0, title = '') => {
    const s = c.addSeries(LineSeries, { color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false, title }, pane);
    s.setData(linePoints(candles, values, tradingDays));
    added.push(s);
  };
  if (overlays) {
    addLine(ind.ema20, '#f0b429', 0, 'EMA 20');
    addLine(ind.ema50, '#a371f7', 0, 'EMA 50');
    addLine(ind.bbUpper, '#58a6ff');
    addLine(ind.bbMiddle, '#3b6ea8', 0, 'BB 20');
    addLine(ind.bbLower, '#58a6ff');
  }
  if (oscillators) {
    addLine(ind.rsi14, '#f0b429', 1, 'RSI 14');
    addLine(ind.macd, '#58a6ff', 2, 'MACD');
    addLine(ind.macdSignal, '#ef5350', 2, 'signal');
    const h = c.addSeries(HistogramSeries, { color: '#3b6ea8', priceLineVisible: false, lastValueVisible: false }, 2);
    h.setData(linePoints(candles, ind.macdHistogram, tradingDays));
    added.push(h);
    const panes = c.panes();
    panes[0]?.setStretchFactor(3);
    panes[1]?.setStretchFactor(1);
    panes[2]?.setStretchFactor(1);
  }
  return added;
}
