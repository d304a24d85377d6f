/**
 * Makes the screenshots of the dashboard in docs/img/: every view at 1440 px and at 390 px wide
 * (`<view>-1440.png`, `<view>-390.png`; the README shows `terminal-1440.png`). Builds the
 * dashboard, starts Tasa as `npm start` does (simulator, embedded store, a simulated session at
 * 60x) with imported history, backtests and a model (test/web/live-dashboard.ts), lets live bars
 * form for a few seconds in Debian's chromium, then saves each view. Prints the bundle size and
 * the time to the first candle.
 *
 *   node --import tsx scripts/screenshot.ts [output directory]
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { buildDashboard, CHROMIUM_ARGS, findChromium, REPO_ROOT, startLiveDashboard } from '../test/web/live-dashboard.ts';

/** Real seconds of live session before the pictures: at 60x, six 5-minute bars. */
const LIVE_SECONDS = 30;
const VIEWS = ['terminal', 'quality', 'pipeline', 'research', 'system'] as const;
const WIDTHS = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 },
] as const;

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? join(REPO_ROOT, 'docs', 'img'));
  const executablePath = findChromium();
  if (executablePath === null) throw new Error('chromium is not installed: apt-get install chromium');
  const bundle = await buildDashboard();
  const dash = await startLiveDashboard({ speed: 60 });
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    mkdirSync(dir, { recursive: true });
    const firstCandleMs = await waitForLiveBars(browser, dash.url);
    for (const viewport of WIDTHS) {
      const page = await browser.newPage({ viewport });
      // A loaded machine can keep the page busy for a while: waits are generous, this is no test.
      page.setDefaultTimeout(120_000);
      for (const view of VIEWS) {
        await page.goto(`${dash.url}/#/${view}`);
        await page.waitForSelector(`main[data-view="${view}"]`);
        await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => undefined);
        await page.waitForTimeout(1000);
        const out = join(dir, `${view}-${viewport.width}.png`);
        await page.screenshot({ path: out, fullPage: viewport.width < 1000 });
        console.log(`saved ${out}`);
      }
      await page.close();
    }
    console.log(`bundle ${(bundle.bytes / 1024).toFixed(1)} KiB, ${(bundle.gzip / 1024).toFixed(1)} KiB gzip; first candle ${Math.round(firstCandleMs)} ms after navigation start`);
  } finally {
    await browser.close();
    await dash.stop();
  }
}

/** Opens the terminal, waits for the first candle and then for live bars to form; returns the time to the first candle. */
async function waitForLiveBars(browser: Browser, url: string): Promise<number> {
  const page = await browser.newPage({ viewport: WIDTHS[0] });
  await page.goto(`${url}/#/terminal`);
  await page.waitForFunction("Number(document.querySelector('[data-testid=candle-chart]')?.getAttribute('data-candles')) > 0", null, { polling: 'raf' });
  const firstCandleMs = Number(await page.evaluate('performance.now()'));
  await page.waitForTimeout(LIVE_SECONDS * 1000);
  await page.close();
  return firstCandleMs;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
