/**
 * Several instruments in chromium (playwright-core) against a real Tasa serving USD/COP, USD/BRL
 * and EUR/USD from the built-in simulator on a simulated clock (live-dashboard.ts, fresh store):
 * the watchlist lists the three with a price or an honest "no price yet" and each market's
 * status; clicking USD/BRL switches the terminal's title, its chart requests and its WebSocket
 * subscription to USD/BRL and its times to America/Sao_Paulo; the choice survives a reload; no
 * console errors. USD/COP's price moves in the watchlist from the WebSocket; live ticks are not
 * required for the other symbols (the watchlist says "no price yet" until their first tick).
 *
 * Without chromium the suite is skipped with a notice, except under CI, where it fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { buildDashboard, CHROMIUM_ARGS, findChromium, startFreshDashboard, type FreshDashboard } from './live-dashboard.ts';

interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): PageElement | null };

const CHROMIUM = findChromium();
const SYMBOLS = ['USD/COP', 'USD/BRL', 'EUR/USD'];
const ROW = '[data-testid=watchlist-row]';

describe('the watchlist and the selected instrument in chromium', { skip: CHROMIUM === null && !process.env['CI'], timeout: 120_000 }, () => {
  let dash: FreshDashboard;
  let browser: Browser;

  before(async () => {
    assert.ok(CHROMIUM, 'CI needs chromium at /usr/bin/chromium');
    await buildDashboard();
    // No wait for history: live ingestion starts at once, so ticks flow for the symbols the feed serves.
    dash = await startFreshDashboard({ symbols: SYMBOLS, speed: 1, env: { TASA_HISTORY_WAIT_MS: '0' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await dash?.stop();
  });

  it('lists every instrument, and a click switches the terminal, its chart requests, its socket and its times to USD/BRL', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    const candleRequests: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/api/candlesticks/')) candleRequests.push(decodeURIComponent(url.pathname));
    });
    const subscribed: string[][] = [];
    page.on('websocket', (ws) =>
      ws.on('framesent', (frame) => {
        const sent = JSON.parse(String(frame.payload)) as { action?: string; symbols?: string[]; channels?: string[] };
        if (sent.action === 'subscribe' && sent.channels?.includes('bars') === true) subscribed.push(sent.symbols ?? []);
      }),
    );

    await page.goto(`${dash.url}/#/terminal`);
    await page.waitForFunction((sel) => document.querySelector(`${sel}:nth-child(3)`) !== null, ROW);
    const rows = page.locator(ROW);
    assert.deepEqual(await rows.evaluateAll((els: PageElement[]) => els.map((e) => e.getAttribute('data-symbol'))), SYMBOLS);
    for (const symbol of SYMBOLS) {
      const row = page.locator(`${ROW}[data-symbol="${symbol}"]`);
      // A price, or an honest "no price yet" (a symbol whose first tick has not come): never a made-up number.
      assert.match((await row.locator('[data-testid=watchlist-last]').textContent()) ?? '', /^([\d,]+\.\d+|no price yet)$/, symbol);
      assert.match((await row.locator('[data-testid=watchlist-market]').textContent()) ?? '', /^(open|closed) (closes|opens) \d{4}-\d{2}-\d{2} \d{2}:\d{2} America\//, symbol);
    }
    // USD/COP's price moves with its ticks, faster than the list reloads (30 s): the watchlist's socket moves it.
    const copLast = `${ROW}[data-symbol="USD/COP"] [data-testid=watchlist-last]`;
    await page.waitForFunction((sel) => /^[\d,]+\.\d+$/.test(document.querySelector(sel)?.textContent ?? ''), copLast, { timeout: 15_000 });
    const firstPrice = await page.textContent(copLast);
    await page.waitForFunction(([sel, first]) => document.querySelector(sel as string)?.textContent !== first, [copLast, firstPrice] as const, { timeout: 15_000 });
    assert.equal(await page.textContent('[data-testid=terminal-symbol]'), 'USD/COP', 'the first served symbol is selected at first');
    await page.waitForFunction(() => /America\/Bogota/.test(document.querySelector('[data-testid=clock]')?.textContent ?? ''));
    assert.ok(candleRequests.some((p) => p.startsWith('/api/candlesticks/USD/COP')), 'the chart asked for USD/COP');

    candleRequests.length = 0;
    await page.click(`${ROW}[data-symbol="USD/BRL"]`);
    await page.waitForFunction(() => document.querySelector('[data-testid=terminal-symbol]')?.textContent === 'USD/BRL');
    assert.match((await page.textContent('[data-testid=selected-symbol]')) ?? '', /USD\/BRL/);
    assert.equal(await page.getAttribute(`${ROW}[data-symbol="USD/BRL"]`, 'aria-selected'), 'true');
    await page.waitForFunction(() => /America\/Sao_Paulo/.test(document.querySelector('[data-testid=clock]')?.textContent ?? ''));
    assert.match((await page.getAttribute('[data-testid=candle-chart]', 'aria-label')) ?? '', /^USD\/BRL candlestick chart, times in America\/Sao_Paulo$/);
    assert.match((await page.textContent('[data-testid=chart-legend]')) ?? '', /Times in America\/Sao_Paulo/);
    await page.waitForFunction(() => document.querySelector('[data-testid=candle-chart]')?.getAttribute('data-symbol') === 'USD/BRL');
    assert.ok(candleRequests.length > 0, 'the chart reloaded');
    assert.ok(candleRequests.every((p) => p.startsWith('/api/candlesticks/USD/BRL')), `every chart request after the click is USD/BRL's: ${candleRequests.join(', ')}`);
    assert.deepEqual(subscribed.at(-1), ['USD/BRL'], 'the terminal socket subscribed to USD/BRL');

    t.diagnostic(`watchlist: ${(await rows.evaluateAll((els: PageElement[]) => els.map((e) => e.textContent))).join(' | ')}`);
    if (process.env['TASA_SHOT'] !== undefined) await page.screenshot({ path: process.env['TASA_SHOT'] });

    // The choice is kept in this browser.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-testid=terminal-symbol]')?.textContent === 'USD/BRL');
    assert.deepEqual(consoleErrors, [], 'no console errors');
    await page.close();
  });
});
