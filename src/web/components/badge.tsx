/** Small status badges: a run status, a yes/no check, a severity. */
import type { ComponentChildren } from 'preact';

type Tone = 'ok' | 'bad' | 'warn' | 'muted';

export function Badge({ tone, children, title }: { tone: Tone; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge ${tone}`} title={title}>
      {children}
    </span>
  );
}

const RUN_TONES: Record<string, Tone> = { completed: 'ok', skipped: 'muted', running: 'warn', failed: 'bad' };

export function RunStatusBadge({ status }: { status: string }) {
  return <Badge tone={RUN_TONES[status] ?? 'muted'}>{status}</Badge>;
}

const SEVERITY_TONES: Record<string, Tone> = { info: 'muted', warning: 'warn', critical: 'bad' };

export function SeverityBadge({ severity }: { severity: string }) {
  return <Badge tone={SEVERITY_TONES[severity] ?? 'muted'}>{severity}</Badge>;
}

export function CheckBadge({ ok, yes = 'ok', no = 'failing' }: { ok: boolean; yes?: string; no?: string }) {
  return <Badge tone={ok ? 'ok' : 'bad'}>{ok ? yes : no}</Badge>;
}
