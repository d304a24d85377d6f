/** A small time-series line or area chart (equity, drawdown) on lightweight-charts, time axis in the selected market's zone. */
import { AreaSeries, ColorType, createChart, LineSeries, type Time, type UTCTimestamp } from 'lightweight-charts';
import { useEffect, useRef } from 'preact/hooks';
import { zonedDay, zonedMinute } from '../format.ts';
import { useZone } from '../selected-symbol.ts';

export interface Point {
  /** Epoch ms UTC. */
  time: number;
  value: number;
}

interface Props {
  points: Point[];
  label: string;
  format: (v: number) => string;
  color?: string;
  /** Filled below the line down to the axis (drawdown). */
  area?: boolean;
}

const msOf = (t: Time): number => (typeof t === 'number' ? t * 1000 : 0);

/** One point per second at most (the chart needs strictly increasing times), the last one wins. */
function uniqueSeconds(points: Point[]): Array<{ time: UTCTimestamp; value: number }> {
  const out: Array<{ time: UTCTimestamp; value: number }> = [];
  for (const p of [...points].sort((a, b) => a.time - b.time)) {
    const time = Math.floor(p.time / 1000) as UTCTimestamp;
    if (out.at(-1)?.time === time) out[out.length - 1] = { time, value: p.value };
    else out.push({ time, value: p.value });
  }
  return out;
}

export function LineChart({ points, label, format, color = '#58a6ff', area = false }: Props) {
  const zone = useZone();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const c = createChart(box.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: '#171e26' }, textColor: '#c9d1d9' },
      grid: { vertLines: { color: '#1f2a36' }, horzLines: { color: '#1f2a36' } },
      localization: { timeFormatter: (t: Time) => zonedMinute(zone, msOf(t)), priceFormatter: format },
      // Both edges fixed: the bar spacing may shrink below the default 0.5 px minimum, so that
      // fitContent shows every point of a long curve (2,000 points) instead of only its newest ones.
      timeScale: { tickMarkFormatter: (t: Time) => zonedDay(zone, msOf(t)), fixLeftEdge: true, fixRightEdge: true },
      handleScroll: false,
      handleScale: false,
    });
    const data = uniqueSeconds(points);
    if (area) {
      const s = c.addSeries(AreaSeries, { lineColor: color, topColor: `${color}10`, bottomColor: `${color}60`, lineWidth: 1, invertFilledArea: true, priceLineVisible: false });
      s.setData(data);
    } else {
      const s = c.addSeries(LineSeries, { color, lineWidth: 2, priceLineVisible: false });
      s.setData(data);
    }
    const el = box.current;
    // The span on screen, for tests and tooling (ISO times of the first and last visible points).
    c.timeScale().subscribeVisibleTimeRangeChange((range) => {
      el.dataset['visibleFrom'] = range ? new Date(msOf(range.from)).toISOString() : '';
      el.dataset['visibleTo'] = range ? new Date(msOf(range.to)).toISOString() : '';
    });
    c.timeScale().fitContent();
    // The box gets its size after layout: fit the whole curve again once it has one.
    const resized = new ResizeObserver(() => c.timeScale().fitContent());
    resized.observe(el);
    return () => {
      resized.disconnect();
      c.remove();
    };
  }, [points, area, color, format]);
  return <div ref={box} class="chart small" role="img" aria-label={`${label}, times in ${zone}`} data-points={points.length} />;
}
