/**
 * Compliance: the append-only audit trail (repairs, backfills, imports, configuration and admin
 * actions), the market rules and data policies in force, and a lineage and quality report of a
 * period (needs a token; each report is itself audited).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toIsoUtc } from '../../domain/time.ts';
import { appendAudit, listAudit } from '../../store/audit-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { AuditTrail } from '../../contracts/api/compliance.ts';
import { auditView, ComplianceReport, symbolCompliance } from '../reports/compliance-report.ts';
import { regulations, Regulations } from '../reports/regulations.ts';
import { datePeriod, instantParam, principalOf, servedOrDefault, servedSymbol, TOKEN_SECURITY } from '../request-inputs.ts';
import { RowId } from '../param-bounds.ts';
import { SymbolString } from '../market-inputs.ts';

const TAGS = ['compliance'];
/** Longest period of one compliance report (about ten years). */
export const MAX_REPORT_DAYS = 3700;

export const complianceRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  app.get(
    '/api/compliance/audit-trail',
    {
      schema: {
        tags: TAGS,
        summary: 'The audit log, newest first',
        description:
          'Append-only record of imports, repairs, backfills, configuration and admin actions. Paged by keyset: pass the previous page\'s nextBeforeId as beforeId.',
        querystring: Type.Object({
          action: Type.Optional(Type.String({ minLength: 1, description: 'Exact action, e.g. backfill.fill, repair.bogota_wall_clock_as_utc, token.create' })),
          entity: Type.Optional(Type.String({ minLength: 1, description: 'Exact entity, e.g. bars:USD/COP:2024-01-02 or token:t_0123456789ab' })),
          from: Type.Optional(Type.String({ description: 'Entries at or after: ISO 8601 time with Z/offset, or a Bogota date (its start)' })),
          to: Type.Optional(Type.String({ description: 'Entries before: ISO 8601 time with Z/offset, or a Bogota date (inclusive: up to its end)' })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'Entries per page' }),
          beforeId: Type.Optional(RowId('Only entries with a smaller id')),
        }),
        response: { 200: AuditTrail, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      const from = q.from === undefined ? undefined : instantParam('from', q.from, 'start', null);
      const to = q.to === undefined ? undefined : instantParam('to', q.to, 'end', null);
      const entries = await listAudit(deps.db, { action: q.action, entity: q.entity, from, to, limit: q.limit, beforeId: q.beforeId, newestFirst: true });
      return { entries: entries.map(auditView), nextBeforeId: entries.length === q.limit ? (entries.at(-1)?.id ?? null) : null };
    },
  );

  app.get(
    '/api/compliance/regulations',
    {
      schema: {
        tags: TAGS,
        summary: 'Market rules and data policies in force',
        description: 'Session hours and bar grid, time zone, the holiday calendar\'s source, overrides and fingerprint, a year\'s holidays (default: this year in the market\'s zone), and data retention.',
        querystring: Type.Object({
          symbol: Type.Optional(SymbolString),
          year: Type.Optional(Type.Integer({ minimum: 1994, maximum: 2099, description: 'Year of the holiday lists' })),
        }),
        response: { 200: Regulations, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const symbol = servedOrDefault(deps.symbols, request.query.symbol);
      const year = request.query.year ?? Number(deps.calendar.of(symbol).localDate(deps.clock.now()).slice(0, 4));
      return regulations(deps.db, deps.calendar, deps.symbols, symbol, { year, overridesFile: deps.config.TASA_CALENDAR_OVERRIDES ?? null });
    },
  );

  app.post(
    '/api/compliance/report',
    {
      preHandler: app.requireRole('reader'),
      schema: {
        tags: TAGS,
        summary: 'Data lineage and quality report of a period',
        description: `Per symbol: bars by source, flags, repairs and backfills (bars, audit entries, runs), gaps, raw origins (files and REST answers with sha256 and row counts), sessions complete/partial/missing. Needs a reader or admin token; at most ${MAX_REPORT_DAYS} days. Recorded in the audit log (compliance.report).`,
        security: TOKEN_SECURITY,
        body: Type.Object({
          from: Type.String({ format: 'date', description: "First session date of each symbol's market calendar, YYYY-MM-DD (Bogota for USD/COP; EUR/USD's opens 17:00 New York the day before), inclusive" }),
          to: Type.String({ format: 'date', description: "Last session date of each symbol's market calendar, YYYY-MM-DD (Bogota for USD/COP), inclusive" }),
          symbol: Type.Optional(Type.String({ description: 'One symbol (USD/COP or USDCOP); default every symbol this server serves' })),
        }),
        response: { 200: ComplianceReport, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { body } = request;
      const period = datePeriod(body.from, body.to, MAX_REPORT_DAYS, null);
      const symbols = body.symbol === undefined ? deps.symbols : [servedSymbol(deps.symbols, body.symbol)];
      const reports = [];
      for (const symbol of symbols) {
        // Each symbol's dates span its own sessions (EUR/USD's open the evening before).
        const calendar = deps.calendar.of(symbol);
        reports.push(await symbolCompliance(deps.db, calendar, symbol, datePeriod(body.from, body.to, MAX_REPORT_DAYS, calendar)));
      }
      const at = deps.clock.now();
      await appendAudit(deps.db, [{ actor: principal.id, action: 'compliance.report', entity: `report:${period.from}..${period.to}`, details: { symbols }, at }]);
      return { generatedAt: toIsoUtc(at), generatedFor: principal.id, from: period.from, to: period.to, symbols: reports };
    },
  );
  return Promise.resolve();
};
