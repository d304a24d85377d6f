import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALERT_KINDS,
  feedDownDecision,
  keyBudget,
  keyBudgetDecision,
  priceMoveAlert,
  priceMoves,
  stalenessDecision,
  thresholdsFromConfig,
  type FeedObservation,
} from '../../src/alerts/alert-rules.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { ApiKeyState } from '../../src/store/api-keys-repo.ts';

const calendar = new MarketCalendar();
/** Tuesday 2024-01-02, 10:00 Bogota: in session. */
const IN_SESSION = Date.UTC(2024, 0, 2, 15, 0);
const SESSION_OPEN = Date.UTC(2024, 0, 2, 13, 0);
/** The same day at 14:00 Bogota: after the close. */
const AFTER_CLOSE = Date.UTC(2024, 0, 2, 19, 0);
const SYMBOL = 'USD/COP';

describe('thresholds', () => {
  it('come from the configuration, with its defaults (0.5 %, 120 s, 10 %)', () => {
    const t = thresholdsFromConfig(loadConfig({}));
    assert.deepEqual(t, { priceMovePct: 0.5, staleMs: 120_000, keyBudgetPct: 10, feedDownGraceMs: 30_000 });
    const custom = thresholdsFromConfig(loadConfig({ TASA_ALERT_PRICE_MOVE_PCT: '1.5', TASA_ALERT_STALE_SECONDS: '30', TASA_ALERT_KEY_BUDGET_PCT: '25' }), 5_000);
    assert.deepEqual(custom, { priceMovePct: 1.5, staleMs: 30_000, keyBudgetPct: 25, feedDownGraceMs: 5_000 });
  });
});

describe('price move rule', () => {
  const bar = (open: number, high: number, low: number, close: number) => ({ time: IN_SESSION, open, high, low, close });

  it('measures the range within the bar against its open, and the close against the previous close', () => {
    const m = priceMoves(bar(4000, 4024, 4000, 4010), 3990);
    assert.ok(Math.abs(m.withinBarPct - 0.6) < 1e-9);
    assert.ok(m.vsPreviousPct !== null && Math.abs(m.vsPreviousPct - (20 / 3990) * 100) < 1e-9);
    assert.equal(priceMoves(bar(4000, 4001, 3999, 4000), null).vsPreviousPct, null);
  });

  it('raises a 0.6 % move within a bar, keyed by symbol', () => {
    const alert = priceMoveAlert({ symbol: SYMBOL, bar: bar(4000, 4024, 4000, 4020), previousClose: 4000, thresholdPct: 0.5, at: IN_SESSION });
    assert.ok(alert);
    assert.equal(alert.kind, ALERT_KINDS.priceMove);
    assert.equal(alert.dedupeKey, 'price_move:USD/COP');
    assert.equal(alert.symbol, SYMBOL);
    assert.equal(alert.at, IN_SESSION);
    assert.match(alert.message, /0\.60 % within the bar/);
    assert.equal(alert.details['barTime'], '2024-01-02T15:00:00.000Z');
  });

  it('raises a 0.6 % gap against the previous close even when the bar itself is flat', () => {
    const alert = priceMoveAlert({ symbol: SYMBOL, bar: bar(4024, 4024, 4024, 4024), previousClose: 4000, thresholdPct: 0.5, at: IN_SESSION });
    assert.ok(alert);
    assert.match(alert.message, /0\.60 % vs the previous close 4000/);
    assert.doesNotMatch(alert.message, /within the bar/);
  });

  it('stays quiet at or below the threshold, and without a previous close for the gap test', () => {
    assert.equal(priceMoveAlert({ symbol: SYMBOL, bar: bar(4000, 4020, 4000, 4020), previousClose: 4000, thresholdPct: 0.5, at: IN_SESSION }), null);
    assert.equal(priceMoveAlert({ symbol: SYMBOL, bar: bar(4100, 4101, 4099, 4100), previousClose: null, thresholdPct: 0.5, at: IN_SESSION }), null);
    // A higher threshold from the configuration silences a 0.6 % move.
    assert.equal(priceMoveAlert({ symbol: SYMBOL, bar: bar(4000, 4024, 4000, 4020), previousClose: 4000, thresholdPct: 1, at: IN_SESSION }), null);
  });
});

describe('no-ticks rule', () => {
  const session = calendar.sessionAt(IN_SESSION);

  it('raises after more than the limit without a tick in session, and resolves when a tick is recent', () => {
    const clock = new ManualClock(IN_SESSION);
    const lastTickAt = clock.now();
    const at = (ms: number) => stalenessDecision({ symbol: SYMBOL, now: clock.now() + ms, session, lastTickAt, staleMs: 120_000 });
    assert.deepEqual(at(120_000), { action: 'resolve', dedupeKey: 'no_ticks:USD/COP' });
    const late = at(121_000);
    assert.equal(late.action, 'raise');
    if (late.action === 'raise') {
      assert.equal(late.alert.severity, 'critical');
      assert.equal(late.alert.details['silentSeconds'], 121);
      assert.equal(late.alert.dedupeKey, 'no_ticks:USD/COP');
    }
  });

  it('counts from the session open when the last tick is from an earlier session', () => {
    const yesterday = SESSION_OPEN - 20 * 3600_000;
    assert.equal(stalenessDecision({ symbol: SYMBOL, now: SESSION_OPEN + 60_000, session, lastTickAt: yesterday, staleMs: 120_000 }).action, 'resolve');
    assert.equal(stalenessDecision({ symbol: SYMBOL, now: SESSION_OPEN + 121_000, session, lastTickAt: null, staleMs: 120_000 }).action, 'raise');
  });

  it('never raises outside a session, however old the last tick', () => {
    const d = stalenessDecision({ symbol: SYMBOL, now: AFTER_CLOSE, session: calendar.sessionAt(AFTER_CLOSE), lastTickAt: IN_SESSION, staleMs: 120_000 });
    assert.deepEqual(d, { action: 'resolve', dedupeKey: 'no_ticks:USD/COP' });
  });
});

