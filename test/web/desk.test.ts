/**
 * The desk in chromium (playwright-core) against a real Tasa with imported history and a live
 * simulated bars (live-dashboard.ts): the 5-minute chart scrolls back to the first stored bar page
 * by page, a missing session is drawn as a break, the simulated bars are marked, the crosshair
 * legend gives indicator values at 1h, the quality view covers the whole history and says where it
 * ends, and no view logs a console error or clips content at 390 px. One browser for the file.
 *
 * Without chromium the suite is skipped with a notice, except under CI, where it fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildDashboard, CHROMIUM_ARGS, findChromium, startLiveDashboard, type LiveDashboard } from './live-dashboard.ts';

interface PageElement {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
  getBoundingClientRect(): { readonly width: number };
  closest(selector: string): PageElement | null;
}
declare const innerWidth: number;
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
};

const CHROMIUM = findChromium();
const CHART = '[data-testid=candle-chart]';
const PHONE = { width: 390, height: 844 };
const VIEWS = ['terminal', 'quality', 'pipeline', 'research', 'system'] as const;

interface Span {
  all: { bars: number; first: string | null; last: string | null };
  real: { bars: number; first: string | null; last: string | null };
}

async function chartAttr(page: Page, name: string): Promise<string> {
  return (await page.getAttribute(CHART, name)) ?? '';
}

/** Drags the chart to the right (towards older bars) until the first stored bar is drawn. */
async function scrollToFirst(page: Page, first: string): Promise<number> {
  const box = await page.locator(CHART).boundingBox();
  assert.ok(box, 'the chart has a box');
  const y = box.y + box.height * 0.3;
  for (let drags = 1; drags <= 80; drags++) {
    await page.mouse.move(box.x + 40, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 80, y, { steps: 4 });
    await page.mouse.up();
    await page.waitForTimeout(150);
    if ((await chartAttr(page, 'data-first-time')) === first) return drags;
  }
  assert.fail(`the chart never reached the first stored bar ${first}; it starts at ${await chartAttr(page, 'data-first-time')}`);
}

describe('the desk in chromium: history, sources, quality, phone width', { skip: CHROMIUM === null && !process.env['CI'], timeout: 300_000 }, () => {
  let dash: LiveDashboard;
  let browser: Browser;
  let span: Span;

  before(async () => {
    assert.ok(CHROMIUM, 'CI needs chromium at /usr/bin/chromium');
    await buildDashboard();
    // Real-time speed: the live simulated bar forms (and is marked) without a fast clock loading the machine.
    dash = await startLiveDashboard({ speed: 1 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    span = (await (await fetch(`${dash.url}/api/history/USD%2FCOP/span`)).json()) as Span;
  });

  after(async () => {
    await browser?.close();
    await dash?.stop();
  });

  it('scrolls the 5-minute chart back to the first imported bar, drawing the missing session as a break and the simulated bars apart', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${dash.url}/#/terminal`);
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-candles')) > 0, CHART, { timeout: 30_000 });
    const first = span.all.first;
    assert.ok(first !== null && span.real.bars > 3000, `the seeded history is imported (${span.real.bars} bars)`);
    const initial = Number(await chartAttr(page, 'data-candles'));
    assert.ok(initial < span.all.bars, `the first page (${initial}) holds less than the history (${span.all.bars})`);
    const drags = await scrollToFirst(page, first);
    const held = Number(await chartAttr(page, 'data-candles'));
    assert.ok(held >= span.all.bars - 5, `after ${drags} drags the chart holds the whole history: ${held} of ${span.all.bars} bars`);
    // The absent session is a hole drawn as a break, with its label.
    assert.ok(Number(await chartAttr(page, 'data-holes')) >= 1, 'a missing session is drawn as a break');
    // Imported bars and the live simulator's, each counted by source, and the legend says what the colours mean.
    await page.waitForFunction((sel) => /imported:\d+.*simulated:\d+/.test(document.querySelector(sel)?.getAttribute('data-sources') ?? ''), CHART, { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid=source-legend]')) ?? '', /vendor.*backfilled.*imported.*simulated.*partial/);
    await page.close();
  });

  it('covers the whole stored history in the quality view, saying where it ends and how to fill what is missing', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${dash.url}/#/quality`);
    await page.click('[data-testid=period-all]');
    const firstDate = new Date(Date.parse(span.all.first ?? '') - 5 * 3_600_000).toISOString().slice(0, 10);
    await page.waitForFunction((from) => (document.querySelector('[data-testid=quality-period]')?.textContent ?? '').startsWith(`Sessions ${from} to`), firstDate);
    await page.waitForSelector('[data-testid=history-ends]');
    const realLast = new Date(Date.parse(span.real.last ?? '') - 5 * 3_600_000).toISOString().slice(0, 10);
    assert.equal(await page.textContent('[data-testid=history-ends]'), realLast);
    assert.match((await page.textContent('[data-testid=fill-hint]')) ?? '', new RegExp(`npx tasa backfill --symbol USD/COP --from ${dash.flaws.absent}`));
    await page.close();
  });

  it('shows every view at 390 px without a console error, page overflow or a table that hides its columns', async () => {
    const page = await browser.newPage({ viewport: PHONE });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
    });
    for (const view of VIEWS) {
      await page.goto(`${dash.url}/#/${view}`);
      await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => undefined);
      await page.waitForTimeout(300);
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      assert.ok(scroll <= client, `${view} at 390 px overflows the page: ${scroll} > ${client}`);
      // A table wider than the screen scrolls inside its wrapper instead of being cut.
      const clipped = await page.evaluate(() => {
        const out: string[] = [];
        const tables = document.querySelectorAll('table');
        for (let i = 0; i < tables.length; i++) {
          const t = tables[i]!;
          if (t.getBoundingClientRect().width > innerWidth && t.closest('.table-wrap') === null) out.push(t.getAttribute('data-testid') ?? `table ${i}`);
        }
        return out;
      });
      assert.deepEqual(clipped, [], `${view}: tables cut at 390 px`);
      assert.equal(await page.getAttribute('[data-testid=clock]', 'data-simulated'), 'true', `${view} says the clock is simulated`);
    }
    assert.deepEqual(errors, [], 'no view logs a console error');
    await page.close();
  });
});
