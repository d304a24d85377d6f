/**
 * The terminal chart's history as a window of candles that grows on demand: the latest page first,
 * older pages as the user scrolls or zooms back (GET /api/candlesticks with `to` = the oldest candle
 * held: `to` is exclusive), newer pages after a jump into the past, and a jump to any date. Each
 * page's indicators come from GET /api/candlesticks/{symbol}/indicators (same query: warmed up on
 * the candles before it, so values agree across pages), and the calendar's trading days of the span
 * held (GET /api/calendar) tell the chart where whole sessions are missing. At 1min the candles are
 * built from stored ticks: paging back stops where the ticks stop (the API's `truncated`), and
 * `ticksFrom` says since when ticks are stored.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getJson } from '../api.ts';
import type { CandlesResponse } from '../../contracts/api/candles.ts';
import type { CandleIndicatorsResponse } from '../../contracts/api/desk.ts';
import type { CalendarBody } from '../../contracts/api/market.ts';
import type { Candle, IndicatorValues } from '../candle-types.ts';
import { serverNow } from '../clock.ts';
import { sessionDateOf } from '../market-time.ts';
import type { Market } from '../selected-symbol.ts';
import { candlesFrom, INDICATOR_QUERY, indicatorsByTime, ticksFromOf, type Interval } from './candles.ts';

export const PAGE: Record<Interval, number> = { '1min': 300, '5min': 600, '15min': 400, '1h': 300, '4h': 300, '1day': 250, '1w': 200 };

export interface ChartHistory {
  candles: Candle[];
  indicators: ReadonlyMap<number, IndicatorValues>;
  /** Dates (in the market's zone) of the trading sessions over the span held, sorted. */
  tradingDays: readonly string[];
  /** Nothing older is stored. */
  atStart: boolean;
  /** 1min: exchange time (epoch ms) of the oldest stored tick, null when none; undefined at other intervals or before the first answer. */
  ticksFrom: number | null | undefined;
  /** The window reaches the latest candle (live bars extend it). */
  atLatest: boolean;
  loading: boolean;
  error: string | null;
  /** The window was replaced (first load, interval switch, jump): the chart fits it again; the value is the time to show, if any. */
  windowKey: string;
  focus: number | null;
  loadOlder: () => void;
  loadNewer: () => void;
  goTo: (date: string) => void;
  /** Replaces the window with the latest candles. */
  showLatest: () => void;
  /** Refetches the latest page and merges it (a final bar closed). */
  refreshLatest: () => void;
}

interface Page {
  candles: Candle[];
  truncated: boolean;
  ticksFrom: number | null | undefined;
  indicators: Map<number, IndicatorValues>;
}

async function fetchPage(market: Market, interval: Interval, range: { from?: string; to?: string }, limit: number): Promise<Page> {
  const params = new URLSearchParams({ interval, limit: String(limit) });
  if (range.from !== undefined) params.set('from', range.from);
  if (range.to !== undefined) params.set('to', range.to);
  const [candles, indicators] = await Promise.all([
    getJson<CandlesResponse>(`/api/candlesticks/${market.path}?${params.toString()}`),
    getJson<CandleIndicatorsResponse>(`/api/candlesticks/${market.path}/indicators?${params.toString()}&indicators=${INDICATOR_QUERY}`),
  ]);
  return { candles: candlesFrom(candles, market.session), truncated: candles.truncated, ticksFrom: ticksFromOf(candles), indicators: indicatorsByTime(indicators) };
}

