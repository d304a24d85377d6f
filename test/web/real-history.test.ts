/**
 * The desk in chromium (playwright-core) as a new user meets it: Tasa started on an empty store,
 * then the real 2020-2025 USD/COP file (../shared/data) imported into it through the project's
 * import (`importBarFile`, as `tasa import` does), after which live ingestion fills the latest
 * sessions from the simulator and streams. Checked: no view logs a console error on the empty
 * store nor on the full one; the 5-minute chart pages back to the first bar of 2020, draws the
 * missing sessions as breaks and marks the simulated bars; the crosshair legend gives indicator
 * values at 1h; the quality view covers 2020-2025 by month; at 390 px nothing is cut. One system
 * and one browser for the file.
 *
 * Skipped with a notice when the real file is absent; without chromium skipped too, except under CI.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { importBarFile } from '../../src/pipeline/import-bars.ts';
import { insertModel } from '../../src/store/models-repo.ts';
import { buildDashboard, CHROMIUM_ARGS, findChromium, REPO_ROOT, startFreshDashboard, type FreshDashboard } from './live-dashboard.ts';

interface PageElement {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
};

const CHROMIUM = findChromium();
const REAL_FILE = join(REPO_ROOT, '..', 'shared', 'data', 'usdcop_m5_2020-01_2025-06.csv.gz');
const HAS_FILE = existsSync(REAL_FILE);
if (!HAS_FILE) console.log(`# real-history: skipped, ${REAL_FILE} is absent`);
const CHART = '[data-testid=candle-chart]';
const LAPTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
/** Every view of the dashboard (paper trading is a panel of the terminal). */
const VIEWS = ['terminal', 'quality', 'pipeline', 'research', 'system'] as const;

/**
 * Elements cut at the page's width: drawn past the viewport's edges without a scrolling ancestor,
 * or whose content is wider than their box in a box that hides overflow. Runs in the page.
 */
const CLIPPED_IN_PAGE = `(() => {
  const out = [];
  const scrolls = (el) => { for (let a = el.parentElement; a; a = a.parentElement) { const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const name = (el) => el.getAttribute('data-testid') || (el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
  for (const el of document.querySelectorAll('main *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
    if ((r.right > innerWidth + 1 || r.left < -1) && !scrolls(el)) out.push(name(el) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right));
    const o = getComputedStyle(el).overflowX;
    if ((o === 'hidden' || o === 'clip') && el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'CANVAS' && !el.closest('[data-testid=candle-chart]') && getComputedStyle(el).textOverflow !== 'ellipsis') out.push(name(el) + ' hides ' + (el.scrollWidth - el.clientWidth) + ' px');
  }
  for (const el of document.querySelectorAll('main .badge, main th')) {
    const range = document.createRange();
    range.selectNodeContents(el);
    if (/^\\S+$/.test(el.textContent.trim()) && range.getClientRects().length > 1) out.push(name(el) + ' breaks the word ' + el.textContent.trim());
  }
  for (const el of document.querySelectorAll('main td')) {
    if (el.textContent.trim().length > 20 && el.getBoundingClientRect().width < 64) out.push(name(el) + ' squeezes ' + el.textContent.trim().slice(0, 20) + '... into ' + Math.round(el.getBoundingClientRect().width) + ' px');
  }
  return [...new Set(out)];
})()`;

interface Span {
  all: { bars: number; first: string | null; last: string | null };
  real: { bars: number; first: string | null; last: string | null };
}

async function chartAttr(page: Page, name: string): Promise<string> {
  return (await page.getAttribute(CHART, name)) ?? '';
}

/** Opens each view in turn, waiting for its data; returns the console errors and uncaught exceptions logged. */
async function visitEveryView(page: Page, url: string, check: (view: string) => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  for (const view of VIEWS) {
    await page.goto(`${url}/#/${view}`);
    await page.waitForSelector(`main[data-view="${view}"]`);
    await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => undefined);
    await page.waitForTimeout(500);
    await check(view);
  }
  return errors;
}

