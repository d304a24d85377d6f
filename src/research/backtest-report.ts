/**
 * A backtest as one self-contained HTML page: inline CSS, inline SVG charts drawn here (equity and
 * drawdown), the metrics, the cost sensitivity (gross and net at 0.5x, 1x, 2x the costs), the
 * gates with their verdict on the edge, the trade ledger, the configuration and the dataset hash.
 * No script, no external asset, so it opens offline and can be archived as is. Pure: the caller
 * passes the generation instant (from its Clock).
 *
 * Display conventions: times in the market's own zone (Bogota, UTC-5, for USD/COP) and labelled
 * so, each with its offset where the zone changes offset over the run; prices with thousands separators
 * and the instrument's own decimals, labelled with its quote currency (2, COP per USD, for USD/COP;
 * 5, USD per EUR, for EUR/USD); a metric that is undefined shows as "n/a". Every text is escaped.
 */
import { findInstrument } from '../domain/symbol.ts';
import { DAY_MS, MARKET_ZONE, toZonedText, utcOffsetText, zoneCity } from '../domain/time.ts';
import type { BacktestResult, Trade } from './backtest.ts';
import type { GateReport, GateResult } from './gates.ts';
import type { PerformanceMetrics } from './performance.ts';

export interface BacktestReportInput {
  title: string;
  symbol: string;
  /** The market's IANA zone, the times' zone (default America/Bogota, USD/COP's). */
  zone?: string;
  policyId: string;
  /** When the report was made, epoch ms UTC (from a Clock). */
  generatedAt: number;
  /** The dataset's sha256 (null when the series did not come from a hashed dataset). */
  datasetHash: string | null;
  /** Anything that defines the run: costs, split, dates, options. */
  config: Readonly<Record<string, string | number | boolean | null>>;
  result: BacktestResult;
  metrics: PerformanceMetrics;
  gates?: GateReport | null;
  /** For a trained policy: how it was selected across seeds on the validation split (ppo/model-selection.ts); absent or null otherwise. */
  training?: TrainingSelectionView | null;
  /** Ledger rows shown at most: the first and last half when there are more trades (default 40). */
  maxTrades?: number;
}

/** What the report shows of a PPO training's selection (a PpoSelection, as stored in the model's metadata). */
export interface TrainingSelectionView {
  chosenSeed: number;
  verdict: string;
  seeds: ReadonlyArray<{
    seed: number;
    stoppedBy: string;
    bestIteration: number;
    bestSteps: number;
    validation: { meanReward: number } | null;
    test: { meanReward: number } | null;
  }>;
  validation: SpreadView | null;
  test: SpreadView | null;
}

interface SpreadView {
  mean: number;
  min: number;
  max: number;
  std: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const NA = '<span class="na" title="undefined for this run">n/a</span>';
const PRICE = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const UNITS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 6, maximumFractionDigits: 6 });
/** Axis labels must fit the margin: 4,000,000,000 COP reads 4B, growth of 1 reads 1.0234. */
const AXIS = new Intl.NumberFormat('en-US', { notation: 'compact', maximumSignificantDigits: 5 });
const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** How the ledger shows the symbol's prices: in its quote currency, with its own decimals. */
interface PriceStyle {
  quote: string;
  format(x: number): string;
}

function priceStyle(symbol: string): PriceStyle {
  // A symbol outside the configured instruments (a research file of another market) keeps the
  // quote its name gives and 2 decimals.
  const instrument = findInstrument(symbol);
  const decimals = instrument?.decimals ?? 2;
  const formatter = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return { quote: instrument?.quote ?? symbol.split('/')[1] ?? symbol, format: (x) => formatter.format(x) };
}

function percent(x: number | null): string {
  return x === null ? NA : `${(x * 100).toFixed(2)}%`;
}

function ratio(x: number | null): string {
  return x === null ? NA : x.toFixed(2);
}

