/**
 * What an alert looks like on the `alerts` bus channel, to webhooks and in e-mails: one JSON
 * shape with UTC ISO times.
 *
 * Bus streams are per symbol and `publish` needs a concrete one ('*' only subscribes). An alert
 * about one symbol goes on that symbol's stream; a system alert (feed down, key budget) concerns
 * every served symbol, so it goes on each of their streams: a client following USD/COP sees it
 * without a special subscription. A '*' subscriber may therefore see a system alert once per
 * symbol, with the same `id`.
 */
import type { Bus } from '../bus/index.ts';
import type { AlertMessage } from '../contracts/bus-messages.ts';
import { toIsoUtc } from '../domain/time.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Alert } from '../store/alerts-repo.ts';

/** The message for a stored alert: open unless it has been resolved. */
export function alertMessage(alert: Pick<Alert, 'id' | 'kind' | 'severity' | 'symbol' | 'message' | 'details' | 'dedupeKey' | 'at' | 'resolvedAt'>): AlertMessage {
  return {
    state: alert.resolvedAt === null ? 'open' : 'resolved',
    id: alert.id,
    kind: alert.kind,
    severity: alert.severity,
    symbol: alert.symbol,
    message: alert.message,
    details: alert.details,
    dedupeKey: alert.dedupeKey,
    at: toIsoUtc(alert.resolvedAt ?? alert.at),
  };
}

/**
 * Publishes on the `alerts` channel (see the header for system alerts); a bus failure is logged,
 * never thrown. Not awaited: while Redis is unreachable the events wait in the bus's buffer (in
 * order), and the engine and its notifiers must not wait for Redis.
 */
export function publishAlert(bus: Bus, symbols: readonly string[], msg: AlertMessage, logger: Logger): Promise<void> {
  const targets = msg.symbol === null ? symbols : [msg.symbol];
  for (const symbol of targets) {
    bus.publish('alerts', symbol, msg).catch((err: unknown) => logger.warn({ alert: msg.dedupeKey, symbol, err: errorMessage(err) }, 'alerts: bus publish failed'));
  }
  return Promise.resolve();
}
