/**
 * A button for an admin action (run the pipeline, promote a model): it sends the request with
 * the token entered in the top bar and shows what the server answered. Without a token it says
 * one is needed instead of failing silently; a 401/403 shows the server's message.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { sendJson, storedToken, TOKEN_EVENT } from '../api.ts';

interface Props<T> {
  label: ComponentChildren;
  path: string;
  body?: unknown;
  /** Asked before sending (a promotion replaces the production model). */
  confirm?: string;
  describe: (answer: T) => string;
  onDone?: (answer: T) => void;
  /** Called with a failed request's error (after its message is shown). */
  onError?: (err: unknown) => void;
  testId?: string;
}

/** A write action's state: what its status line says. */
export type Outcome = { kind: 'idle' } | { kind: 'busy' } | { kind: 'ok'; text: string } | { kind: 'error'; text: string };

export function AdminButton<T>({ label, path, body, confirm, describe, onDone, onError, testId }: Props<T>) {
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  useEffect(() => {
    // A refusal for want of a token no longer holds once one is saved.
    const clear = () => setOutcome((o) => (o.kind === 'error' ? { kind: 'idle' } : o));
    window.addEventListener(TOKEN_EVENT, clear);
    return () => window.removeEventListener(TOKEN_EVENT, clear);
  }, []);
  const run = async () => {
    if (storedToken() === null) {
      setOutcome({ kind: 'error', text: 'Enter an admin API token in the top bar first (tasa token create --role admin).' });
      return;
    }
    if (confirm !== undefined && !window.confirm(confirm)) return;
    setOutcome({ kind: 'busy' });
    try {
      const answer = await sendJson<T>('POST', path, body ?? {});
      setOutcome({ kind: 'ok', text: describe(answer) });
      onDone?.(answer);
    } catch (err) {
      setOutcome({ kind: 'error', text: err instanceof Error ? err.message : String(err) });
      onError?.(err);
    }
  };
  return (
    <span class="admin-action">
      <button type="button" onClick={() => void run()} disabled={outcome.kind === 'busy'} data-testid={testId}>
        {label}
      </button>
      <OutcomeStatus outcome={outcome} testId={testId ? `${testId}-result` : undefined} />
    </span>
  );
}

/** The status line of a write action: sending, the server's answer, or its refusal (in red); `data-outcome` is the kind. */
export function OutcomeStatus({ outcome, testId }: { outcome: Outcome; testId: string | undefined }) {
  return (
    <span role="status" class={outcome.kind === 'error' ? 'down small wrap' : 'muted small wrap'} data-testid={testId} data-outcome={outcome.kind}>
      {outcome.kind === 'busy' ? 'sending…' : outcome.kind === 'ok' || outcome.kind === 'error' ? outcome.text : ''}
    </span>
  );
}