/** A small return in basis points, e.g. a trade's: "-3.2 bps". */
function bps(x: number | null): string {
  return x === null ? NA : `${(x * 1e4).toFixed(1)} bps`;
}

function count(x: number | null): string {
  return x === null ? NA : COUNT.format(x);
}

/** Money in account units: 2 decimals for a money notional, more when the curve is growth of 1. */
function money(x: number, initialEquity: number): string {
  return (initialEquity >= 1000 ? PRICE : UNITS).format(x);
}

/** How the report shows times: in one zone, named once in the summary and in the ledger's headers. */
interface TimeLabels {
  /** Wall time with its offset. */
  at(t: number): string;
  /** Wall time to the minute, for table cells whose header carries the zone. */
  minute(t: number): string;
  /** The zone as the summary names it, e.g. `America/Bogota (UTC−5)`. */
  zone: string;
  /** The zone as a ledger header names it, e.g. `Bogotá, UTC−5`. */
  place: string;
}

/** Offsets sampled this often over a run to tell whether the zone keeps one (no DST) through it. */
const OFFSET_SAMPLE_MS = 15 * DAY_MS;

function timeLabels(zone: string, times: ArrayLike<number>, generatedAt: number): TimeLabels {
  const offset = fixedOffset(zone, times, generatedAt);
  const city = zone === MARKET_ZONE ? 'Bogotá' : zoneCity(zone);
  return {
    at: (t) => escapeHtml(toZonedText(zone, t)),
    minute: (t) => escapeHtml(toZonedText(zone, t).slice(0, 16)),
    zone: offset === null ? `${zone} (UTC offset shown with each time)` : `${zone} (${offset})`,
    place: offset === null ? city : `${city}, ${offset}`,
  };
}

/** `UTC−5` when the zone keeps one offset over `times` and at `generatedAt`, else null; `−` is the minus sign. */
function fixedOffset(zone: string, times: ArrayLike<number>, generatedAt: number): string | null {
  const first = times.length === 0 ? generatedAt : times[0]!;
  const last = times.length === 0 ? generatedAt : times[times.length - 1]!;
  const offsets = new Set<string>([utcOffsetText(zone, generatedAt)]);
  for (let t = first; t < last; t += OFFSET_SAMPLE_MS) offsets.add(utcOffsetText(zone, t));
  offsets.add(utcOffsetText(zone, last));
  if (offsets.size > 1) return null;
  const [text] = [...offsets] as [string];
  const [hours, minutes] = [Number(text.slice(1, 3)), text.slice(4, 6)];
  return `UTC${text.startsWith('-') ? '−' : '+'}${hours}${minutes === '00' ? '' : `:${minutes}`}`;
}

function duration(ms: number | null): string {
  if (ms === null) return NA;
  const days = Math.floor(ms / 86_400_000);
  const hours = Math.floor((ms % 86_400_000) / 3_600_000);
  const minutes = Math.round((ms % 3_600_000) / 60_000);
  return `${days} d ${hours} h ${minutes} min`;
}

