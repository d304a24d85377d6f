/**
 * The walk-forward report for people: a self-contained HTML page (one chart with every policy's
 * stitched out-of-sample equity, the summary per policy, the per-fold table, the spread of a
 * trained policy's seeds per fold and each fold's gate results) and the same tables in Markdown. Pure: the caller passes when it was made.
 */
import { escapeHtml, REPORT_STYLE } from './backtest-report.ts';
import type { FoldResult, WalkForwardReport } from './walk-forward-evaluation.ts';

export interface WalkForwardReportMeta {
  generatedAt: number;
  datasetHash: string | null;
  researchHash: string | null;
  costs: { spreadBps: number; feeBps: number; slippageBps?: number };
  /** With the spread "from-ticks": the half-spread each fold was charged, in fold order (replaces costs.spreadBps). */
  foldSpreadsBps?: readonly number[];
}

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const two = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(2));

const SUMMARY_HEAD = ['Policy', 'Stitched return', 'Mean Sharpe', 'Median Sharpe', 'Sharpe sd', 'Positive folds', 'Beat best baseline', 'Gates passed', 'Pooled PSR', 'Pooled DSR'];
const FOLD_HEAD = ['Fold', 'Train', 'Validation', 'Test', 'Policy', 'Net return', 'Gross return', 'Sharpe', 'Max drawdown', 'Trades', 'Turnover', 'DSR', 'Gates'];

function summaryRows(r: WalkForwardReport): string[][] {
  return r.policies.map((p) => [
    p.policyId,
    pct(p.stitchedReturn),
    two(p.meanSharpe),
    two(p.medianSharpe),
    two(p.sharpeStdev),
    `${p.positiveFolds}/${p.folds}`,
    `${p.beatBestBaselineFolds}/${p.folds}`,
    `${p.passedFolds}/${p.folds}`,
    two(p.pooledPsr),
    two(p.pooledDsr),
  ]);
}

function foldRows(f: FoldResult): string[][] {
  const w = f.fold;
  return f.policies.map((p) => [
    String(w.index + 1),
    `${w.train.from}..${w.train.to} (${w.train.sessions})`,
    `${w.validation.from}..${w.validation.to} (${w.validation.sessions})`,
    `${w.test.from}..${w.test.to} (${w.test.sessions})`,
    p.policyId,
    pct(p.totalReturn),
    pct(p.grossReturn),
    two(p.sharpe),
    pct(p.maxDrawdown),
    String(p.trades),
    two(p.turnover),
    two(p.dsr),
    p.passed ? 'passed' : `failed: ${p.gates.filter((g) => !g.passed).map((g) => g.gate).join(', ')}`,
  ]);
}

const SEEDS_HEAD = ['Fold', 'Policy', 'Seeds', 'Chosen seed', 'Validation per session (mean, sd, min..max)', 'Test per session (mean, sd, min..max)', 'Selection'];
const bps = (x: number): string => `${(x * 1e4).toFixed(1)} bps`;

/** Each trained policy's seeds in each fold: their validation and test scores (mean net log return per session). */
function seedRows(f: FoldResult): string[][] {
  const spread = (s: { mean: number; std: number; min: number; max: number } | null) => (s === null ? 'n/a' : `${bps(s.mean)}, ${bps(s.std)}, ${bps(s.min)}..${bps(s.max)}`);
  return f.policies.flatMap((p) =>
    p.training === undefined ? [] : [[String(f.fold.index + 1), p.policyId, String(p.training.seeds.length), String(p.training.chosenSeed), spread(p.training.validation), spread(p.training.test), p.training.verdict]],
  );
}

