/** The small schema builders every response contract uses. */
import { Type, type TSchema } from 'typebox';

/** `schema` or null. */
export function Nullable<T extends TSchema>(schema: T, description?: string) {
  return Type.Union([schema, Type.Null()], description === undefined ? {} : { description });
}

/** An instant, saying what it is. */
export const IsoTime = (description: string) => Type.String({ format: 'date-time', description: `${description} (UTC, ISO 8601 with Z)` });

/** An instant, with an example. */
export const IsoTimeUtc = Type.String({ format: 'date-time', description: 'UTC, ISO 8601 with Z', examples: ['2024-01-02T13:00:00.000Z'] });

/** A calendar date, saying what it is and whose: by default a date of the instrument's market calendar (the desk's P&L days are Bogota's). */
export const IsoDateText = (description: string, whose = "the market's own calendar; Bogota for USD/COP") =>
  Type.String({ format: 'date', description: `${description} (YYYY-MM-DD, ${whose})` });
