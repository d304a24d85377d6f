/** `GET /status`: what the system is doing (ingest lifecycle and counters, key credits, last runs). */
import { Type, type Static } from 'typebox';
import { IngestSource } from './health.ts';
import { IsoTimeUtc, Nullable } from './schema-kit.ts';

const SymbolCounters = Type.Object({
  symbol: Type.String(),
  ticks: Type.Integer({ description: 'Ticks received' }),
  rejected: Type.Integer({ description: 'Ticks rejected by validation' }),
  rejectedByReason: Type.Record(Type.String(), Type.Integer()),
  bars: Type.Integer({ description: 'Final bars closed' }),
  emptySlots: Type.Integer({ description: 'Slots that closed without a tick' }),
  publishFailures: Type.Integer(),
  lastTickAt: Nullable(IsoTimeUtc),
  lastTickAgeSeconds: Nullable(Type.Number(), 'Seconds since the last tick was received; null before the first'),
});

export const IngestBody = Type.Object({
  state: Type.String(),
  transitions: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), at: IsoTimeUtc, reason: Type.String() }), { description: 'The latest, oldest first' }),
  holder: Nullable(Type.String(), 'The reporting process\'s name in the lease table'),
  leases: Type.Array(Type.String()),
  feed: Type.Object({
    state: Type.String(),
    detail: Nullable(Type.String()),
    connects: Type.Integer(),
    problems: Type.Record(Type.String(), Type.Integer()),
    failedSymbols: Type.Array(Type.String()),
  }),
  dataChecks: Type.Array(
    Type.Object({ symbol: Type.String(), lastBarAt: Nullable(IsoTimeUtc), fresh: Type.Boolean(), completeness: Type.Number(), complete: Type.Boolean() }),
  ),
  symbols: Type.Array(SymbolCounters),
  markets: Type.Array(
    Type.Object({
      symbol: Type.String(),
      state: Type.String({ description: 'READY while its market is closed, ACTIVE while the feed serves it' }),
      marketOpen: Type.Boolean({ description: 'Its market is open now, by its own calendar' }),
      subscribed: Type.Boolean({ description: 'The live feed tracks it now' }),
      session: Nullable(Type.Object({ date: Type.String(), open: IsoTimeUtc, close: IsoTimeUtc }), 'The session open now, or else the next one'),
      since: Nullable(IsoTimeUtc),
      reason: Nullable(Type.String({ description: 'Why it entered its state: market open, market closed, feed stopped or lease lost, ...' })),
      ignoredMarketClosed: Type.Integer({ description: 'Ticks stamped while its market was closed: dropped, never aggregated' }),
    }),
    { description: 'Each symbol in its own market hours (empty from an older ingest process that does not report them)' },
  ),
  writer: Type.Object({
    ticksWritten: Type.Integer(),
    barsWritten: Type.Integer(),
    flushes: Type.Integer(),
    failures: Type.Integer(),
    spooled: Type.Integer(),
    pending: Type.Integer(),
    databaseDown: Type.Boolean(),
    fencedOut: Type.Optional(Type.Integer({ description: 'Bars refused by the lease fence (ticks are never fenced)' })),
    spool: Type.Optional(
      Type.Object({
        bytes: Type.Integer(),
        entries: Type.Integer(),
        oldestAgeMs: Nullable(Type.Number()),
        rejected: Type.Integer({ description: 'Entries dropped because the spool was full' }),
      }),
    ),
  }),
});

export const KeyBody = Type.Object({
  id: Type.String({ description: 'Key id: k_ + a short sha256 of the key; never the key' }),
  status: Type.String(),
  badReason: Nullable(Type.String()),
  minuteLimit: Type.Integer(),
  minuteLeft: Type.Integer(),
  dayLimit: Type.Integer(),
  dayLeft: Type.Integer(),
  creditsTotal: Type.Number(),
  lastTakenAt: Nullable(IsoTimeUtc),
});

export const RunBody = Type.Object({
  layer: Type.String(),
  id: Type.Integer(),
  symbol: Nullable(Type.String()),
  status: Type.String(),
  startedAt: IsoTimeUtc,
  finishedAt: Nullable(IsoTimeUtc),
  rowsIn: Nullable(Type.Integer()),
  rowsOut: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
});

export const StatusBody = Type.Object(
  {
    time: IsoTimeUtc,
    version: Type.String(),
    source: IngestSource,
    note: Type.String({ description: 'Where the ingest status comes from, or "unknown (no ingest process has reported)"' }),
    publishedAt: Nullable(IsoTimeUtc, 'When the ingest status was taken'),
    system: Nullable(Type.Object({ store: Type.String(), bus: Type.String(), upstream: Type.String() }), 'The ingest process: its store, bus and upstream'),
    ingest: Nullable(IngestBody, 'null when unknown or when the reporting process does not ingest'),
    keys: Type.Array(KeyBody, { description: 'TwelveData key pool: credits left in the current minute and UTC day' }),
    jobs: Type.Object({
      lastRuns: Type.Array(RunBody, { description: 'The latest pipeline_runs row of each layer' }),
      openAlerts: Type.Integer(),
    }),
  },
  { description: 'Lifecycle state, counters, key-pool credits, last job runs. Times UTC.' },
);
export type StatusBody = Static<typeof StatusBody>;
export type IngestBody = Static<typeof IngestBody>;
export type KeyBody = Static<typeof KeyBody>;
export type RunBody = Static<typeof RunBody>;
