/** `GET /api/alerts`: the alerts raised by the alert engine and the failsafe job. */
import { Type, type Static } from 'typebox';

export const AlertJson = Type.Object(
  {
    id: Type.Integer(),
    at: Type.String({ format: 'date-time', description: 'When it was raised, UTC' }),
    kind: Type.String({ description: 'price_move, no_ticks, feed_disconnected, key_budget_low, coverage_below_target' }),
    severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    symbol: Type.Union([Type.String(), Type.Null()], { description: 'Null for system alerts' }),
    message: Type.String(),
    details: Type.Object({}, { additionalProperties: true }),
    dedupeKey: Type.String({ description: 'Raising the same condition again while open counts an occurrence instead of a new alert' }),
    occurrences: Type.Integer({ minimum: 1 }),
    lastSeenAt: Type.String({ format: 'date-time' }),
    resolvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Null while open' }),
  },
  { $id: 'Alert' },
);
export type AlertJson = Static<typeof AlertJson>;

export const AlertList = Type.Object({ alerts: Type.Array(AlertJson) });
export type AlertList = Static<typeof AlertList>;
