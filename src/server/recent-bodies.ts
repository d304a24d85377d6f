/**
 * Serialized JSON response bodies kept for identical requests, and sending one as is. Kept as
 * UTF-8 bytes: a large body is then neither serialized nor encoded again per request.
 */
import type { FastifyReply } from 'fastify';

/** Bodies by key, the most recently stored `capacity` of them (oldest evicted first). */
export class RecentBodies {
  private readonly bodies = new Map<string, Buffer>();

  constructor(private readonly capacity: number) {}

  get(key: string): Buffer | undefined {
    return this.bodies.get(key);
  }

  set(key: string, body: Buffer): void {
    this.bodies.delete(key);
    this.bodies.set(key, body);
    if (this.bodies.size > this.capacity) this.bodies.delete(this.bodies.keys().next().value as string);
  }
}

/** Sends an already serialized JSON body: fastify passes bytes with a JSON content type through unchanged. */
export function sendJson(reply: FastifyReply, json: Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
