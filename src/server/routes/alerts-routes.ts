/**
 * Alerts for the dashboard and operators: `GET /api/alerts` lists them (newest first), and
 * `POST /api/alerts/{id}/resolve` (admin) closes one by hand, announcing it on the `alerts`
 * channel. The alert engine (src/alerts) and the failsafe job raise and resolve them.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AlertJson, AlertList } from '../../contracts/api/alerts.ts';
import { alertMessage, publishAlert } from '../../alerts/alert-message.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { listAlerts, resolveAlertById, type Alert } from '../../store/alerts-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { servedSymbol } from '../request-inputs.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { RowId } from '../param-bounds.ts';

const ListQuery = Type.Object({
  open: Type.Optional(Type.Boolean({ description: 'true: only open alerts; otherwise all' })),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  symbol: Type.Optional(Type.String({ description: 'USD/COP, USD%2FCOP or USDCOP' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const IdParams = Type.Object({ id: RowId('Alert id') });

function alertJson(a: Alert): AlertJson {
  return {
    id: a.id,
    at: toIsoUtc(a.at),
    kind: a.kind,
    severity: a.severity,
    symbol: a.symbol,
    message: a.message,
    details: a.details,
    dedupeKey: a.dedupeKey,
    occurrences: a.occurrences,
    lastSeenAt: toIsoUtc(a.lastSeenAt),
    resolvedAt: a.resolvedAt === null ? null : toIsoUtc(a.resolvedAt),
  };
}

export const alertsRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/api/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'List alerts, newest first',
        querystring: ListQuery,
        response: { 200: AlertList, 404: ErrorBody, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      const alerts = await listAlerts(deps.db, {
        openOnly: q.open === true,
        limit: q.limit ?? 100,
        ...(q.kind === undefined ? {} : { kind: q.kind }),
        ...(q.symbol === undefined ? {} : { symbol: servedSymbol(deps.symbols, q.symbol) }),
      });
      return { alerts: alerts.map(alertJson) };
    },
  );

  app.post(
    '/api/alerts/:id/resolve',
    {
      preHandler: app.requireRole('admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Resolve an alert by hand (admin); resolving a resolved alert changes nothing',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: IdParams,
        response: { 200: Type.Object({ alert: AlertJson }), 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const result = await resolveAlertById(deps.db, request.params.id, deps.clock.now());
      if (result === null) throw new TasaError('not_found', `No alert with id ${request.params.id}.`, { input: 'id' });
      if (result.closed) await publishAlert(deps.bus, deps.symbols, alertMessage(result.alert), deps.logger);
      request.log.info({ alert: result.alert.id, by: request.principal?.id, closed: result.closed }, 'alert resolved by hand');
      return { alert: alertJson(result.alert) };
    },
  );
  return Promise.resolve();
};
