/**
 * Seq allocation and append in one atomic step (a Lua script runs alone on the server), so that
 * any number of processes publishing the same symbol never produce a duplicate or out-of-order
 * seq, and a stream ID always equals its seq (`<seq>-0`): XREAD/XRANGE by seq need no lookup.
 *
 * Two guards keep seqs from going backwards when Redis loses keys (it may keep nothing on disk):
 * - a missing counter with a non-empty stream (counter evicted/deleted) resumes after the stream's top;
 * - `floor` is the highest seq the publishing process has seen for the symbol, so after a Redis
 *   restart its next event continues the numbering its clients already hold.
 *
 * The script is loaded on every (re)connection before anything else is sent, and run by SHA;
 * NOSCRIPT (someone ran SCRIPT FLUSH) falls back to EVAL.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TasaError } from '../../errors.ts';

// KEYS: stream, counter, directory. ARGV: maxLen, floor, channel, time, data, symbol.
const PUBLISH_LUA = `
local seq = redis.call('INCR', KEYS[2])
local allocated = seq
if seq == 1 then
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if top then
    seq = math.max(seq, tonumber(string.match(top[1], '^(%d+)')) + 1)
  else
    redis.call('XADD', KEYS[3], '*', 's', ARGV[6])
  end
end
seq = math.max(seq, tonumber(ARGV[2]) + 1)
if seq ~= allocated then redis.call('SET', KEYS[2], string.format('%d', seq)) end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], string.format('%d-0', seq), 'c', ARGV[3], 't', ARGV[4], 'd', ARGV[5])
return seq
`;

const PUBLISH_SHA = createHash('sha1').update(PUBLISH_LUA).digest('hex');

export interface PublishArgs {
  stream: string;
  counter: string;
  directory: string;
  maxLen: number;
  floor: number;
  channel: string;
  time: number;
  json: string;
  symbol: string;
}

export async function loadPublishScript(redis: Redis): Promise<void> {
  await redis.script('LOAD', PUBLISH_LUA);
}

/** Appends one event and returns its seq. */
export async function runPublishScript(redis: Redis, a: PublishArgs): Promise<number> {
  const args = [3, a.stream, a.counter, a.directory, a.maxLen, a.floor, a.channel, a.time, a.json, a.symbol] as const;
  let reply: unknown;
  try {
    reply = await redis.evalsha(PUBLISH_SHA, ...args);
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
    reply = await redis.eval(PUBLISH_LUA, ...args);
  }
  if (typeof reply !== 'number' || !Number.isSafeInteger(reply)) {
    throw new TasaError('internal', `The Redis publish script returned ${String(reply)} instead of a seq.`);
  }
  return reply;
}