function htmlTable(head: readonly string[], rows: readonly string[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

const WIDTH = 960;
const HEIGHT = 320;
const PAD = { left: 64, right: 16, top: 12, bottom: 28 };
const COLORS = ['#1f5fbf', '#b53a3a', '#15803d', '#9a6700', '#7c3aed', '#0e7490', '#be185d', '#4b5563'];

/** Every policy's stitched equity on one chart, with a legend; a dashed line at 1. */
function equityChart(r: WalkForwardReport): string {
  const ids = Object.keys(r.equity.curves);
  const all = ids.flatMap((id) => r.equity.curves[id]!);
  const n = r.equity.sessions.length;
  if (n === 0) return '<p>No out-of-sample session.</p>';
  const min = Math.min(1, ...all);
  const max = Math.max(1, ...all);
  const x = (i: number) => PAD.left + (n === 1 ? 0 : (i / (n - 1)) * (WIDTH - PAD.left - PAD.right));
  const y = (v: number) => PAD.top + (1 - (v - min) / (max - min || 1)) * (HEIGHT - PAD.top - PAD.bottom);
  const paths = ids.map((id, j) => {
    const d = r.equity.curves[id]!.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${COLORS[j % COLORS.length]}" stroke-width="1.3"><title>${escapeHtml(id)}</title></path>`;
  });
  const legend = ids.map((id, j) => `<span style="color:${COLORS[j % COLORS.length]}">&#9632; ${escapeHtml(id)}</span>`).join(' &nbsp; ');
  const bottom = HEIGHT - PAD.bottom;
  return [
    '<figure><figcaption>Stitched out-of-sample equity (growth of 1, each test window chained onto the previous)</figcaption>',
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="stitched out-of-sample equity of every policy">`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${WIDTH - PAD.left - PAD.right}" height="${bottom - PAD.top}" class="frame"/>`,
    `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#8a93a6" stroke-dasharray="4 3"/>`,
    ...paths,
    `<text x="${PAD.left - 6}" y="${PAD.top + 10}" class="axis" text-anchor="end">${max.toFixed(3)}</text>`,
    `<text x="${PAD.left - 6}" y="${bottom}" class="axis" text-anchor="end">${min.toFixed(3)}</text>`,
    `<text x="${PAD.left}" y="${HEIGHT - 8}" class="axis">${r.equity.sessions[0]}</text>`,
    `<text x="${WIDTH - PAD.right}" y="${HEIGHT - 8}" class="axis" text-anchor="end">${r.equity.sessions[n - 1]}</text>`,
    `</svg><p>${legend}</p></figure>`,
  ].join('\n');
}

function setup(r: WalkForwardReport, meta: WalkForwardReportMeta): string {
  const c = meta.costs;
  const spreads = meta.foldSpreadsBps;
  const spread = spreads === undefined ? `${c.spreadBps}` : `[${spreads.map((s) => two(s)).join(', ')} by fold, each estimated from the quotes before its test window]`;
  return `${r.folds.length} ${r.mode} folds, costs ${spread} + ${c.feeBps} + ${c.slippageBps ?? 0} bps (half-spread + fee + slippage) per unit of position change, ${r.trials} trials, confidence ${r.confidence}`;
}

export function renderWalkForwardHtml(r: WalkForwardReport, meta: WalkForwardReportMeta): string {
  const title = `Walk-forward · ${r.symbol} · ${r.equity.sessions[0] ?? ''} to ${r.equity.sessions[r.equity.sessions.length - 1] ?? ''}`;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title><style>${REPORT_STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="summary">${escapeHtml(setup(r, meta))}. Made ${new Date(meta.generatedAt).toISOString()}; dataset <code>${escapeHtml(meta.datasetHash ?? 'n/a')}</code>; research config <code>${escapeHtml(meta.researchHash ?? 'n/a')}</code>.</p>`,
    `<h2>Verdict</h2><p><strong>${escapeHtml(r.verdict)}</strong></p>`,
    `<ul>${r.policies.map((p) => `<li><strong>${escapeHtml(p.policyId)}</strong>: ${escapeHtml(p.verdict)}</li>`).join('')}</ul>`,
    `<h2>Equity</h2>${equityChart(r)}`,
    `<h2>Policies over all folds</h2>${htmlTable(SUMMARY_HEAD, summaryRows(r))}`,
    `<h2>Per fold</h2>${htmlTable(FOLD_HEAD, r.folds.flatMap(foldRows))}`,
    ...seedsSection(r, (rows) => `<h2>Trained policies' seeds per fold</h2><p>Chosen on the fold's validation window; the test window was scored once per seed, after the choice.</p>${htmlTable(SEEDS_HEAD, rows)}`),
    `<h2>Gates per fold</h2>${r.folds.map(foldGates).join('\n')}`,
    '</body></html>',
  ].join('\n');
}

/** The seeds section, or nothing when no policy was trained. */
function seedsSection(r: WalkForwardReport, render: (rows: string[][]) => string): string[] {
  const rows = r.folds.flatMap(seedRows);
  return rows.length === 0 ? [] : [render(rows)];
}

function foldGates(f: FoldResult): string {
  const gates = f.policies[0]?.gates.map((g) => g.gate) ?? [];
  const rows = f.policies.map((p) => [p.policyId, ...p.gates.map((g) => `${g.passed ? 'ok' : 'FAIL'} ${g.value === null ? 'n/a' : g.value.toFixed(3)}`), p.verdict]);
  return `<h3>Fold ${f.fold.index + 1}: test ${f.fold.test.from}..${f.fold.test.to}</h3>${htmlTable(['Policy', ...gates, 'Verdict'], rows)}`;
}

function markdownTable(head: readonly string[], rows: readonly string[][]): string {
  const cell = (c: string) => c.replaceAll('|', '\\|');
  return [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function renderWalkForwardMarkdown(r: WalkForwardReport, meta: WalkForwardReportMeta): string {
  return [
    `# Walk-forward: ${r.symbol}`,
    '',
    `${setup(r, meta)}.`,
    '',
    `**${r.verdict}**`,
    '',
    ...r.policies.map((p) => `- **${p.policyId}**: ${p.verdict}`),
    '',
    '## Policies over all folds',
    '',
    markdownTable(SUMMARY_HEAD, summaryRows(r)),
    '',
    '## Per fold',
    '',
    markdownTable(FOLD_HEAD, r.folds.flatMap(foldRows)),
    '',
    ...seedsSection(r, (rows) => `## Trained policies' seeds per fold\n\n${markdownTable(SEEDS_HEAD, rows)}\n`),
  ].join('\n');
}
