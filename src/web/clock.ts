/**
 * The browser's view of the server's clock. The server may run a simulated session (a scaled
 * clock starting at the next open), so countdowns use the server's `now`, not the browser's:
 * each /market/status answer re-anchors the offset.
 */
let offsetMs = 0;

/** Real elapsed time in the browser (freshness, timers). */
export function browserNow(): number {
  return Date.now();
}

/** The server clock's current time, as last reported. */
export function serverNow(): number {
  return Date.now() + offsetMs;
}

export function anchorServerTime(serverIso: string | null | undefined): void {
  const t = serverIso ? Date.parse(serverIso) : NaN;
  if (!Number.isNaN(t)) offsetMs = t - Date.now();
}