/** `a` and `b` merged by time; `b` wins on the same time (the newer answer). */
function merge(a: readonly Candle[], b: readonly Candle[]): Candle[] {
  const byTime = new Map(a.map((k) => [k.time, k]));
  for (const k of b) byTime.set(k.time, k);
  return [...byTime.values()].sort((x, y) => x.time - y.time);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The history of the market's symbol; the view is rebuilt for another symbol, so `market` is fixed for its life. */
export function useChartHistory(market: Market, interval: Interval): ChartHistory {
  const [candles, setCandles] = useState<Candle[]>([]);
  const [indicators, setIndicators] = useState<Map<number, IndicatorValues>>(new Map());
  const [atStart, setAtStart] = useState(false);
  const [ticksFrom, setTicksFrom] = useState<number | null | undefined>(undefined);
  const [atLatest, setAtLatest] = useState(true);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [windowKey, setWindowKey] = useState('');
  const [focus, setFocus] = useState<number | null>(null);
  const [tradingDays, setTradingDays] = useState<string[]>([]);
  const busy = useRef(false);
  const state = useRef({ candles, atStart, atLatest, interval });
  state.current = { candles, atStart, atLatest, interval };
  const generation = useRef(0);

  /** Runs one load at a time; a load started before an interval switch or a jump is dropped. */
  const run = useCallback((load: (gen: number) => Promise<void>) => {
    if (busy.current) return;
    busy.current = true;
    setLoading(true);
    const gen = generation.current;
    load(gen)
      .then(() => gen === generation.current && setError(null))
      .catch((e: unknown) => gen === generation.current && setError(e instanceof Error ? e.message : String(e)))
      .finally(() => {
        busy.current = false;
        setLoading(false);
      });
  }, []);

  const replace = useCallback(
    (pages: Page[], opts: { atStart: boolean; atLatest: boolean; focus: number | null; key: string }) => {
      setCandles(pages.reduce<Candle[]>((all, p) => merge(all, p.candles), []));
      setTicksFrom(pages.find((p) => p.ticksFrom !== undefined)?.ticksFrom);
      setIndicators(new Map(pages.flatMap((p) => [...p.indicators])));
      setAtStart(opts.atStart);
      setAtLatest(opts.atLatest);
      setFocus(opts.focus);
      setWindowKey(opts.key);
    },
    [],
  );

  const add = useCallback((page: Page) => {
    setCandles((held) => merge(held, page.candles));
    if (page.ticksFrom !== undefined) setTicksFrom(page.ticksFrom);
    setIndicators((held) => new Map([...held, ...page.indicators]));
  }, []);

  const showLatest = useCallback(() => {
    const gen = ++generation.current;
    busy.current = false;
    const iv = state.current.interval;
    run(async () => {
      const page = await fetchPage(market, iv, {}, PAGE[iv]);
      if (gen === generation.current) replace([page], { atStart: !page.truncated, atLatest: true, focus: null, key: `${iv}:latest:${gen}` });
    });
  }, []);

  useEffect(showLatest, [interval]);

  const loadOlder = useCallback(() => {
    const { candles: held, atStart: done, interval: iv } = state.current;
    const oldest = held[0];
    if (done || oldest === undefined) return;
    run(async (gen) => {
      const page = await fetchPage(market, iv, { to: iso(oldest.time) }, PAGE[iv]);
      if (gen !== generation.current) return;
      add(page);
      if (!page.truncated) setAtStart(true);
    });
  }, []);

  const loadNewer = useCallback(() => {
    const { candles: held, atLatest: done, interval: iv } = state.current;
    const newest = held.at(-1);
    if (done || newest === undefined) return;
    run(async (gen) => {
      const page = await fetchPage(market, iv, { from: iso(newest.time + 1) }, PAGE[iv]);
      if (gen !== generation.current) return;
      add(page);
      if (!page.truncated) setAtLatest(true);
    });
  }, []);

  const goTo = useCallback((date: string) => {
    generation.current++;
    busy.current = false;
    const iv = state.current.interval;
    run(async (gen) => {
      const [before, after] = await Promise.all([fetchPage(market, iv, { to: date }, Math.round(PAGE[iv] / 2)), fetchPage(market, iv, { from: date }, PAGE[iv])]);
      if (gen !== generation.current) return;
      // `to` = a date means through that day: the page before the date ends at its start.
      const start = Date.parse(`${date}T05:00:00Z`);
      const earlier = { ...before, candles: before.candles.filter((k) => k.time < start) };
      const first = after.candles[0] ?? earlier.candles.at(-1);
      replace([earlier, after], { atStart: !before.truncated, atLatest: !after.truncated, focus: first?.time ?? null, key: `${iv}:${date}` });
    });
  }, []);

  const refreshLatest = useCallback(() => {
    const { atLatest: latest, interval: iv } = state.current;
    if (!latest) return;
    run(async (gen) => {
      const page = await fetchPage(market, iv, {}, Math.min(PAGE[iv], 50));
      if (gen === generation.current) add(page);
    });
  }, []);

  // At the latest, through today's session: live candles (held by the chart, not here) may follow a
  // hole after the stored history, and the trading days must reach them for the hole to show.
  const span = useMemo(() => {
    const last = candles.at(-1)?.session ?? null;
    const today = sessionDateOf(market.session, serverNow());
    return { from: candles[0]?.session ?? null, to: last !== null && atLatest && today > last ? today : last };
  }, [candles, atLatest]);
  useEffect(() => {
    if (span.from === null || span.to === null) return;
    let live = true;
    getJson<CalendarBody>(`/api/calendar?symbol=${market.path}&from=${span.from}&to=${span.to}`).then(
      (c) => live && setTradingDays(c.days.filter((d) => d.trading_day).map((d) => d.date)),
      () => live && setTradingDays([]),
    );
    return () => {
      live = false;
    };
  }, [span.from, span.to]);

  return { candles, indicators, tradingDays, atStart, ticksFrom, atLatest, loading, error, windowKey, focus, loadOlder, loadNewer, goTo, showLatest, refreshLatest };
}
