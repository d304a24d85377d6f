/**
 * The candlestick chart (lightweight-charts): candles, optional EMA/Bollinger overlays, an RSI
 * and a MACD pane, session-start markers, and a time axis in Bogota time. The library spaces
 * bars by index, so nights and weekends take no room: non-session time is collapsed.
 */
import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef } from 'preact/hooks';
import { bogotaDay, bogotaTime, cop } from '../format.ts';

export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Bogota trading date of the candle's session (session boundaries). */
  session: string;
}

export type IndicatorSeries = Partial<Record<'ema20' | 'ema50' | 'bbUpper' | 'bbMiddle' | 'bbLower' | 'rsi14' | 'macd' | 'macdSignal' | 'macdHistogram', Array<number | null>>>;

export interface ChartHandle {
  /** Adds the candle or replaces the one with the same time (the forming bar, a revision). */
  update(candle: Candle): void;
}

interface Props {
  candles: Candle[];
  indicators: IndicatorSeries | null;
  showOverlays: boolean;
  showOscillators: boolean;
  onReady?: (handle: ChartHandle) => void;
}

const seconds = (ms: number): UTCTimestamp => Math.floor(ms / 1000) as UTCTimestamp;
const msOf = (t: Time): number => (typeof t === 'number' ? t * 1000 : 0);

export function CandleChart({ candles, indicators, showOverlays, showOscillators, onReady }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | null>(null);

  useEffect(() => {
    if (!box.current) return;
    const c = createChart(box.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: '#171e26' }, textColor: '#c9d1d9', panes: { separatorColor: '#2a3542' } },
      grid: { vertLines: { color: '#1f2a36' }, horzLines: { color: '#1f2a36' } },
      localization: { timeFormatter: (t: Time) => `${bogotaDay(msOf(t))} ${bogotaTime(msOf(t))} COT`, priceFormatter: (p: number) => cop(p) },
      timeScale: { timeVisible: true, secondsVisible: false, tickMarkFormatter: (t: Time) => bogotaTime(msOf(t)) },
    });
    chart.current = c;
    series.current = c.addSeries(CandlestickSeries, { upColor: '#26a69a', downColor: '#ef5350', wickUpColor: '#26a69a', wickDownColor: '#ef5350', borderVisible: false });
    markers.current = createSeriesMarkers(series.current, []);
    onReady?.({
      update: (candle) => series.current?.update({ time: seconds(candle.time), open: candle.open, high: candle.high, low: candle.low, close: candle.close }),
    });
    return () => {
      c.remove();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    const s = series.current;
    if (!c || !s) return;
    s.setData(candles.map((k) => ({ time: seconds(k.time), open: k.open, high: k.high, low: k.low, close: k.close })));
    markers.current?.setMarkers(sessionStarts(candles));
    const extra = drawIndicators(c, candles, indicators, showOverlays, showOscillators);
    c.timeScale().fitContent();
    return () => extra.forEach((x) => c.removeSeries(x));
  }, [candles, indicators, showOverlays, showOscillators]);

  return <div ref={box} class="chart" role="img" aria-label="USD/COP candlestick chart, times in Bogota (COT)" data-candles={candles.length} />;
}

function sessionStarts(candles: Candle[]) {
  return candles
    .filter((k, i) => i > 0 && candles[i - 1]?.session !== k.session)
    .map((k) => ({ time: seconds(k.time), position: 'aboveBar' as const, shape: 'arrowDown' as const, color: '#93a1b0', text: k.session.slice(5) }));
}

function line(candles: Candle[], values: Array<number | null> | undefined) {
  return (values ?? []).flatMap((v, i) => (v === null || candles[i] === undefined ? [] : [{ time: seconds(candles[i].time), value: v }]));
}

function drawIndicators(c: IChartApi, candles: Candle[], ind: IndicatorSeries | null, overlays: boolean, oscillators: boolean) {
  const added: Array<ISeriesApi<'Line'> | ISeriesApi<'Histogram'>> = [];
  if (!ind) return added;
  const addLine = (values: Array<number | null> | undefined, color: string, pane = 0) => {
    const s = c.addSeries(LineSeries, { color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false }, pane);
    s.setData(line(candles, values));
    added.push(s);
  };
  if (overlays) {
    addLine(ind.ema20, '#f0b429');
    addLine(ind.ema50, '#a371f7');
    addLine(ind.bbUpper, '#58a6ff');
    addLine(ind.bbMiddle, '#3b6ea8');
    addLine(ind.bbLower, '#58a6ff');
  }
  if (oscillators) {
    addLine(ind.rsi14, '#f0b429', 1);
    addLine(ind.macd, '#58a6ff', 2);
    addLine(ind.macdSignal, '#ef5350', 2);
    const h = c.addSeries(HistogramSeries, { color: '#3b6ea8', priceLineVisible: false, lastValueVisible: false }, 2);
    h.setData(line(candles, ind.macdHistogram));
    added.push(h);
  }
  return added;
}
