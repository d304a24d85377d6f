/**
 * Stream entries <-> bus events, and checked parsing of XREAD/XRANGE replies. The one place where
 * what comes from Redis is checked against the channel contracts (contracts/bus-messages.ts): an
 * entry whose data does not match is unreadable, like a corrupt one.
 */
import { Compile } from 'typebox/compile';
import { BUS_MESSAGE_SCHEMAS } from '../../contracts/bus-messages.ts';
import { CHANNELS, type BusEvent, type Channel } from '../types.ts';

/** `[id, [field, value, ...]]` as Redis returns a stream entry. */
export type StreamEntry = [id: string, fields: string[]];

type DataCheck = ReturnType<typeof Compile>;

/** One compiled check per channel, from the channel contracts. */
const DATA_CHECKS = Object.fromEntries(CHANNELS.map((channel) => [channel, Compile(BUS_MESSAGE_SCHEMAS[channel])])) as Record<Channel, DataCheck>;

export function entryFields(channel: Channel, time: number, json: string): string[] {
  return ['c', channel, 't', String(time), 'd', json];
}

/**
 * The event of an entry, or an Error saying what is wrong with it (a foreign writer, a corrupt
 * value, data off its channel's contract). `checkData` false skips the contract (see
 * RedisBusOptions.checkMessages).
 */
export function decodeEntry(symbol: string, [id, fields]: StreamEntry, checkData: boolean): BusEvent | Error {
  const seq = Number(id.slice(0, id.indexOf('-')));
  const value = (name: string) => fieldValue(fields, name);
  const channel = value('c');
  const time = Number(value('t'));
  if (!Number.isSafeInteger(seq) || seq < 1 || !id.endsWith('-0')) return new Error(`entry ID ${id} is not <seq>-0`);
  if (!isChannel(channel)) return new Error(`entry ${id} has no known channel`);
  if (!Number.isFinite(time)) return new Error(`entry ${id} has no time`);
  let data: unknown;
  try {
    data = JSON.parse(value('d') ?? '');
  } catch {
    return new Error(`entry ${id} has no JSON data`);
  }
  const check = DATA_CHECKS[channel];
  // The data is its channel's message once checked (or taken as one when the bus is told not to check).
  if (!checkData || check.Check(data)) return { seq, channel, symbol, time, data } as BusEvent;
  const first = check.Errors(data)[0];
  return new Error(`entry ${id} is not a ${channel} message (${first?.instancePath || '/'}: ${first?.message ?? 'does not match the contract'})`);
}

function isChannel(name: string | undefined): name is Channel {
  return (CHANNELS as readonly (string | undefined)[]).includes(name);
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
