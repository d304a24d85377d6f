/** Stream entries <-> bus events, and checked parsing of XREAD/XRANGE replies. */
import { CHANNELS, type BusEvent, type Channel } from '../types.ts';

/** `[id, [field, value, ...]]` as Redis returns a stream entry. */
export type StreamEntry = [id: string, fields: string[]];

export function entryFields(channel: Channel, time: number, json: string): string[] {
  return ['c', channel, 't', String(time), 'd', json];
}

/** The event of an entry, or an Error saying what is wrong with it (a foreign writer, a corrupt value). */
export function decodeEntry(symbol: string, [id, fields]: StreamEntry): BusEvent | Error {
  const seq = Number(id.slice(0, id.indexOf('-')));
  const value = (name: string) => fieldValue(fields, name);
  const channel = value('c');
  const time = Number(value('t'));
  if (!Number.isSafeInteger(seq) || seq < 1 || !id.endsWith('-0')) return new Error(`entry ID ${id} is not <seq>-0`);
  if (!(CHANNELS as readonly string[]).includes(channel ?? '')) return new Error(`entry ${id} has no known channel`);
  if (!Number.isFinite(time)) return new Error(`entry ${id} has no time`);
  try {
    return { seq, channel: channel as Channel, symbol, time, data: JSON.parse(value('d') ?? '') as unknown };
  } catch {
    return new Error(`entry ${id} has no JSON data`);
  }
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

export function parseEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) throw new Error(`expected stream entries, got ${typeof reply}`);
  return reply.map((entry: unknown) => {
    if (Array.isArray(entry) && typeof entry[0] === 'string' && Array.isArray(entry[1]) && entry[1].every((f) => typeof f === 'string')) {
      return [entry[0], entry[1]];
    }
    throw new Error('malformed stream entry');
  });
}

export type XreadStreams = Array<[key: string, entries: StreamEntry[]]>;

/** XREAD's reply (RESP2): `[[key, entries], ...]`, or null when the block timed out (or was interrupted). */
export function parseXreadReply(reply: unknown): XreadStreams {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw new Error(`expected an XREAD reply, got ${typeof reply}`);
  return reply.map((item: unknown) => {
    if (Array.isArray(item) && typeof item[0] === 'string') return [item[0], parseEntries(item[1])];
    throw new Error('malformed XREAD reply');
  });
}
