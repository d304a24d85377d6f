/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real
 * Tasa started as `npm start` starts it: simulator, embedded store, jobs, API, on a simulated
 * clock in session at 60x, so 5-minute bars close every 5 s. Checks that the chart draws the
 * bars the API serves, that live bars arrive over the WebSocket and move the chart, that every
 * view loads and is reachable from the keyboard, that the quality view explains a repaired and
 * a partial day, that admin actions (run the pipeline, promote a model) reach their routes with
 * a token entered in the page, that a trader places, sees filled and cancels paper orders from the
 * terminal (fills drawn on the chart), and that laptop and tablet widths do not overflow. Screenshots go to artifacts/screenshots/. Bundle size and time
 * to the first candle are printed (measured, not asserted).
 *
 * Without chromium the suite is skipped with a notice, except under CI, where it fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { toIsoUtc } from '../../src/domain/time.ts';
import { createApiToken } from '../../src/store/api-tokens-repo.ts';
import { finishRun, startRun } from '../../src/store/pipeline-runs-repo.ts';
import { TcpProxy } from '../bus/tcp-proxy.ts';
import { buildDashboard, CHROMIUM_ARGS, findChromium, resolveArtifact, startLiveDashboard, type BundleSize, type LiveDashboard } from './live-dashboard.ts';

/** The browser globals the in-page functions below use (this project type-checks tests without the DOM library). */
interface PageElement {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  readonly activeElement: PageElement | null;
  readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
};

const CHROMIUM = findChromium();
const LAPTOP = { width: 1280, height: 800 };
const TABLET = { width: 820, height: 1180 };
const VIEWS = ['terminal', 'quality', 'pipeline', 'research', 'system'] as const;
const SHOTS = resolveArtifact('screenshots');

if (CHROMIUM === null && !process.env['CI']) {
  console.error('note: chromium is not installed (/usr/bin/chromium; apt-get install chromium): the dashboard browser tests are skipped.');
}

const CHART = '[data-testid=candle-chart]';

interface ModelRow {
  id: string;
  status: string;
  test: { totalReturn: number | null; sharpe: number | null; tradeCount: number } | null;
  gateResult: { passed: boolean | null; failedGates: string[]; verdict: string | null } | null;
}

/** As the dashboard rounds them (src/web/format.ts), computed here independently. */
const percentText = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)} %`);
const decimalText = (x: number | null) => (x === null ? '—' : x.toFixed(2));

async function chartNumber(page: Page, attribute: string): Promise<number> {
  return Number(await page.getAttribute(CHART, attribute));
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/**
 * Waits until the terminal's live badge matches `wanted`; on a timeout, fails saying what the badge
 * and the market badge showed and what the server's /status said of the feed and the markets.
 */
async function waitForLiveBadge(page: Page, wanted: 'live' | 'stale', base: string, timeout = 30_000): Promise<void> {
  const market = (await (await fetch(`${base}/market/status?symbol=USD%2FCOP`)).json()) as { open: boolean };
  assert.ok(market.open, `the simulated session closed before this step (the tests ran slower than the session at 60x): ${JSON.stringify(market)}`);
  try {
    await page.waitForFunction((w) => {
      const text = document.querySelector('[data-testid=live-state]')?.textContent ?? '';
      return w === 'live' ? text === 'live' : /stale data/.test(text);
    }, wanted, { timeout });
  } catch (err) {
    const badge = await page.textContent('[data-testid=live-state]').catch(() => null);
    const status = await fetch(`${base}/status`).then((r) => r.text()).catch((e: unknown) => String(e));
    assert.fail(`the live badge did not say ${wanted} within ${timeout} ms: it says ${JSON.stringify(badge)}; /status: ${status.slice(0, 3000)} (${String(err)})`);
  }
}

/** Tabs from the top of the page to the link of `view` and follows it with Enter. */
async function openWithKeyboard(page: Page, view: string): Promise<void> {
  // The first stop of the page (the skip link), as after loading it and pressing Tab once.
  await page.focus('a.skip');
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate(() => document.activeElement?.getAttribute('href'))) === `#/${view}`) {
      await page.keyboard.press('Enter');
      await page.waitForSelector(`main[data-view="${view}"]`);
      return;
    }
  }
  assert.fail(`the ${view} link is not reachable with Tab from the top of the page`);
}

