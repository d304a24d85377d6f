/** Polling for tests that wait on another process or a real server: real time, bounded. */
import assert from 'node:assert/strict';

/**
 * Polls `check` every `everyMs` until it holds; fails naming `what` (a text, or a function that
 * describes the state at the deadline) after `timeoutMs` of real time.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
