/**
 * Where new alerts go besides the database and the bus: a webhook (POST of the alert as JSON)
 * and e-mail (nodemailer over SMTP). Sending never blocks or breaks the engine: each attempt has
 * a timeout, a failure is retried once and then logged (with the webhook URL and SMTP password
 * redacted: both often carry secrets), and `notifyAll` never rejects.
 */
import nodemailer from 'nodemailer';
import { setTimeout as delay } from 'node:timers/promises';
import { redactUrl, type Config } from '../config.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AlertMessage } from '../contracts/bus-messages.ts';

export interface Notifier {
  /** For logs: `webhook https://host/***`, `email`. Never a secret. */
  readonly name: string;
  /** Rejects when the alert could not be delivered (after its retry). */
  send(alert: AlertMessage): Promise<void>;
  close?(): void;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_RETRY_DELAY_MS = 1_000;

export interface WebhookOptions {
  url: string;
  /** Per attempt; default 5 s. */
  timeoutMs?: number;
  /** Pause before the one retry; default 1 s. */
  retryDelayMs?: number;
}

/** The webhook URL as logs may show it: scheme and host only (paths and queries hold tokens). */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/***`;
  } catch {
    return '<unparseable url>';
  }
}

export function webhookNotifier(o: WebhookOptions): Notifier {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const post = async (alert: AlertMessage): Promise<void> => {
    const res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alert),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
  };
  return {
    name: `webhook ${redactWebhookUrl(o.url)}`,
    send: (alert) => withOneRetry(() => post(alert), o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS),
  };
}

/** What the e-mail notifier needs of a nodemailer transport (a real Transporter fits; tests pass jsonTransport). */
export interface MailTransport {
  sendMail(mail: { from: string; to: string; subject: string; text: string }): Promise<unknown>;
  close?(): void;
}

export interface EmailOptions {
  /** An SMTP URL (smtp[s]://user:pass@host:port), or a ready transport. */
  transport: string | MailTransport;
  from: string;
  /** Comma-separated recipients. */
  to: string;
  /** Per attempt (connection, greeting, socket); default 5 s. Only for an SMTP URL. */
  timeoutMs?: number;
  retryDelayMs?: number;
}

export function emailNotifier(o: EmailOptions): Notifier {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport: MailTransport =
    typeof o.transport === 'string'
      ? nodemailer.createTransport({ url: o.transport, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs })
      : o.transport;
  return {
    name: 'email',
    send: (alert) =>
      withOneRetry(async () => {
        await transport.sendMail({ from: o.from, to: o.to, subject: emailSubject(alert), text: emailText(alert) });
      }, o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS),
    close: () => transport.close?.(),
  };
}

export function emailSubject(alert: AlertMessage): string {
  return `[Tasa ${alert.severity}] ${alert.kind}${alert.symbol === null ? '' : ` ${alert.symbol}`}`;
}

function emailText(alert: AlertMessage): string {
  return [alert.message, '', `Raised at ${alert.at} (UTC).`, `Alert #${alert.id}, key ${alert.dedupeKey}.`, '', JSON.stringify(alert.details, null, 2)].join('\n');
}

/** The notifiers the configuration asks for: a webhook when its URL is set, e-mail when SMTP and recipients are. */
export function notifiersFromConfig(config: Pick<Config, 'TASA_ALERT_WEBHOOK_URL' | 'TASA_SMTP_URL' | 'TASA_ALERT_EMAIL_TO' | 'TASA_ALERT_EMAIL_FROM'>): Notifier[] {
  const notifiers: Notifier[] = [];
  if (config.TASA_ALERT_WEBHOOK_URL !== undefined) notifiers.push(webhookNotifier({ url: config.TASA_ALERT_WEBHOOK_URL }));
  if (config.TASA_SMTP_URL !== undefined && config.TASA_ALERT_EMAIL_TO !== undefined) {
    notifiers.push(emailNotifier({ transport: config.TASA_SMTP_URL, from: config.TASA_ALERT_EMAIL_FROM, to: config.TASA_ALERT_EMAIL_TO }));
  }
  return notifiers;
}

/** Sends to every notifier at once; failures are logged, never thrown. */
export async function notifyAll(notifiers: readonly Notifier[], alert: AlertMessage, logger: Logger): Promise<void> {
  await Promise.all(
    notifiers.map((n) =>
      n.send(alert).catch((err: unknown) => {
        logger.warn({ notifier: n.name, alert: alert.dedupeKey, err: redactSecrets(errorMessage(err)) }, 'alerts: notification failed after a retry');
      }),
    ),
  );
}

async function withOneRetry(attempt: () => Promise<void>, retryDelayMs: number): Promise<void> {
  try {
    await attempt();
  } catch {
    await delay(retryDelayMs);
    await attempt();
  }
}

/** Error texts from fetch and nodemailer may quote the URL they failed on. */
function redactSecrets(text: string): string {
  return text.replace(/\b(https?|smtps?):\/\/[^\s'"]+/gi, (url) => (url.toLowerCase().startsWith('smtp') ? redactUrl(url) : redactWebhookUrl(url)));
}
