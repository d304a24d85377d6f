/**
 * Fills and policy signals as chart markers (pure: no DOM). A marker sits on the candle of the
 * bucket its time falls in, so it lands on a drawn bar at every interval. Buys are green arrows
 * under the bar, sells red arrows over it; a policy signal is a dot where the decided position
 * changes (long, flat, short), not one per bar.
 */
import type { SeriesMarker, UTCTimestamp } from 'lightweight-charts';
import { seconds } from '../chart-series.ts';
import type { PredictionView } from '../../contracts/api/research.ts';
import type { FillMessage } from '../../contracts/trading-messages.ts';
import type { SessionRules } from '../market-time.ts';
import { bucketStart, type Interval } from './candles.ts';

const BUY_COLOR = '#26a69a';
const SELL_COLOR = '#ef5350';
const SIGNAL_COLOR = '#f0b429';

export function fillMarkers(fills: readonly FillMessage[], interval: Interval, rules: SessionRules): Array<SeriesMarker<UTCTimestamp>> {
  return fills.map((f): SeriesMarker<UTCTimestamp> => ({
    time: seconds(bucketStart(Date.parse(f.time), interval, rules)),
    position: f.side === 'buy' ? 'belowBar' : 'aboveBar',
    shape: f.side === 'buy' ? 'arrowUp' : 'arrowDown',
    color: f.side === 'buy' ? BUY_COLOR : SELL_COLOR,
    text: `${f.side === 'buy' ? 'B' : 'S'} ${f.quantity}`,
  }));
}

const SIGNAL_LABEL: Record<PredictionView['position'], string> = { [-1]: 'short', 0: 'flat', 1: 'long' };

/** `predictions` newest first, as the API lists them. */
export function signalMarkers(predictions: readonly PredictionView[], interval: Interval, rules: SessionRules): Array<SeriesMarker<UTCTimestamp>> {
  const oldestFirst = [...predictions].reverse();
  return oldestFirst
    .filter((p, i) => i === 0 || oldestFirst[i - 1]?.position !== p.position)
    .map((p): SeriesMarker<UTCTimestamp> => ({
      time: seconds(bucketStart(Date.parse(p.barTime), interval, rules)),
      position: 'aboveBar',
      shape: 'circle',
      color: SIGNAL_COLOR,
      text: SIGNAL_LABEL[p.position],
    }));
}
