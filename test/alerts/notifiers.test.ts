import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import type { AlertMessage } from '../../src/contracts/bus-messages.ts';
import { emailNotifier, notifiersFromConfig, notifyAll, redactWebhookUrl, webhookNotifier } from '../../src/alerts/notifiers.ts';
import { loadConfig } from '../../src/config.ts';
import { captureLogger } from '../bus/helpers.ts';

const ALERT: AlertMessage = {
  state: 'open',
  id: 7,
  kind: 'price_move',
  severity: 'warning',
  symbol: 'USD/COP',
  message: 'USD/COP moved 0.60 % within the bar (low 4000, high 4024) in the 2025-03-03T13:00:00.000Z bar, over the 0.50 % threshold.',
  details: { withinBarPct: 0.6 },
  dedupeKey: 'price_move:USD/COP',
  at: '2025-03-03T13:05:02.000Z',
};

interface Received {
  path: string;
  contentType: string | undefined;
  body: unknown;
}

/** A real HTTP server that answers each POST with the next status of `statuses` (then 204). */
function webhookServer(statuses: number[] = []): { server: Server; received: Received[]; url: () => string } {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(text) });
      res.statusCode = statuses.shift() ?? 204;
      res.end();
    });
  });
  return { server, received, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-token-123` };
}

describe('webhook notifier', () => {
  const hook = webhookServer();
  const flaky = webhookServer([500]);
  const down = webhookServer([503, 503]);
  before(async () => {
    for (const h of [hook, flaky, down]) await new Promise<void>((resolve) => h.server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const h of [hook, flaky, down]) await new Promise<void>((resolve) => h.server.close(() => resolve()));
  });

  it('POSTs the alert as JSON', async () => {
    await webhookNotifier({ url: hook.url() }).send(ALERT);
    assert.equal(hook.received.length, 1);
    assert.equal(hook.received[0]?.path, '/hooks/secret-token-123');
    assert.equal(hook.received[0]?.contentType, 'application/json');
    assert.deepEqual(hook.received[0]?.body, ALERT);
  });

  it('retries once after a failure', async () => {
    await webhookNotifier({ url: flaky.url(), retryDelayMs: 10 }).send(ALERT);
    assert.equal(flaky.received.length, 2);
  });

  it('logs a delivery that failed twice, with the URL redacted, and never rejects', async () => {
    const { logger, lines } = captureLogger();
    const notifier = webhookNotifier({ url: down.url(), retryDelayMs: 10 });
    assert.equal(notifier.name, `webhook http://127.0.0.1:${(down.server.address() as AddressInfo).port}/***`);
    await notifyAll([notifier], ALERT, logger);
    assert.equal(down.received.length, 2);
    const failure = lines.find((l) => l.msg === 'alerts: notification failed after a retry');
    assert.ok(failure);
    assert.doesNotMatch(JSON.stringify(lines), /secret-token-123/);
    assert.match(String(failure['err']), /answered 503/);
  });

  it('gives up on an unreachable URL within its timeout, logging no secret', async () => {
    const { logger, lines } = captureLogger();
    // Port 9 (discard) on localhost: connection refused at once.
    await notifyAll([webhookNotifier({ url: 'http://127.0.0.1:9/hook/abc-secret', timeoutMs: 500, retryDelayMs: 10 })], ALERT, logger);
    assert.equal(lines.filter((l) => l.msg === 'alerts: notification failed after a retry').length, 1);
    assert.doesNotMatch(JSON.stringify(lines), /abc-secret/);
  });

  it('abandons a webhook that never answers once each of its two attempts times out', async () => {
    let requests = 0;
    const silent = createServer(() => void requests++);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { logger, lines } = captureLogger();
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
      await notifyAll([webhookNotifier({ url, timeoutMs: 200, retryDelayMs: 10 })], ALERT, logger);
      assert.equal(requests, 2);
      assert.match(String(lines.find((l) => l.msg === 'alerts: notification failed after a retry')?.['err']), /timeout|abort/i);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('redacts a webhook URL to scheme and host', () => {
    assert.equal(redactWebhookUrl('https://hooks.slack.com/services/T0/B0/XYZ?x=1'), 'https://hooks.slack.com/***');
    assert.equal(redactWebhookUrl('not a url'), '<unparseable url>');
  });
});

describe('e-mail notifier', () => {
  it('sends a message through nodemailer (jsonTransport) with the alert in subject and text', async () => {
    const sent: string[] = [];
    const json = nodemailer.createTransport({ jsonTransport: true });
    const transport = {
      sendMail: async (mail: { from: string; to: string; subject: string; text: string }) => {
        const info = await json.sendMail(mail);
        sent.push(info.message);
        return info;
      },
    };
    await emailNotifier({ transport, from: 'tasa@example.com', to: 'ops@example.com, desk@example.com' }).send(ALERT);
    assert.equal(sent.length, 1);
    const message = JSON.parse(sent[0] ?? '{}') as { subject: string; text: string; from: { address: string }; to: Array<{ address: string }> };
    assert.equal(message.subject, '[Tasa warning] price_move USD/COP');
    assert.equal(message.from.address, 'tasa@example.com');
    assert.deepEqual(
      message.to.map((t) => t.address),
      ['ops@example.com', 'desk@example.com'],
    );
    assert.match(message.text, /moved 0\.60 % within the bar/);
    assert.match(message.text, /Alert #7, key price_move:USD\/COP/);
  });

  it('retries a failed send once', async () => {
    let calls = 0;
    const transport = {
      sendMail: () => {
        calls++;
        return calls === 1 ? Promise.reject(new Error('421 try again later')) : Promise.resolve({});
      },
    };
    await emailNotifier({ transport, from: 'a@example.com', to: 'b@example.com', retryDelayMs: 10 }).send(ALERT);
    assert.equal(calls, 2);
  });
});

describe('notifiers from the configuration', () => {
  it('has a webhook when its URL is set and e-mail when SMTP and recipients are', () => {
    assert.deepEqual(notifiersFromConfig(loadConfig({})), []);
    const both = notifiersFromConfig(
      loadConfig({ TASA_ALERT_WEBHOOK_URL: 'https://hooks.example.com/abc', TASA_SMTP_URL: 'smtp://u:p@127.0.0.1:2525', TASA_ALERT_EMAIL_TO: 'ops@example.com' }),
    );
    assert.deepEqual(
      both.map((n) => n.name),
      ['webhook https://hooks.example.com/***', 'email'],
    );
    for (const n of both) n.close?.();
    assert.deepEqual(
      notifiersFromConfig(loadConfig({ TASA_SMTP_URL: 'smtp://127.0.0.1:2525' })).map((n) => n.name),
      [],
      'no recipients: no e-mail',
    );
  });
});
