/** `GET /api/pipeline/data-quality`: coverage, flat share, repairs, backfills and gaps of a period. */
import { Type, type Static } from 'typebox';
import { IsoDateText, IsoTime, Nullable } from './schema-kit.ts';

const SessionStatusSchema = Type.Union([Type.Literal('complete'), Type.Literal('partial'), Type.Literal('missing')]);

export const GapView = Type.Object({
  from: IsoTime('Open time of the first missing bar'),
  to: IsoTime('End of the last missing bar (exclusive)'),
  bars: Type.Integer({ description: 'Missing bars in the run' }),
});
export type GapView = Static<typeof GapView>;

const qualityFields = {
  expected: Type.Integer({ description: 'Bars the calendar grid expects' }),
  present: Type.Integer({ description: 'Grid slots with a stored bar' }),
  missing: Type.Integer({ description: 'Grid slots without a bar' }),
  coverage: Nullable(Type.Number({ description: 'present / expected; null when nothing is expected' })),
  flat: Type.Integer({ description: 'Present bars flagged flat (open = high = low = close)' }),
  flatShare: Nullable(Type.Number({ description: 'flat / present; null when no bar is present' })),
  repaired: Type.Integer({ description: 'Present bars flagged repaired (timestamp corrected)' }),
  backfilled: Type.Integer({ description: 'Present bars flagged backfilled (filled from REST history)' }),
};
export const QualityCounts = Type.Object(qualityFields);
export type QualityCounts = Static<typeof QualityCounts>;

export const DayQuality = Type.Object({
  date: IsoDateText('Session date'),
  ...qualityFields,
  status: SessionStatusSchema,
  recordedStatus: Nullable(SessionStatusSchema),
  gaps: Type.Array(GapView),
});
export type DayQuality = Static<typeof DayQuality>;

export const HourQuality = Type.Object({
  hour: Type.String({ description: "Start of the session hour in the market's wall time, HH:MM (Bogota for USD/COP)" }),
  ...qualityFields,
});

export const DataQualityReport = Type.Object(
  {
    symbol: Type.String(),
    from: IsoDateText('First session date'),
    to: IsoDateText('Last session date'),
    sessions: Type.Object({
      total: Type.Integer({ description: 'Sessions in the calendar' }),
      complete: Type.Integer(),
      partial: Type.Integer(),
      missing: Type.Integer(),
      notRecorded: Type.Integer({ description: 'Sessions without a row in the session quality table (never imported or refreshed)' }),
    }),
    bars: Type.Object({
      ...qualityFields,
      gaps: Type.Integer({ description: 'Runs of consecutive missing bars' }),
      outsideSessions: Type.Integer({ description: 'Stored bars in the period that are not on a session grid slot' }),
    }),
    flags: Type.Record(Type.String(), Type.Integer(), { description: 'Stored bars per value of bars.flags' }),
    sources: Type.Record(Type.String(), Type.Integer(), { description: 'Stored bars per bars.source' }),
    byDay: Type.Array(DayQuality),
    byHourOfSession: Type.Array(HourQuality),
  },
  { description: 'Coverage, flat share, repairs, backfills and gaps of a symbol over a period' },
);
export type DataQualityReport = Static<typeof DataQualityReport>;
