/** `GET /api/compliance/audit-trail`: the append-only audit log, newest first. */
import { Type, type Static } from 'typebox';
import { IsoTime, Nullable } from './schema-kit.ts';

export const AuditView = Type.Object({
  id: Type.Integer(),
  at: IsoTime('When it was recorded'),
  actor: Type.String({ description: 'Who: a token id (t_...), a JWT subject, cli, or a component (standardizer, backfill, failsafe)' }),
  action: Type.String(),
  entity: Type.String({ description: 'What it concerns, e.g. bars:USD/COP:2024-01-02, file:<name>, token:<id>' }),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditView = Static<typeof AuditView>;

export const AuditTrail = Type.Object({ entries: Type.Array(AuditView), nextBeforeId: Nullable(Type.Integer({ description: 'beforeId of the next (older) page; null on the last page' })) });
export type AuditTrail = Static<typeof AuditTrail>;
