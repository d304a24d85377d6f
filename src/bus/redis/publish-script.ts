/**
 * Seq allocation and append in one atomic step (a Lua script runs alone on the server), so that
 * any number of processes publishing the same symbol never produce a duplicate or out-of-order
 * seq, and a stream ID always equals its seq (`<seq>-0`): XREAD/XRANGE by seq need no lookup.
 *
 * Guards that keep seqs from going backwards when Redis loses keys (it may keep nothing on disk):
 * - a missing counter with a non-empty stream (counter evicted/deleted) resumes after the stream's top;
 * - `floor` is the highest seq the publishing process has seen for the symbol, so after a Redis
 *   restart its next event never reuses a seq its clients already hold;
 * - `coldFloor` applies when nothing of the symbol is left in Redis (a new symbol, or a Redis that
 *   restarted empty): the persisted floor from PostgreSQL (see seq-floor.ts), so that seqs continue
 *   even when every process restarted too.
 *
 * Exactly once: the publish queue (publish-queue.ts) re-sends an event whose reply it did not get
 * (a dropped connection, a timeout). Each event carries its publisher's id and a per-symbol mark;
 * the seq of each applied mark is kept in a small hash (`marks`, the last MARKS_KEPT marks, expiring
 * an hour after the publisher's last event), and a re-sent mark returns that seq without appending.
 *
 * `count` > 1 with no data allocates a hole of seqs without entries: events the local buffer had
 * to refuse. Readers see the jump and announce it as a gap; nothing is skipped silently.
 *
 * The script is loaded on every (re)connection before anything else is sent, and run by SHA;
 * NOSCRIPT (someone ran SCRIPT FLUSH) falls back to EVAL.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TasaError } from '../../errors.ts';

/** Marks kept per publisher and symbol; more than the publish queue ever has in flight (see publish-queue.ts). */
export const MARKS_KEPT = 4_096;
const MARKS_TTL_MS = 3_600_000;

// KEYS: stream, counter, directory, marks. ARGV: maxLen, floor, coldFloor, channel, time, data, symbol, mark, count, expired mark, marks TTL.
const PUBLISH_LUA = `
local done = redis.call('HGET', KEYS[4], ARGV[8])
if done then return tonumber(done) end
local counter = redis.call('GET', KEYS[2])
local last
if counter then
  last = tonumber(counter)
else
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if top then
    last = tonumber(string.match(top[1], '^(%d+)'))
  else
    last = tonumber(ARGV[3])
    redis.call('XADD', KEYS[3], '*', 's', ARGV[7])
  end
end
local seq = math.max(last, tonumber(ARGV[2])) + tonumber(ARGV[9])
redis.call('SET', KEYS[2], string.format('%d', seq))
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], string.format('%d-0', seq), 'c', ARGV[4], 't', ARGV[5], 'd', ARGV[6])
end
redis.call('HSET', KEYS[4], ARGV[8], string.format('%d', seq))
redis.call('HDEL', KEYS[4], ARGV[10])
redis.call('PEXPIRE', KEYS[4], ARGV[11])
return seq
`;

const PUBLISH_SHA = createHash('sha1').update(PUBLISH_LUA).digest('hex');

export interface PublishArgs {
  stream: string;
  counter: string;
  directory: string;
  marks: string;
  maxLen: number;
  floor: number;
  coldFloor: number;
  channel: string;
  time: number;
  /** The JSON data; '' for a hole (no entry). */
  json: string;
  symbol: string;
  /** This publisher's per-symbol number of the event (1, 2, ...). */
  mark: number;
  /** Seqs to allocate: 1 for an event, the number of refused events for a hole. */
  count: number;
}

export async function loadPublishScript(redis: Redis): Promise<void> {
  await redis.script('LOAD', PUBLISH_LUA);
}

/** Appends one event (or allocates a hole) and returns its (last) seq. */
export async function runPublishScript(redis: Redis, a: PublishArgs): Promise<number> {
  const args = [
    4, a.stream, a.counter, a.directory, a.marks,
    a.maxLen, a.floor, a.coldFloor, a.channel, a.time, a.json, a.symbol, a.mark, a.count, a.mark - MARKS_KEPT, MARKS_TTL_MS,
  ] as const;
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