export function renderBacktestReport(input: BacktestReportInput): string {
  const title = escapeHtml(input.title);
  const labels = timeLabels(input.zone ?? MARKET_ZONE, input.result.times, input.generatedAt);
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<style>${REPORT_STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${title}</h1>`,
    summaryLine(input, labels),
    chartsSection(input.result, labels),
    metricsSection(input.metrics),
    costsSection(input.metrics),
    gatesSection(input.gates ?? null),
    trainingSection(input.training ?? null),
    ledgerSection(input.result, input.maxTrades ?? 40, labels, priceStyle(input.symbol)),
    configSection(input),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function summaryLine(input: BacktestReportInput, labels: TimeLabels): string {
  const { result } = input;
  const n = result.times.length;
  const span = n === 0 ? 'no bars' : `${labels.at(result.times[0]!)} to ${labels.at(result.times[n - 1]!)}`;
  return (
    `<p class="summary">${escapeHtml(input.symbol)} · policy <code>${escapeHtml(input.policyId)}</code> · ${n.toLocaleString('en-US')} bars, ${span} ` +
    `· generated ${labels.at(input.generatedAt)} · all times ${escapeHtml(labels.zone)}</p>`
  );
}

// ---------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------

const CHART_WIDTH = 960;
const CHART_HEIGHT = 240;
const PAD = { left: 80, right: 16, top: 12, bottom: 28 };
/** Points drawn per chart at most: each column keeps its min and max so no spike is lost. */
const MAX_COLUMNS = 600;

interface Scale {
  x: (i: number) => number;
  y: (v: number) => number;
}

function scale(n: number, min: number, max: number): Scale {
  const w = CHART_WIDTH - PAD.left - PAD.right;
  const h = CHART_HEIGHT - PAD.top - PAD.bottom;
  const span = max - min || 1;
  return {
    x: (i) => PAD.left + (n <= 1 ? 0 : (i / (n - 1)) * w),
    y: (v) => PAD.top + (1 - (v - min) / span) * h,
  };
}

/** Indices to draw: per column, the first, min and max points (in index order). */
function sampleIndices(values: Float64Array): number[] {
  const n = values.length;
  if (n <= MAX_COLUMNS * 2) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let c = 0; c < MAX_COLUMNS; c++) {
    const from = Math.floor((c * n) / MAX_COLUMNS);
    const to = Math.floor(((c + 1) * n) / MAX_COLUMNS);
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (values[i]! < values[lo]!) lo = i;
      if (values[i]! > values[hi]!) hi = i;
    }
    out.push(...[...new Set([from, lo, hi])].sort((a, b) => a - b));
  }
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

function extent(values: Float64Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

function drawdowns(equity: Float64Array, initialEquity: number): Float64Array {
  const out = new Float64Array(equity.length);
  let peak = initialEquity;
  for (let i = 0; i < equity.length; i++) {
    peak = Math.max(peak, equity[i]!);
    out[i] = -(1 - equity[i]! / peak);
  }
  return out;
}

function chart(label: string, values: Float64Array, times: Float64Array, format: (v: number) => string, area: boolean, labels: TimeLabels): string {
  const n = values.length;
  const [min, max] = area ? [Math.min(extent(values)[0], 0), 0] : extent(values);
  const s = scale(n, min, max);
  const points = sampleIndices(values).map((i) => `${s.x(i).toFixed(1)},${s.y(values[i]!).toFixed(1)}`);
  const path = area ? `M${s.x(0).toFixed(1)},${s.y(0).toFixed(1)} L${points.join(' L')} L${s.x(n - 1).toFixed(1)},${s.y(0).toFixed(1)} Z` : `M${points.join(' L')}`;
  const bottom = CHART_HEIGHT - PAD.bottom;
  return [
    `<figure><figcaption>${escapeHtml(label)}</figcaption>`,
    `<svg viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(label)}">`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${CHART_WIDTH - PAD.left - PAD.right}" height="${bottom - PAD.top}" class="frame"/>`,
    `<path d="${path}" class="${area ? 'area' : 'line'}"/>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + 10}" class="axis" text-anchor="end">${escapeHtml(format(max))}</text>`,
    `<text x="${PAD.left - 6}" y="${bottom}" class="axis" text-anchor="end">${escapeHtml(format(min))}</text>`,
    `<text x="${PAD.left}" y="${CHART_HEIGHT - 8}" class="axis">${labels.at(times[0]!)}</text>`,
    `<text x="${CHART_WIDTH - PAD.right}" y="${CHART_HEIGHT - 8}" class="axis" text-anchor="end">${labels.at(times[n - 1]!)}</text>`,
    '</svg></figure>',
  ].join('\n');
}