describe('feed disconnected rule', () => {
  const ingest = (state: string, feed: string): FeedObservation => ({ state, feed: { state: feed, detail: 'socket closed' } });

  it('raises once the feed has been down in session for the grace period, and resolves when it is back', () => {
    const clock = new ManualClock(IN_SESSION);
    let r = feedDownDecision({ now: clock.now(), marketOpen: true, ingest: ingest('ACTIVE', 'reconnecting'), downSince: null, graceMs: 30_000 });
    assert.equal(r.decision, null);
    assert.equal(r.downSince, IN_SESSION);
    r = feedDownDecision({ now: clock.now() + 30_000, marketOpen: true, ingest: ingest('ACTIVE', 'disconnected'), downSince: r.downSince, graceMs: 30_000 });
    assert.equal(r.decision?.action, 'raise');
    if (r.decision?.action === 'raise') {
      assert.equal(r.decision.alert.symbol, null);
      assert.equal(r.decision.alert.dedupeKey, 'feed_disconnected');
      assert.match(r.decision.alert.message, /30 s in session: the feed is disconnected \(socket closed\)/);
    }
    r = feedDownDecision({ now: clock.now() + 40_000, marketOpen: true, ingest: ingest('ACTIVE', 'subscribed'), downSince: r.downSince, graceMs: 30_000 });
    assert.deepEqual(r, { decision: { action: 'resolve', dedupeKey: 'feed_disconnected' }, downSince: null });
  });

  it('treats a lifecycle ERROR as down, a stopped feed between sessions as normal, and an unknown status as no evidence', () => {
    assert.equal(feedDownDecision({ now: IN_SESSION, marketOpen: true, ingest: ingest('ERROR', 'stopped'), downSince: IN_SESSION - 60_000, graceMs: 30_000 }).decision?.action, 'raise');
    assert.equal(feedDownDecision({ now: IN_SESSION, marketOpen: true, ingest: ingest('READY', 'stopped'), downSince: null, graceMs: 30_000 }).decision?.action, 'resolve');
    assert.deepEqual(feedDownDecision({ now: IN_SESSION, marketOpen: true, ingest: null, downSince: 5, graceMs: 30_000 }), { decision: null, downSince: 5 });
    assert.equal(feedDownDecision({ now: AFTER_CLOSE, marketOpen: false, ingest: ingest('ACTIVE', 'disconnected'), downSince: 5, graceMs: 30_000 }).decision?.action, 'resolve');
  });
});

describe('key budget rule', () => {
  const key = (id: string, dayUsed: number, status: 'ok' | 'bad' = 'ok', day = '2024-01-02'): ApiKeyState => ({
    id,
    status,
    badReason: status === 'bad' ? 'rejected' : null,
    minuteLimit: 8,
    dayLimit: 800,
    minuteStart: IN_SESSION,
    minuteUsed: 0,
    day,
    dayUsed,
    creditsTotal: dayUsed,
    lastTakenAt: null,
    updatedAt: IN_SESSION,
  });

  it('adds up the day credits left on usable keys, counting a past day as unused', () => {
    assert.deepEqual(keyBudget([key('k_0000000001', 700), key('k_0000000002', 790, 'ok', '2024-01-01'), key('k_0000000003', 0, 'bad')], IN_SESSION), {
      left: 100 + 800,
      limit: 1600,
      usableKeys: 2,
      badKeys: 1,
    });
  });

  it('raises below the threshold share, critical at zero or with no usable key, and resolves above it', () => {
    const low = keyBudgetDecision([key('k_0000000001', 730), key('k_0000000002', 730)], IN_SESSION, 10);
    assert.equal(low?.action, 'raise');
    if (low?.action === 'raise') {
      assert.equal(low.alert.severity, 'warning');
      assert.match(low.alert.message, /140 of 1600 credits left \(8\.75 %\)/);
    }
    const spent = keyBudgetDecision([key('k_0000000001', 800)], IN_SESSION, 10);
    assert.equal(spent?.action === 'raise' ? spent.alert.severity : null, 'critical');
    const allBad = keyBudgetDecision([key('k_0000000001', 0, 'bad')], IN_SESSION, 10);
    assert.equal(allBad?.action === 'raise' ? allBad.alert.message : null, 'No usable TwelveData key: all 1 are marked bad.');
    assert.deepEqual(keyBudgetDecision([key('k_0000000001', 700)], IN_SESSION, 10), { action: 'resolve', dedupeKey: 'key_budget_low' });
    assert.equal(keyBudgetDecision([], IN_SESSION, 10), null);
  });
});