describe('dashboard in chromium against a live simulated session', { skip: CHROMIUM === null && !process.env['CI'], timeout: 300_000 }, () => {
  let dash: LiveDashboard;
  let browser: Browser;
  let bundle: BundleSize;

  before(async () => {
    assert.ok(CHROMIUM, 'CI needs chromium at /usr/bin/chromium (.ci/run installs it)');
    mkdirSync(SHOTS, { recursive: true });
    bundle = await buildDashboard();
    // From 08:20: the session's 4 h 40 min are 280 real seconds at 60x, room for every test on a
    // loaded machine (the last ones need the market open).
    dash = await startLiveDashboard({ speed: 60, startMinute: 20 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await dash?.stop();
  });

  it('draws the stored bars from the API, then live bars from the WebSocket', async (t) => {
    const page = await browser.newPage({ viewport: LAPTOP });
    const started = performance.now();
    await page.goto(`${dash.url}/#/terminal`);
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-candles')) > 0, CHART, { polling: 'raf', timeout: 30_000 });
    const firstCandleMs = await page.evaluate(() => performance.now());
    const wallMs = performance.now() - started;
    assert.ok(await page.$(`${CHART} canvas`), 'the chart draws on a canvas');

    // The chart's first page at 5 minutes is 600 candles (src/web/views/chart-history.ts).
    const api = (await (await fetch(`${dash.url}/api/candlesticks/USD%2FCOP?interval=5min&limit=600`)).json()) as { count: number; candles: Array<{ time: string; close: number }> };
    assert.ok(api.count > 60, `the API serves the seeded history (${api.count} candles)`);
    const drawn = await chartNumber(page, 'data-candles');
    assert.ok(drawn >= api.count && drawn <= api.count + 3, `the chart holds the API's ${api.count} candles (plus live ones), drew ${drawn}`);

    // Live: the forming bar moves tick by tick, and a new 5-minute bar opens within seconds.
    const before = { updates: await chartNumber(page, 'data-live-updates'), last: await page.getAttribute(CHART, 'data-last-time') };
    await page.waitForFunction(
      ([sel, updates, last]) => {
        const el = document.querySelector(sel);
        return Number(el?.getAttribute('data-live-updates')) > Number(updates) + 3 && el?.getAttribute('data-last-time') !== last;
      },
      [CHART, before.updates, before.last] as const,
      { timeout: 30_000 },
    );
    const barMessages = Number(await page.getAttribute('[data-bar-messages]', 'data-bar-messages'));
    assert.ok(barMessages > 0, 'bar messages arrived over the WebSocket');
    assert.notEqual(await page.textContent('[data-testid=last-price]'), '—', 'the ticker shows a last price');
    assert.match((await page.textContent('[data-testid=live-state]')) ?? '', /^live/);
    assert.match((await page.textContent('[data-testid=market-status]')) ?? '', /market open · closes in/);
    assert.match((await page.textContent('[data-testid=simulated]')) ?? '', /simulated feed/);
    // The imported history is real data (source import); the live bars are the simulator's: two parts, one break, labelled.
    await page.waitForFunction((sel) => /^real:\d+,simulated:\d+$/.test(document.querySelector(sel)?.getAttribute('data-segments') ?? ''), CHART, { timeout: 30_000 });
    assert.equal(await chartNumber(page, 'data-breaks'), 1, 'an empty slot separates the real history from the simulated bars');
    assert.match((await page.textContent('[data-testid=chart-provenance]')) ?? '', /simulator's prices, not market data/);
    await page.waitForSelector('[data-testid=stats-provenance]', { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid=stats-provenance]')) ?? '', /figures over simulated bars only \(\d+ real bars left out\)/);
    await shot(page, 'terminal-laptop');

    const figures = {
      bundleBytes: bundle.bytes,
      bundleGzipBytes: bundle.gzip,
      files: bundle.files,
      timeToFirstCandleMs: Math.round(firstCandleMs),
      gotoToFirstCandleWallMs: Math.round(wallMs),
    };
    writeFileSync(resolveArtifact('dashboard-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
    t.diagnostic(`bundle ${(bundle.bytes / 1024).toFixed(1)} KiB (${(bundle.gzip / 1024).toFixed(1)} KiB gzip); first candle ${Math.round(firstCandleMs)} ms after navigation start`);
    await page.close();
  });

  it('switches the interval and redraws from the API', async () => {
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/terminal`);
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-candles')) > 0, CHART);
    await page.getByRole('button', { name: '1h', exact: true }).click();
    const api = (await (await fetch(`${dash.url}/api/candlesticks/USD%2FCOP?interval=1h&limit=300`)).json()) as { count: number };
    await page.waitForFunction(([sel, n]) => Math.abs(Number(document.querySelector(sel as string)?.getAttribute('data-candles')) - Number(n)) <= 1, [CHART, api.count] as const);
    assert.equal(await page.getAttribute('button[aria-pressed="true"]', 'aria-pressed'), 'true');
    assert.ok(await page.getByRole('button', { name: 'RSI · MACD' }).isEnabled(), 'indicators are drawn at every interval');
    // 1m: candles from the ticks the live session stored, and the chart says they exist only where ticks are stored.
    await page.getByRole('button', { name: '1m', exact: true }).click();
    await page.waitForFunction(
      (sel) => /exist only where ticks are stored: since \d{4}-\d{2}-\d{2} \d{2}:\d{2} America\/Bogota/.test(document.querySelector(sel)?.textContent ?? ''),
      '[data-testid=minute-coverage]',
    );
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-candles')) > 0, CHART);
    await page.close();
  });

  it('places a market order from the ticket, sees it filled, the position and a fill marker, and cancels a limit order', async () => {
    const { token } = await createApiToken(dash.system.db, { name: 'browser-test-trader', role: 'trader' });
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/terminal`);
    await page.fill('#token', token);
    await page.press('#token', 'Enter');
    await page.waitForSelector('[data-testid=trading-state][data-mode=ACTIVE]');
    assert.match((await page.textContent('[data-testid=risk-limits]')) ?? '', /order at most 25,000\.00 USD · position at most 100,000\.00 USD/);
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-candles')) > 0, CHART);
    const markersBefore = await chartNumber(page, 'data-trade-markers');

    const marketId = await placeFromTicket(page, { type: 'market', quantity: '1000.00' });
    await publishTick();
    await page.waitForSelector(`[data-testid=fills] tr[data-order-id="${marketId}"]`, { timeout: 20_000 });
    await page.waitForSelector('[data-testid=positions] tr[data-symbol="USD/COP"][data-quantity="1000.00"]');
    assert.match((await page.textContent('[data-testid=positions] [data-testid=unrealized-pnl]')) ?? '', /^[+-]?[\d,]+\.\d{2}$/, 'the position has an unrealized P&L at the latest price');
    const order = (await (await fetch(`${dash.url}/api/trading/orders/${marketId}`)).json()) as { order: { status: string } };
    assert.equal(order.order.status, 'filled');
    await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel as string)?.getAttribute('data-trade-markers')) > Number(n), [CHART, markersBefore] as const);
    await shot(page, 'terminal-trading');

    // A buy limit 1.5 % under the market (inside the 2 % price band) rests; cancel it from the list.
    const latest = (await (await fetch(`${dash.url}/market/latest?symbol=USD%2FCOP`)).json()) as { price: number };
    const limitId = await placeFromTicket(page, { type: 'limit', quantity: '500.00', price: (latest.price * 0.985).toFixed(2) });
    await page.waitForSelector(`[data-testid=open-orders] tr[data-order-id="${limitId}"]`);
    await page.click(`[data-testid=cancel-${limitId}]`);
    await page.waitForSelector(`[data-testid=open-orders] tr[data-order-id="${limitId}"]`, { state: 'detached' });
    assert.match((await page.textContent('[data-testid=cancel-result]')) ?? '', new RegExp(`^order ${limitId} cancelled$`));
    const cancelled = (await (await fetch(`${dash.url}/api/trading/orders/${limitId}`)).json()) as { order: { status: string } };
    assert.equal(cancelled.order.status, 'cancelled');
    await page.close();
  });

  it('shows each strategy with its live parity record', async () => {
    const { token } = await createApiToken(dash.system.db, { name: 'browser-test-strategist', role: 'trader' });
    const started = await fetch(`${dash.url}/api/trading/strategies/sma/start`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'USD/COP', policyId: 'sma-crossover', targetNotional: '1000' }),
    });
    assert.equal(started.status, 200, await started.text());
    // The record the parity monitor leaves after a session whose third trade differed.
    const runId = await startRun(dash.system.db, { layer: 'parity', symbol: null, params: { session: '2026-03-02' } });
    const compared = { strategy: 'sma', symbol: 'USD/COP', policyId: 'sma-crossover', compared: 7, matched: 6, firstDifference: { index: 2, fields: ['exitTime'], backtest: 'b', live: 'l' }, priceDiffBps: 2.25, alert: 'raised' };
    await finishRun(dash.system.db, runId, { status: 'completed', rowsIn: 7, rowsOut: 6, summary: { session: '2026-03-02', strategies: [compared] } });
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/terminal`);
    await page.waitForSelector('[data-testid=strategies] tr[data-strategy=sma]');
    assert.equal(await page.textContent('[data-testid=strategies] tr[data-strategy=sma] [data-testid=parity-trades]'), '6 of 7');
    assert.equal(await page.getAttribute('[data-testid=strategies] tr[data-strategy=sma] [data-testid=parity-last]', 'data-matched'), 'false');
    assert.match((await page.textContent('[data-testid=strategies] tr[data-strategy=sma]')) ?? '', /sma-crossover.*on, trading.*1 \(1 differ\).*2026-03-02 differs from the backtest, price 2\.3 bps off/);
    await page.close();
  });

  /** Fills the ticket (a buy), sends it and returns the id of the order the server took. */
  async function placeFromTicket(page: Page, o: { type: 'market' | 'limit'; quantity: string; price?: string }): Promise<number> {
    await page.selectOption('[data-testid=ticket-type]', o.type);
    await page.fill('[data-testid=ticket-quantity]', o.quantity);
    if (o.price !== undefined) await page.fill('[data-testid=ticket-price]', o.price);
    const previous = (await page.textContent('[data-testid=ticket-result]')) ?? '';
    await page.click('[data-testid=ticket-submit]');
    await page.waitForFunction(
      (before) => {
        const el = document.querySelector('[data-testid=ticket-result]');
        return /^(ok|error)$/.test(el?.getAttribute('data-outcome') ?? '') && el?.textContent !== before;
      },
      previous,
    );
    const result = (await page.textContent('[data-testid=ticket-result]')) ?? '';
    const placed = /^order (\d+) \(buy [\d,.]+ USD (market|limit)\) (accepted|filled)$/.exec(result);
    assert.ok(placed, `the ticket placed the order: ${result}`);
    return Number(placed[1]);
  }

  /** A tick at the latest price, now on the server's clock, on the server's bus (the paper broker fills on it). */
  async function publishTick(): Promise<void> {
    const latest = (await (await fetch(`${dash.url}/market/latest?symbol=USD%2FCOP`)).json()) as { price: number; bid: number | null; ask: number | null; spread: number | null };
    const now = toIsoUtc(dash.system.clock.now());
    await dash.system.bus.publish('ticks', 'USD/COP', { symbol: 'USD/COP', price: latest.price, bid: latest.bid, ask: latest.ask, spread: latest.spread, timestamp: now, receivedAt: now, source: 'simulator' });
  }

  it('reaches every view from the keyboard and each one loads its data, all from the server', async () => {
    const page = await browser.newPage({ viewport: LAPTOP });
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).host !== new URL(dash.url).host) foreign.push(request.url());
    });
    await page.goto(`${dash.url}/#/terminal`);
    await page.waitForSelector(CHART);
    const ready: Record<(typeof VIEWS)[number], string> = {
      terminal: `${CHART}[data-candles]:not([data-candles="0"])`,
      quality: 'button.day[data-level="complete"]',
      pipeline: '[data-testid=layer-L1][data-status=completed]',
      research: 'section[aria-labelledby=models-title] .empty, [data-testid=model-table]',
      system: '[data-testid=health] .badge.ok',
    };
    for (const view of [...VIEWS.slice(1), VIEWS[0]]) {
      await openWithKeyboard(page, view);
      await page.waitForSelector(ready[view], { timeout: 20_000 });
      assert.equal(await page.getAttribute(`nav a[href="#/${view}"]`, 'aria-current'), 'page');
      await shot(page, `${view}-laptop`);
    }
    assert.deepEqual(foreign, [], 'every asset and request goes to the Tasa server');
    await page.close();
  });

  it('shows what a day held: its bars, gaps and repairs, from the heatmap', async () => {
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/quality`);
    const repaired = page.locator(`button.day[data-date="${dash.flaws.repaired}"]`);
    await repaired.click();
    await page.waitForSelector('[data-testid=quality-day-summary]');
    assert.match((await page.textContent('[data-testid=quality-day-summary]')) ?? '', /60 of 60 bars .* 60 repaired/);
    await page.waitForSelector('[data-testid=quality-day-audit]');
    assert.match((await page.textContent('[data-testid=quality-day-audit]')) ?? '', /repair\.bogota_wall_clock_as_utc/);
    assert.ok(Number(await page.getAttribute('[data-testid=quality-day] [data-testid=candle-chart]', 'data-candles')) === 60, "the day's 60 bars are drawn");
    await shot(page, 'quality-day-repaired');

    // Keyboard: the grid is one tab stop; arrows move by day.
    await repaired.focus();
    await page.keyboard.press('ArrowUp');
    const moved = await page.evaluate(() => document.activeElement?.getAttribute('data-date'));
    assert.ok(moved !== null && moved !== undefined && moved < dash.flaws.repaired, `ArrowUp moves to the previous day (${String(moved)})`);

    await page.locator(`button.day[data-date="${dash.flaws.partial}"]`).click();
    await page.waitForFunction((date) => document.querySelector('[data-testid=quality-day]')?.getAttribute('aria-label') === `Session ${date}`, dash.flaws.partial);
    await page.waitForSelector('[data-testid=quality-day-summary]');
    assert.match((await page.textContent('[data-testid=quality-day-summary]')) ?? '', /54 of 60 bars .* 1 gap: 09:30–10:00 \(6 bars\) America\/Bogota/);
    assert.equal(await page.getAttribute(`button.day[data-date="${dash.flaws.absent}"]`, 'data-level'), 'missing');
    await page.close();
  });

  it('runs the pipeline as admin with a token entered in the page', async () => {
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/pipeline`);
    await page.waitForSelector('[data-testid=layer-L0]');
    await page.click('[data-testid=run-pipeline]');
    assert.match((await page.textContent('[data-testid=run-pipeline-result]')) ?? '', /admin API token/);

    await page.fill('#token', dash.adminToken);
    await page.press('#token', 'Enter');
    await page.click('[data-testid=run-pipeline]');
    await page.waitForFunction(() => /queued job|needs|token|unavailable/i.test(document.querySelector('[data-testid=run-pipeline-result]')?.textContent ?? ''));
    assert.match((await page.textContent('[data-testid=run-pipeline-result]')) ?? '', /^queued job \w+ on pipeline/);
    await shot(page, 'pipeline-admin-run');

    // The route really ran: it audited the request under the token's id.
    const audit = (await (await fetch(`${dash.url}/api/compliance/audit-trail?action=admin.pipeline.run`)).json()) as { entries: Array<{ actor: string }> };
    assert.equal(audit.entries.length, 1);
    assert.match(audit.entries[0]?.actor ?? '', /^t_/);
    await page.close();
  });

  it('shows a backtest with its charts, gates and trades, and promotes a model as admin', async () => {
    const page = await browser.newPage({ viewport: LAPTOP });
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${dash.url}/#/research`);
    await page.fill('#token', dash.adminToken);
    await page.press('#token', 'Enter');
    const id = dash.research.backtestIds.at(-1);
    assert.ok(id !== undefined);
    await page.click(`[data-testid=backtest-list] a[href="#/research?run=${id}"]`);
    await page.waitForSelector('[data-testid=backtest-detail]');
    type Curve = { initialEquity: number; points: Array<{ time: string; equity: number }> };
    const api = (await (await fetch(`${dash.url}/api/backtests/${id}`)).json()) as { passed: boolean | null; trades: { total: number }; equity: Curve };
    assert.ok(api.equity.points.length > 0 && api.trades.total > 0, 'the seeded backtest has a curve and trades');
    assert.equal(Number(await page.getAttribute('[data-testid=backtest-detail] .chart[data-points]', 'data-points')), api.equity.points.length, 'the equity chart draws every stored point');
    // ...and shows them all: from the run's first bar (at ~the initial equity) to its last, not only the newest ones.
    const equityChart = '[data-testid=backtest-detail] .chart[aria-label^="Equity curve"]';
    const [firstPoint, lastPoint] = [api.equity.points[0]!, api.equity.points.at(-1)!];
    assert.ok(api.equity.points.length > 1000, `${api.equity.points.length} points: more than the chart's width in pixels`);
    assert.ok(Math.abs(firstPoint.equity / api.equity.initialEquity - 1) < 0.01, `the curve starts at ${firstPoint.equity}`);
    await page
      .waitForFunction(([sel, from]) => document.querySelector(sel)?.getAttribute('data-visible-from') === from, [equityChart, firstPoint.time] as const, { timeout: 10_000 })
      .catch(() => undefined);
    const span = [await page.getAttribute(equityChart, 'data-visible-from'), await page.getAttribute(equityChart, 'data-visible-to')];
    assert.deepEqual(span, [firstPoint.time, lastPoint.time], 'the equity chart spans the whole run');
    assert.equal(await page.locator('[data-testid=backtest-gates] tbody tr').count(), 8);
    assert.equal(await page.locator('[data-testid=trade-ledger] tbody tr').count(), Math.min(100, api.trades.total));
    await shot(page, 'research-backtest');

    // The registry: the model's test-split metrics and its newest backtest's gate result, rounded.
    const model = dash.research.modelId;
    const registry = (await (await fetch(`${dash.url}/api/models`)).json()) as { items: ModelRow[] };
    const listed = registry.items.find((m) => m.id === model);
    assert.ok(listed?.test && listed.gateResult?.passed !== null && listed?.gateResult, 'the seeded model has an L6 run and a gated backtest');
    await page.waitForSelector(`tr[data-model="${model}"]`);
    const cells = await page.locator(`tr[data-model="${model}"] td`).allTextContents();
    assert.deepEqual(cells.slice(3, 6), [percentText(listed.test.totalReturn), decimalText(listed.test.sharpe), listed.test.tradeCount.toLocaleString('en-US')]);
    const gates = listed.gateResult;
    assert.ok(cells[6]!.startsWith(gates.passed ? 'passed' : `failed ${gates.failedGates.join(', ')}`), cells[6]);
    assert.ok(gates.verdict !== null && cells[6]!.endsWith(`· ${gates.verdict}`), cells[6]);

    // Promote: refused (409) unless the model's newest backtest passed the gates; then forced.
    await page.click(`[data-testid="promote-${model}"]`);
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? '') !== '' && document.querySelector(sel)?.textContent !== 'sending…', `[data-testid="promote-${model}-result"]`);
    const first = (await page.textContent(`[data-testid="promote-${model}-result"]`)) ?? '';
    if (api.passed === true) assert.match(first, /^promoted/);
    else {
      assert.match(first, /failed the production gates|was not gated/);
      await page.click(`[data-testid="force-promote-${model}"]`);
    }
    await page.waitForSelector(`tr[data-model="${model}"][data-status=production]`);
    const models = (await (await fetch(`${dash.url}/api/models`)).json()) as { items: ModelRow[] };
    assert.equal(models.items.find((m) => m.id === model)?.status, 'production');
    await shot(page, 'research-promoted');
    await page.close();
  });

  it('fits laptop and tablet widths without horizontal overflow', async () => {
    for (const [name, viewport] of [
      ['laptop', LAPTOP],
      ['tablet', TABLET],
    ] as const) {
      const page = await browser.newPage({ viewport });
      // Nothing a view does on load may log an error (a failed request shows there too).
      const consoleErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
      });
      for (const view of VIEWS) {
        await page.goto(`${dash.url}/#/${view}`);
        await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => undefined);
        await page.waitForTimeout(300);
        const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
        assert.ok(scroll <= client, `${view} at ${name} width (${viewport.width}px) overflows: ${scroll} > ${client}`);
        if (name === 'tablet') await shot(page, `${view}-tablet`);
        assert.deepEqual(consoleErrors, [], `${view} at ${name} width logged errors`);
      }
      await page.close();
    }
  });
  it('reconnects by itself when the connection drops, saying so meanwhile', async () => {
    const server = new URL(dash.url);
    const proxy = await TcpProxy.start(server.hostname, Number(server.port));
    const page = await browser.newPage({ viewport: LAPTOP });
    try {
      await page.goto(`http://127.0.0.1:${proxy.listenPort}/#/terminal`);
      await waitForLiveBadge(page, 'live', dash.url);
      await proxy.cut();
      await page.waitForFunction(() => /reconnecting/.test(document.querySelector('[data-testid=live-state]')?.textContent ?? ''));
      await shot(page, 'terminal-reconnecting');
      await proxy.restore();
      await waitForLiveBadge(page, 'live', dash.url);
      const updates = await chartNumber(page, 'data-live-updates');
      await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel as string)?.getAttribute('data-live-updates')) > Number(n), [CHART, updates] as const);
    } finally {
      await page.close();
      await proxy.stop();
    }
  });

  it('says the data is stale when prices stop while the market is open', async () => {
    const simulator = dash.system.simulator;
    assert.ok(simulator, 'the system runs the built-in simulator');
    const page = await browser.newPage({ viewport: LAPTOP });
    await page.goto(`${dash.url}/#/terminal`);
    await waitForLiveBadge(page, 'live', dash.url);
    // 12 real seconds of silence from the feed (the simulator's clock runs 60x).
    simulator.faults.stall(12_000 * 60);
    await waitForLiveBadge(page, 'stale', dash.url, 20_000);
    await shot(page, 'terminal-stale');
    await waitForLiveBadge(page, 'live', dash.url, 60_000);
    await page.close();
  });
});