function chartsSection(result: BacktestResult, labels: TimeLabels): string {
  if (result.equity.length === 0) return '<section><h2>Equity</h2><p>No bars.</p></section>';
  const equityFormat = (v: number): string => AXIS.format(v);
  return [
    '<section><h2>Equity and drawdown</h2>',
    chart('Equity (marked at each bar close)', result.equity, result.times, equityFormat, false, labels),
    chart('Drawdown from the running peak', drawdowns(result.equity, result.initialEquity), result.times, (v) => `${(v * 100).toFixed(2)}%`, true, labels),
    '</section>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

function table(head: readonly string[], rows: readonly string[][], className = ''): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  // A one-cell row (e.g. "… n trades not shown …") spans the table.
  const cells = (r: readonly string[]): string => (r.length === 1 && head.length > 1 ? `<td colspan="${head.length}">${r[0]}</td>` : r.map((c) => `<td>${c}</td>`).join(''));
  const body = rows.map((r) => `<tr>${cells(r)}</tr>`).join('\n');
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function metricsSection(m: PerformanceMetrics): string {
  const rows: Array<[string, string]> = [
    ['Total return (net of costs)', percent(m.totalReturn)],
    ['Gross return (same positions, no costs)', percent(m.grossReturn ?? null)],
    ['CAGR', percent(m.cagr)],
    ['Annualized volatility', percent(m.annualizedVolatility)],
    ['Sharpe (rf = 0)', ratio(m.sharpe)],
    ['Sortino', ratio(m.sortino)],
    ['Max drawdown', percent(m.maxDrawdown)],
    ['Max drawdown duration (bars)', count(m.maxDrawdownBars)],
    ['Max drawdown duration (calendar)', `${duration(m.maxDrawdownMs)}${m.maxDrawdownRecovered === false ? ' (not recovered)' : ''}`],
    ['Calmar', ratio(m.calmar)],
    ['Win rate', percent(m.winRate)],
    ['Profit factor', ratio(m.profitFactor)],
    ['Exposure', percent(m.exposure)],
    ['Turnover (equity traded per year)', m.turnover === undefined || m.turnover === null ? NA : `${COUNT.format(m.turnover)}×`],
    ['Trades', count(m.tradeCount)],
    ['Expectancy (mean net return per trade)', bps(m.expectancy ?? null)],
    ['Average win', bps(m.averageWin ?? null)],
    ['Average loss', bps(m.averageLoss ?? null)],
    ['Average holding (bars)', count(m.averageHoldingBars)],
    ['Average holding (minutes)', count(m.averageHoldingMinutes)],
    ['Bars', count(m.bars)],
    ['Session bars per year (annualization)', count(m.barsPerYear)],
    ['Years of session bars', m.years.toFixed(3)],
  ];
  return `<section><h2>Metrics</h2>${table(['Metric', 'Value'], rows.map(([k, v]) => [escapeHtml(k), v]), 'metrics')}</section>`;
}

const PERCENT_GATES: ReadonlySet<GateResult['gate']> = new Set(['max-drawdown', 'cost-stress', 'excess-vs-best-baseline']);
const PROBABILITY_GATES: ReadonlySet<GateResult['gate']> = new Set(['probabilistic-sharpe', 'deflated-sharpe']);

function gateNumber(g: GateResult, x: number): string {
  if (PERCENT_GATES.has(g.gate)) return percent(x);
  if (PROBABILITY_GATES.has(g.gate)) return x.toFixed(3);
  return g.gate === 'min-trades' ? count(x) : ratio(x);
}

function gateValue(g: GateResult): string {
  return g.value === null ? NA : gateNumber(g, g.value);
}

function gateThreshold(g: GateResult): string {
  return `${escapeHtml(g.comparator)} ${gateNumber(g, g.threshold)}`;
}

function costsSection(m: PerformanceMetrics): string {
  const rows = (m.costSensitivity ?? []).map((c) => [`${c.factor}×`, escapeHtml(`${c.spreadBps} + ${c.feeBps}`), percent(c.totalReturn), ratio(c.sharpe)]);
  if (rows.length === 0) return '';
  const gross = `<p>Gross return (no costs) ${percent(m.grossReturn ?? null)}; net ${percent(m.totalReturn)}. The same positions rerun with the costs scaled:</p>`;
  return `<section><h2>Cost sensitivity</h2>${gross}${table(['Costs', 'Spread + fee (bps)', 'Net return', 'Sharpe'], rows, 'costs')}</section>`;
}

function significanceLine(report: GateReport): string {
  const s = report.significance;
  const best = report.bestBaseline ? `Best baseline over the span: <code>${escapeHtml(report.bestBaseline.policyId)}</code> ${percent(report.bestBaseline.totalReturn)}. ` : '';
  if (s === undefined || s === null) return best === '' ? '' : `<p>${best}</p>`;
  const p = (x: number | null): string => (x === null ? NA : x.toFixed(3));
  return (
    `<p>${best}Per-bar Sharpe ${s.perBarSharpe.toFixed(4)} over ${count(s.bars)} bars (skewness ${s.skewness.toFixed(2)}, kurtosis ${s.kurtosis.toFixed(2)}); ` +
    `PSR ${p(s.psr)}; ${count(s.trials)} trials with Sharpe variance ${s.trialSharpeVariance.toExponential(2)}, so luck alone gives the best of them a per-bar Sharpe of ` +
    `${s.expectedMaxSharpe.toFixed(4)}; DSR ${p(s.dsr)}.</p>`
  );
}

function gatesSection(report: GateReport | null): string {
  if (report === null) return '<section><h2>Production gates</h2><p>Not evaluated.</p></section>';
  const summary = report.passed ? 'All gates passed' : 'At least one gate failed';
  const verdict = `<p class="${report.passed ? 'pass' : 'fail'}">${summary}${report.verdict === undefined ? '.' : `: ${escapeHtml(report.verdict)}.`}</p>${significanceLine(report)}`;
  const rows = report.gates.map((g) => [
    escapeHtml(g.gate),
    escapeHtml(g.description),
    gateThreshold(g),
    gateValue(g),
    g.passed ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>',
  ]);
  return `<section><h2>Production gates</h2>${verdict}${table(['Gate', 'What', 'Threshold', 'Value', 'Result'], rows, 'gates')}</section>`;
}

function tradeRow(t: Trade, number: number, initialEquity: number, labels: TimeLabels, price: PriceStyle): string[] {
  return [
    String(number),
    t.side === 1 ? 'long' : 'short',
    labels.minute(t.entryTime),
    price.format(t.entryPrice),
    labels.minute(t.exitTime),
    price.format(t.exitPrice),
    escapeHtml(t.exitReason),
    String(t.barsHeld),
    money(t.pnl, initialEquity),
    percent(t.return),
    money(t.costs, initialEquity),
  ];
}

function ledgerSection(result: BacktestResult, maxTrades: number, labels: TimeLabels, price: PriceStyle): string {
  const trades = result.trades;
  const quote = escapeHtml(price.quote);
  const head = ['#', 'Side', `Entry (${labels.place})`, `Entry price (${quote})`, `Exit (${labels.place})`, `Exit price (${quote})`, 'Exit', 'Bars', 'P&L (net)', 'Return', 'Costs'];
  if (trades.length === 0) return '<section><h2>Trades</h2><p>No trades.</p></section>';
  const shown = Math.max(2, Math.floor(maxTrades));
  const rows: string[][] = [];
  if (trades.length <= shown) {
    trades.forEach((t, i) => rows.push(tradeRow(t, i + 1, result.initialEquity, labels, price)));
  } else {
    const first = Math.ceil(shown / 2);
    const last = shown - first;
    for (let i = 0; i < first; i++) rows.push(tradeRow(trades[i]!, i + 1, result.initialEquity, labels, price));
    rows.push([`… ${(trades.length - shown).toLocaleString('en-US')} trades not shown …`]);
    for (let i = trades.length - last; i < trades.length; i++) rows.push(tradeRow(trades[i]!, i + 1, result.initialEquity, labels, price));
  }
  const note = `<p>${trades.length.toLocaleString('en-US')} trades; P&amp;L and costs in account units (initial equity ${escapeHtml(money(result.initialEquity, result.initialEquity))}).</p>`;
  return `<section><h2>Trades</h2>${note}<div class="scroll">${table(head, rows, 'ledger')}</div></section>`;
}

/** Every seed's kept checkpoint on validation and test (mean net log return per session), their spread, and the verdict. */
function trainingSection(t: TrainingSelectionView | null): string {
  if (t === null) return '';
  const rows = t.seeds.map((s) => [
    `${s.seed}${s.seed === t.chosenSeed ? ' (chosen)' : ''}`,
    escapeHtml(s.stoppedBy),
    `${s.bestIteration} (${s.bestSteps.toLocaleString('en-US')} steps)`,
    bps(s.validation?.meanReward ?? null),
    bps(s.test?.meanReward ?? null),
  ]);
  for (const k of ['mean', 'min', 'max', 'std'] as const) rows.push([k, '', '', bps(t.validation?.[k] ?? null), bps(t.test?.[k] ?? null)]);
  const head = ['Seed', 'Stopped by', 'Kept checkpoint (iteration)', 'Validation per session', 'Test per session'];
  return `<section><h2>Training: seeds selected on the validation split</h2><p>${escapeHtml(t.verdict)} The test split was scored once per seed, after the choice.</p>${table(head, rows, 'training')}</section>`;
}

function configSection(input: BacktestReportInput): string {
  const rows: string[][] = [
    ['dataset hash', `<code>${input.datasetHash === null ? 'none' : escapeHtml(input.datasetHash)}</code>`],
    ['spread (bps per unit of position change)', escapeHtml(String(input.result.costs.spreadBps))],
    ['fee (bps per unit of position change)', escapeHtml(String(input.result.costs.feeBps))],
    ['flat at session end', escapeHtml(String(input.result.flatAtSessionEnd))],
    ['initial equity', escapeHtml(money(input.result.initialEquity, input.result.initialEquity))],
    ...Object.entries(input.config).map(([k, v]) => [escapeHtml(k), escapeHtml(v === null ? 'null' : String(v))]),
  ];
  return `<section><h2>Configuration</h2>${table(['Setting', 'Value'], rows, 'config')}</section>`;
}

/** The reports' stylesheet (also the walk-forward report's). */
export const REPORT_STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1040px;padding:0 16px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.summary{color:#566074;margin:0}
figure{margin:8px 0}figcaption{font-weight:600;margin-bottom:2px}svg{width:100%;height:auto;display:block}
.frame{fill:#fafbfd;stroke:#dde2ea}.line{fill:none;stroke:#1f5fbf;stroke-width:1.3}.area{fill:#e8a0a0;stroke:#b53a3a;stroke-width:1}
.axis{font-size:11px;fill:#566074}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{border-bottom:1px solid #eef1f5;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.metrics,.config{width:auto;min-width:420px}.config td{text-align:left}
th{background:#f3f5f9;font-weight:600}.ledger td:nth-child(2),.ledger td:nth-child(7),.gates td:nth-child(2),.gates th:nth-child(2){text-align:left}.ledger{font-size:12px}.ledger td{white-space:nowrap}.scroll{overflow-x:auto}.config th{text-align:left}
.costs{width:auto;min-width:420px}
.pass{color:#15803d;font-weight:600}.fail{color:#b91c1c;font-weight:600}.na{color:#8a93a6}
code{font-size:12px;word-break:break-all}
`;
