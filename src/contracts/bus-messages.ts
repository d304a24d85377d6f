/**
 * What each bus channel carries: one TypeBox schema per channel, the single source of the
 * producers' types, the typed `Bus` (bus/types.ts), the Redis codec's runtime check and the
 * WebSocket protocol. Extra properties are allowed, so a newer producer can add a field without
 * older readers dropping its events. The trading channels (orders, fills, positions) take their
 * schemas from trading-messages.ts.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { TRADING_MESSAGE_SCHEMAS } from './trading-messages.ts';

export const CHANNELS = ['ticks', 'bars', 'status', 'alerts', 'predictions', 'orders', 'fills', 'positions'] as const;
export type Channel = (typeof CHANNELS)[number];

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Iso = Type.String({ description: 'UTC ISO 8601 with Z' });

/** `ticks`: each accepted tick; also cached under `latest:<symbol>` (see ingest/tick-processor.ts). */
export const LatestPrice = Type.Object({
  symbol: Type.String(),
  price: Type.Number(),
  bid: Nullable(Type.Number()),
  ask: Nullable(Type.Number()),
  spread: Nullable(Type.Number()),
  /** Exchange time of the tick. */
  timestamp: Iso,
  receivedAt: Iso,
  source: Type.String(),
});
export type LatestPrice = Static<typeof LatestPrice>;

/** `bars`: a forming (final = false), closed or revised 5-minute bar. */
export const BarUpdate = Type.Object({
  /** Open time of the slot. */
  time: Iso,
  open: Type.Number(),
  high: Type.Number(),
  low: Type.Number(),
  close: Type.Number(),
  tickCount: Nullable(Type.Number()),
  revision: Type.Integer(),
  final: Type.Boolean(),
  /** A domain/bar.ts BarSource. */
  source: Type.String(),
  /** The feed covered only `coverage` of the slot: the bar may miss ticks (both absent from older producers). */
  partial: Type.Optional(Type.Boolean()),
  coverage: Type.Optional(Nullable(Type.Number())),
  /** Absent: only an empty slot says `empty`. */
  empty: Type.Optional(Type.Literal(false)),
});
export type BarUpdate = Static<typeof BarUpdate>;

/** `bars`: a slot that closed without ticks; it gets no bar and is never forward-filled. */
export const EmptySlot = Type.Object({ time: Iso, empty: Type.Literal(true), final: Type.Literal(true) });
export type EmptySlot = Static<typeof EmptySlot>;

export const BarEvent = Type.Union([BarUpdate, EmptySlot]);
export type BarEvent = Static<typeof BarEvent>;

/** `status`: an ingest lifecycle transition (states of ingest/lifecycle.ts), on each served symbol. */
export const LifecycleStatus = Type.Object({
  kind: Type.Literal('lifecycle'),
  state: Type.String(),
  from: Type.String(),
  reason: Type.String(),
  at: Iso,
});
export type LifecycleStatus = Static<typeof LifecycleStatus>;

export const AlertSeverity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);

/** `alerts`: an alert raised (open) or resolved; also what webhooks and e-mails get (alerts/alert-message.ts). */
export const AlertMessage = Type.Object({
  /** `open` when raised (new, not a repeat), `resolved` when its condition cleared or an operator closed it. */
  state: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  id: Type.Integer(),
  kind: Type.String(),
  severity: AlertSeverity,
  /** Null for a system alert (published on every served symbol's stream). */
  symbol: Nullable(Type.String()),
  message: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  dedupeKey: Type.String(),
  /** When it was raised (open) or resolved. */
  at: Iso,
});
export type AlertMessage = Static<typeof AlertMessage>;

/** `predictions`: the production policy's decision on a final bar (research/live-predictor.ts). */
export const PredictionMessage = Type.Object({
  barTime: Iso,
  modelId: Type.String(),
  /** Short, flat, long. */
  position: Type.Union([Type.Literal(-1), Type.Literal(0), Type.Literal(1)]),
  probabilities: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
  latencyMs: Type.Number(),
});
export type PredictionMessage = Static<typeof PredictionMessage>;

/** Channel -> the schema of its data. */
export const BUS_MESSAGE_SCHEMAS = {
  ticks: LatestPrice,
  bars: BarEvent,
  status: LifecycleStatus,
  alerts: AlertMessage,
  predictions: PredictionMessage,
  ...TRADING_MESSAGE_SCHEMAS,
} satisfies Record<Channel, TSchema>;

/** Channel -> the type of its data. */
export type BusMessages = { [C in Channel]: Static<(typeof BUS_MESSAGE_SCHEMAS)[C]> };
