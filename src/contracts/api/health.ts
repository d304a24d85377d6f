/** `GET /health`: is the serving process ready (database, Redis, the ingest lease holders)? */
import { Type, type Static } from 'typebox';
import { IsoTimeUtc, Nullable } from './schema-kit.ts';

export const Probe = Type.Object({
  ok: Type.Boolean(),
  latencyMs: Nullable(Type.Number(), 'Round trip, ms (null when it failed)'),
  error: Nullable(Type.String(), 'Why it failed'),
});

export const IngestSource = Type.Union([Type.Literal('local'), Type.Literal('ingest_process'), Type.Literal('none')], {
  description: 'local = ingestion runs in this process; ingest_process = snapshot from the bus; none = no ingest process has reported',
});

export const LeaseBody = Type.Object({
  symbol: Type.String(),
  holder: Nullable(Type.String(), 'The process holding the ingest lease (null: never taken)'),
  epoch: Nullable(Type.Integer(), 'Fencing token: rises each time the lease changes holder'),
  expiresAt: Nullable(IsoTimeUtc),
  live: Type.Boolean({ description: 'The lease is held now (not expired)' }),
});

export const HealthBody = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('degraded'), Type.Literal('not_ready')]),
    failed: Type.Array(Type.String(), { description: 'The checks that failed: database, redis, ingest (empty when ready)' }),
    degraded: Type.Array(Type.String(), { description: 'Why the system is degraded though it serves (empty when not), e.g. no live ingest lease holder during market hours' }),
    version: Type.String(),
    time: IsoTimeUtc,
    checks: Type.Object({
      database: Probe,
      redis: Nullable(Probe, 'null when no Redis is configured (in-process bus)'),
      ingest: Type.Object({
        ok: Type.Boolean({ description: 'False only when ingestion runs in this process and is in ERROR' }),
        source: IngestSource,
        state: Nullable(Type.String(), 'Lifecycle state (INITIALIZING, WAITING_L0, CHECKING_DATA, READY, ACTIVE, ERROR, SHUTDOWN)'),
        feed: Nullable(Type.String(), 'Feed connection state'),
        note: Type.String(),
        holder: Nullable(Type.String(), 'The process whose state is shown: the ingest lease holder (lease table), else the reporting process'),
        leases: Type.Array(LeaseBody, { description: 'Each symbol\'s ingest lease, from the lease table' }),
        standbys: Type.Array(Type.Object({ holder: Type.String(), state: Nullable(Type.String()), publishedAt: IsoTimeUtc }), {
          description: 'Other ingest processes that publish a status without holding the lease',
        }),
      }),
    }),
    market: Type.Object({ open: Type.Boolean({ description: 'The USD/COP session is open now' }) }),
  },
  {
    description:
      'Ready when the database answers and, when configured, Redis does; ingestion fails readiness only when it runs in this process and is in ERROR. Degraded (still 200) while, during market hours, no live process holds a symbol\'s ingest lease.',
    examples: [
      {
        status: 'ready',
        failed: [],
        degraded: [],
        version: '0.1.0',
        time: '2024-01-02T15:00:00.000Z',
        checks: {
          database: { ok: true, latencyMs: 1.2, error: null },
          redis: null,
          ingest: {
            ok: true,
            source: 'local',
            state: 'ACTIVE',
            feed: 'connected',
            note: 'ingestion runs in this process',
            holder: 'ingest-1:4242',
            leases: [{ symbol: 'USD/COP', holder: 'ingest-1:4242', epoch: 3, expiresAt: '2024-01-02T15:00:20.000Z', live: true }],
            standbys: [],
          },
        },
        market: { open: true },
      },
    ],
  },
);
export type HealthBody = Static<typeof HealthBody>;
export type Probe = Static<typeof Probe>;
export type LeaseBody = Static<typeof LeaseBody>;
