/**
 * The browser's view of the server's clock. The server may run a simulated session (a scaled
 * clock that started at the next open and runs N times faster), so countdowns use the server's
 * time, not the browser's. Every server timestamp the page receives (/market/status, heartbeats)
 * re-anchors it; two anchors far enough apart give the rate, so a fast simulated clock keeps
 * moving at its own speed between anchors. `Date.now` is read here only.
 */
interface Anchor {
  server: number;
  browser: number;
}

/** The rate is measured over at least this much real time (shorter spans are mostly jitter). */
const MIN_RATE_SPAN_MS = 2000;
/** An anchor this far (server ms) from the prediction means the server's clock changed: start over. */
const RESET_AFTER_MS = 5000;

let anchor: Anchor | null = null;
/** The first anchor since the last reset: the rate is measured over everything since, so it settles. */
let rateAnchor: Anchor | null = null;
let rate = 1;
let rateMeasured = false;

/** Real elapsed time in the browser (freshness, timers). */
export function browserNow(): number {
  return Date.now();
}

/** The server clock's current time, as last reported and extrapolated at its measured rate. */
export function serverNow(): number {
  const now = Date.now();
  return anchor === null ? now : anchor.server + (now - anchor.browser) * rate;
}

/** How many server milliseconds pass per real millisecond (1 unless the server runs a scaled clock). */
export function serverRate(): number {
  return rate;
}

/**
 * `measureRate`: false for times that arrive after a variable delay (a REST answer's), which
 * would skew the rate; the WebSocket heartbeats, sent on the server's clock, measure it.
 */
export function anchorServerTime(serverIso: string | null | undefined, measureRate = true): void {
  const server = serverIso ? Date.parse(serverIso) : NaN;
  if (Number.isNaN(server)) return;
  const here: Anchor = { server, browser: Date.now() };
  if (!measureRate) {
    if (anchor === null || !rateMeasured) anchor = here;
    return;
  }
  if (rateAnchor === null || (rateMeasured && Math.abs(server - serverNow()) > RESET_AFTER_MS * rate)) {
    rateAnchor = here;
    rate = 1;
    rateMeasured = false;
  } else if (here.browser - rateAnchor.browser >= MIN_RATE_SPAN_MS) {
    const measured = (here.server - rateAnchor.server) / (here.browser - rateAnchor.browser);
    // Round near-real rates to 1 so network jitter does not make a real clock drift.
    if (Number.isFinite(measured) && measured > 0) {
      rate = Math.abs(measured - 1) < 0.05 ? 1 : measured;
      rateMeasured = true;
    }
  }
  anchor = here;
}