/** What `view` cuts at 390 px: the page wider than the screen, or elements cut (CLIPPED_IN_PAGE). */
async function cutAtPhoneWidth(page: Page, view: string): Promise<string[]> {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  const cut = scroll > client ? [`the page is ${scroll} px wide`] : [];
  cut.push(...(await page.evaluate<string[]>(CLIPPED_IN_PAGE)));
  return cut.map((c) => `${view}: ${c}`);
}

/** Drags the chart towards older bars until the first stored bar is drawn. */
async function dragToFirst(page: Page, first: string): Promise<number> {
  const box = await page.locator(CHART).boundingBox();
  assert.ok(box, 'the chart has a box');
  const y = box.y + box.height * 0.3;
  for (let drags = 1; drags <= 40; drags++) {
    await page.mouse.move(box.x + 40, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 80, y, { steps: 4 });
    await page.mouse.up();
    await page.waitForTimeout(200);
    if ((await chartAttr(page, 'data-first-time')) === first) return drags;
  }
  assert.fail(`the chart never reached the first stored bar ${first}; it starts at ${await chartAttr(page, 'data-first-time')}`);
}

describe('the desk on the real 2020-2025 history, from an empty store', { skip: !HAS_FILE || (CHROMIUM === null && !process.env['CI']), timeout: 900_000 }, () => {
  let dash: FreshDashboard;
  let browser: Browser;
  let span: Span;

  before(async () => {
    assert.ok(CHROMIUM, 'CI needs chromium at /usr/bin/chromium');
    await buildDashboard();
    // Real-time speed: live bars form without a fast clock loading the machine.
    dash = await startFreshDashboard({ speed: 1 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await dash?.stop();
  });

  it('shows every view of an empty store at 390 px without a console error or cut content', async () => {
    const empty = (await (await fetch(`${dash.url}/api/history/USD%2FCOP/span`)).json()) as Span;
    assert.equal(empty.all.bars, 0, 'the store is empty');
    const page = await browser.newPage({ viewport: PHONE });
    const cut: string[] = [];
    const errors = await visitEveryView(page, dash.url, async (view) => {
      cut.push(...(await cutAtPhoneWidth(page, view)));
    });
    assert.deepEqual(cut, [], 'nothing is cut at 390 px');
    assert.deepEqual(errors, [], 'no view logs a console error on an empty store');
    await page.close();
  });

  it('imports the real file, then pages the 5-minute chart back to its first bar in 2020, with breaks and the simulated bars marked', async () => {
    const summary = await importBarFile(dash.system.db, dash.calendar, REAL_FILE, { symbol: 'USD/COP', actor: 'browser-test' });
    assert.ok(summary.bars.inserted > 70_000, `the file's bars are stored (${summary.bars.inserted})`);
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/terminal`);
    // Live ingestion saw the history, filled the latest sessions from the simulator and streams: both provenances on the chart.
    await page.waitForFunction((sel) => /imported:\d+.*simulated:\d+/.test(document.querySelector(sel)?.getAttribute('data-sources') ?? ''), CHART, { timeout: 120_000, polling: 1000 });
    span = (await (await fetch(`${dash.url}/api/history/USD%2FCOP/span`)).json()) as Span;
    assert.match(span.real.first ?? '', /^2020-01-02T13:/, 'the real history starts on 2020-01-02');
    assert.ok(Number(await chartAttr(page, 'data-breaks')) >= 1, 'the series breaks where simulated bars follow real ones');
    // Holes need the calendar's trading days of the span held, which the chart asks for after its candles.
    const holes = await page
      .waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-holes') ?? '0') >= 1, CHART, { timeout: 30_000, polling: 250 })
      .then(
        () => true,
        () => false,
      );
    const shown = await page.evaluate((sel) => JSON.stringify((document.querySelector(sel) as unknown as { dataset: Record<string, string> } | null)?.dataset ?? null), CHART);
    assert.ok(holes, `the sessions missing between June 2025 and the live session are drawn as a break (chart: ${shown})`);
    assert.match((await page.textContent('[data-testid=chart-provenance]')) ?? '', /simulated/);
    // Into 2020 with the date picker, then back page by page to the first stored bar.
    await page.fill('[data-testid=goto-date]', '2020-01-20');
    await page.click('form.goto button[type=submit]');
    await page.waitForFunction((sel) => (document.querySelector(sel)?.getAttribute('data-first-time') ?? '').startsWith('2020-01'), CHART, { timeout: 30_000 });
    const first = span.all.first ?? '';
    const drags = await dragToFirst(page, first);
    assert.match(first, /^2020-01-02T/);
    assert.equal(await page.textContent('[data-testid=chart-window]').then((t) => t?.startsWith('From the first stored bar')), true, `after ${drags} drags the chart says it reached the first stored bar`);
    assert.ok(Number(await chartAttr(page, 'data-holes')) >= 1, 'missing sessions of early 2020 are drawn as breaks');
    await page.close();
  });

  it('gives the indicator values of the candle under the crosshair at 1h', async () => {
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/terminal`);
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-candles')) > 0, CHART, { timeout: 30_000 });
    await page.click('button:text-is("1h")');
    await page.waitForFunction((sel) => (document.querySelector(sel)?.getAttribute('data-window') ?? '').startsWith('1h:'), CHART, { timeout: 30_000 });
    const box = await page.locator(CHART).boundingBox();
    assert.ok(box, 'the chart has a box');
    // The middle of the view: a stored candle (the newest ones are live and have no stored indicators yet).
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
    await page.waitForSelector('[data-testid=legend-indicators]', { timeout: 10_000 });
    const legend = (await page.textContent('[data-testid=chart-legend]')) ?? '';
    assert.match(legend, / O [\d,.]+ H [\d,.]+ L [\d,.]+ C [\d,.]+/, `the legend gives the candle: ${legend}`);
    assert.match(legend, /EMA 20 [\d,.]+.*RSI 14 -?[\d.]+.*MACD -?[\d.]+/, `the legend gives the indicator values: ${legend}`);
    await page.close();
  });

  it('covers 2020-2025 by month in the quality view, saying where the real history ends', async () => {
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/quality`);
    await page.click('[data-testid=period-all]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=quality-period]')?.textContent ?? '').startsWith('Sessions 2020-01-02 to'), null, { timeout: 30_000 });
    await page.waitForSelector('[data-testid=month-heatmap]');
    const months = await page.locator('[data-testid=month-heatmap] [data-month]:not([disabled])').count();
    // January 2020 to June 2025 is 66 months, plus the live months of 2026.
    assert.ok(months >= 66, `the heatmap has a cell for every month with sessions: ${months}`);
    assert.equal(await page.getAttribute('[data-month="2020-01"]', 'data-level') !== 'none', true, 'January 2020 has its coverage');
    // The file runs to 2025-06-30, a holiday (Saint Peter and Saint Paul, moved to Monday): the real history ends on the session before.
    const lastSession = dash.calendar.sessionsBetween('2025-06-16', '2025-06-30').at(-1)?.date;
    assert.equal(await page.textContent('[data-testid=history-ends]'), lastSession);
    await page.close();
  });

  it('shows every view of the full store at 390 px without a console error or cut content', async () => {
    // A model in the registry, so the research view's tables and badges are drawn too.
    await insertModel(dash.system.db, { id: 'sma-crossover', kind: 'baseline', symbol: 'USD/COP', datasetHash: null, config: { baseline: 'sma-crossover' }, metrics: {}, trainingCurve: [], weights: null, createdAt: dash.system.clock.now() });
    const page = await browser.newPage({ viewport: PHONE });
    const cut: string[] = [];
    const errors = await visitEveryView(page, dash.url, async (view) => {
      cut.push(...(await cutAtPhoneWidth(page, view)));
    });
    assert.deepEqual(cut, [], 'nothing is cut at 390 px');
    assert.deepEqual(errors, [], 'no view logs a console error on the full store');
    await page.close();
  });
});
