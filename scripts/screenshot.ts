/**
 * Makes the README's screenshot of the terminal (docs/img/terminal.png): builds the dashboard,
 * starts Tasa as `npm start` does (simulator, embedded store, a simulated session at 60x) with
 * imported history, opens the terminal in Debian's chromium at 1280x800, lets live bars form for
 * a few seconds, and saves the page. Prints the bundle size and the time to the first candle.
 *
 *   node --import tsx scripts/screenshot.ts [output.png]
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { buildDashboard, CHROMIUM_ARGS, findChromium, REPO_ROOT, startLiveDashboard } from '../test/web/live-dashboard.ts';

/** Real seconds of live session before the picture: at 60x, six 5-minute bars. */
const LIVE_SECONDS = 30;

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? `${REPO_ROOT}docs/img/terminal.png`);
  const executablePath = findChromium();
  if (executablePath === null) throw new Error('chromium is not installed: apt-get install chromium');
  const bundle = await buildDashboard();
  const dash = await startLiveDashboard({ speed: 60 });
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${dash.url}/#/terminal`);
    await page.waitForFunction("Number(document.querySelector('[data-testid=candle-chart]')?.getAttribute('data-candles')) > 0", null, { polling: 'raf' });
    const firstCandleMs = Number(await page.evaluate('performance.now()'));
    await page.waitForTimeout(LIVE_SECONDS * 1000);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    console.log(`saved ${out}`);
    console.log(`bundle ${(bundle.bytes / 1024).toFixed(1)} KiB, ${(bundle.gzip / 1024).toFixed(1)} KiB gzip; first candle ${Math.round(firstCandleMs)} ms after navigation start`);
  } finally {
    await browser.close();
    await dash.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
