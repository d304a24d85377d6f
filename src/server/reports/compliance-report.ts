/**
 * Data lineage and quality of a period, per symbol, for compliance: where the bars came from
 * (bars.source, raw file / REST answer hashes), what was repaired or backfilled (flags, audit
 * entries, backfill runs), what is still missing (gaps) and how complete the sessions are.
 */
import { Type, type Static } from 'typebox';
import type { MarketCalendar } from '../../domain/calendar.ts';
import type { SymbolCode } from '../../domain/symbol.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { isRestOrigin } from '../../jobs/backfill-store.ts';
import { auditCountsByAction, listAudit, type AuditEntry } from '../../store/audit-repo.ts';
import type { Db } from '../../store/db.ts';
import { runsTouchingDates } from '../../store/pipeline-runs-repo.ts';
import { rawOriginsBetween, type RawOriginSummary } from '../../store/raw-bars-repo.ts';
import type { DatePeriod } from '../request-inputs.ts';
import { AuditView } from '../../contracts/api/compliance.ts';
import { DataQualityReport, GapView, QualityCounts } from '../../contracts/api/data-quality.ts';
import { RunView } from '../../contracts/api/pipeline.ts';
import { IsoDateText, IsoTime } from '../../contracts/api/schema-kit.ts';
import { dataQuality } from './data-quality.ts';
import { runView } from './pipeline-status.ts';

export function auditView(e: AuditEntry): AuditView {
  return { id: e.id, at: toIsoUtc(e.at), actor: e.actor, action: e.action, entity: e.entity, details: e.details };
}

/** Audit entries listed per kind in a report; the counts are always complete. */
export const REPORT_ENTRY_LIMIT = 200;
const BACKFILL_RUN_LIMIT = 100;
/** Steps that fill L1 from REST (see pipeline/layers.ts). */
const BACKFILL_STEPS = ['backfill', 'failsafe'];

const SourceOrigin = Type.Object({
  origin: Type.String({ description: 'File name, or the REST request for backfilled answers' }),
  kind: Type.Union([Type.Literal('file'), Type.Literal('rest')]),
  sha256: Type.String({ description: 'sha256 of the whole file or REST answer' }),
  rowsInPeriod: Type.Integer({ description: 'Parsed raw rows with a time in the period' }),
  rowsTotal: Type.Integer({ description: 'Every raw row stored from it' }),
  firstBar: IsoTime('First parsed row in the period'),
  lastBar: IsoTime('Last parsed row in the period'),
  ingestedAt: IsoTime('When it was stored'),
});

const EntryList = {
  count: Type.Integer({ description: 'Audit entries of this kind for the period\'s sessions' }),
  entries: Type.Array(AuditView, { description: `The first ${REPORT_ENTRY_LIMIT}, oldest first` }),
};

export const SymbolCompliance = Type.Object({
  symbol: Type.String(),
  sessions: DataQualityReport.properties.sessions,
  bars: QualityCounts,
  sources: Type.Record(Type.String(), Type.Integer(), { description: 'Stored bars per bars.source' }),
  flags: Type.Record(Type.String(), Type.Integer(), { description: 'Stored bars per value of bars.flags' }),
  gaps: Type.Array(Type.Object({ date: IsoDateText('Session date'), ...GapView.properties })),
  repairs: Type.Object({ bars: Type.Integer({ description: 'Bars flagged repaired' }), ...EntryList }),
  backfills: Type.Object({
    bars: Type.Integer({ description: 'Bars flagged backfilled' }),
    ...EntryList,
    runs: Type.Array(RunView, { description: `Backfill and failsafe runs over these dates that wrote bars or failed, newest first (at most ${BACKFILL_RUN_LIMIT})` }),
  }),
  auditActions: Type.Record(Type.String(), Type.Integer(), { description: 'Audit entries about the period\'s sessions (entity bars:<symbol>:<date>) per action' }),
  origins: Type.Array(SourceOrigin, { description: 'Raw (L0) origins of the period: imported files and REST answers' }),
});
export type SymbolCompliance = Static<typeof SymbolCompliance>;

export const ComplianceReport = Type.Object(
  {
    generatedAt: IsoTime('Server clock time of the report'),
    generatedFor: Type.String({ description: 'The principal (token id or JWT subject) that asked' }),
    from: IsoDateText('First session date'),
    to: IsoDateText('Last session date'),
    symbols: Type.Array(SymbolCompliance),
  },
  { description: 'Data lineage and quality of a period' },
);
export type ComplianceReport = Static<typeof ComplianceReport>;

export async function symbolCompliance(db: Db, calendar: MarketCalendar, symbol: SymbolCode, period: DatePeriod): Promise<SymbolCompliance> {
  const quality = await dataQuality(db, calendar, symbol, period);
  const entities = { entityFrom: `bars:${symbol}:${period.from}`, entityTo: `bars:${symbol}:${period.to}` };
  const entries = (actionPrefix: string) => listAudit(db, { ...entities, actionPrefix, limit: REPORT_ENTRY_LIMIT });
  const [actions, repairs, fills, runs, origins] = await Promise.all([
    auditCountsByAction(db, entities.entityFrom, entities.entityTo),
    entries('repair.'),
    entries('backfill.'),
    runsTouchingDates(db, { layers: BACKFILL_STEPS, symbol, from: period.from, to: period.to, limit: BACKFILL_RUN_LIMIT }),
    rawOriginsBetween(db, symbol, period.fromMs, period.toMs),
  ]);
  const countOf = (prefix: string) => Object.entries(actions).reduce((n, [action, c]) => (action.startsWith(prefix) ? n + c : n), 0);
  const { gaps: _gaps, outsideSessions: _outside, ...bars } = quality.bars;
  return {
    symbol,
    sessions: quality.sessions,
    bars,
    sources: quality.sources,
    flags: quality.flags,
    gaps: quality.byDay.flatMap((d) => d.gaps.map((g) => ({ date: d.date, ...g }))),
    repairs: { bars: quality.bars.repaired, count: countOf('repair.'), entries: repairs.map(auditView) },
    backfills: { bars: quality.bars.backfilled, count: countOf('backfill.'), entries: fills.map(auditView), runs: runs.map(runView) },
    auditActions: actions,
    origins: origins.map(originView),
  };
}

function originView(o: RawOriginSummary): Static<typeof SourceOrigin> {
  return {
    origin: o.origin,
    kind: isRestOrigin(o.origin) ? 'rest' : 'file',
    sha256: o.sha256,
    rowsInPeriod: o.rowsInPeriod,
    rowsTotal: o.rowsTotal,
    firstBar: toIsoUtc(o.firstTime),
    lastBar: toIsoUtc(o.lastTime),
    ingestedAt: toIsoUtc(o.ingestedAt),
  };
}
