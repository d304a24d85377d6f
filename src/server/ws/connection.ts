/**
 * Wires one accepted WebSocket to a ClientSession: client messages are parsed and handled one
 * at a time in arrival order; a bad message gets an `error` reply and the connection stays
 * open, until MAX_BAD_MESSAGES of them, when it is closed with 1008 (policy violation).
 */
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { sessionDateOf, type Calendars } from '../../domain/calendar.ts';
import { errorMessage } from '../../errors.ts';
import type { ServerDeps } from '../deps.ts';
import { servedSymbol } from '../request-inputs.ts';
import type { UpdateFrequency } from '../../store/subscriptions-repo.ts';
import { ClientSession } from './client-session.ts';
import type { FanoutHub } from './fanout.ts';
import type { ClientMessage, TickMessageName } from '../../contracts/ws-protocol.ts';
import { heartbeatPayload, isProtocolError, parseClientMessage } from './protocol.ts';

export const MAX_BAD_MESSAGES = 20;
export const POLICY_VIOLATION = 1008;

/**
 * Where a client gets over REST what the gateway cannot send it: the bars of the session dates
 * in the symbol's market (Bogota dates for USD/COP; an EUR/USD evening after 17:00 New York is
 * the next day's session) from `fromTime` to `toTime` (epoch ms), the dates the historical route
 * reads. A client beyond the replay window gets the current session's bars (a client that was
 * away longer widens `from`); a gap gets the dates of the events either side of it.
 */
export function refetchUrl(calendars: Calendars, symbol: string, fromTime: number, toTime = fromTime): string {
  const calendar = calendars.of(symbol);
  const from = sessionDateOf(calendar, Math.min(fromTime, toTime));
  const to = sessionDateOf(calendar, Math.max(fromTime, toTime));
  return `/api/market/historical?symbol=${encodeURIComponent(symbol)}&from=${from}&to=${to}`;
}

export interface ConnectionOptions {
  hub: FanoutHub;
  deps: ServerDeps;
  frequency?: UpdateFrequency;
  tickMessage?: TickMessageName;
  /** A realtime subscription's stream: its symbols are fixed, subscribe/unsubscribe are refused. */
  fixed?: boolean;
}

/** Starts the session of an accepted socket; it stops when the socket closes. */
export function openConnection(ws: WebSocket, request: FastifyRequest, o: ConnectionOptions): ClientSession {
  const refetch = (symbol: string, fromTime: number, toTime?: number): string => refetchUrl(o.deps.calendar, symbol, fromTime, toTime);
  const session = new ClientSession({ ws, socket: request.raw.socket, hub: o.hub, deps: o.deps, frequency: o.frequency, tickMessage: o.tickMessage, refetchUrl: refetch });
  session.start();
  let badMessages = 0;
  let inbox = Promise.resolve();
  const bad = (code: Parameters<ClientSession['error']>[0], message: string) => {
    badMessages++;
    session.error(code, message);
    if (badMessages >= MAX_BAD_MESSAGES) {
      session.error('too_many_errors', `${MAX_BAD_MESSAGES} bad messages on this connection; closing it.`);
      session.close(POLICY_VIOLATION, 'too many bad messages');
    }
  };
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
    inbox = inbox.then(async () => {
      if (text === null) return bad('bad_message', 'Binary frames are not part of the protocol; send JSON text.');
      const message = parseClientMessage(text);
      if (isProtocolError(message)) return bad(message.code, message.message);
      const problem = await handle(session, message, o);
      if (problem) bad(problem.code, problem.message);
    }).catch((err: unknown) => o.deps.logger.error({ err: errorMessage(err) }, 'ws gateway: handling a client message failed'));
  });
  ws.on('close', () => session.stop());
  ws.on('error', (err) => o.deps.logger.debug({ err: errorMessage(err) }, 'ws gateway: socket error'));
  return session;
}

type Problem = { code: 'bad_symbol' | 'bad_message' | 'fixed_subscription'; message: string } | null;

async function handle(session: ClientSession, m: ClientMessage, o: ConnectionOptions): Promise<Problem> {
  if (m.action === 'heartbeat') {
    session.control(heartbeatPayload(o.deps.clock.now()), 'heartbeat');
    return null;
  }
  if (o.fixed === true) {
    return { code: 'fixed_subscription', message: `This stream serves one realtime subscription; ${m.action} is not available here (use /ws for ad-hoc subscriptions).` };
  }
  const symbols = resolveSymbols(m.symbols, o.deps.symbols);
  if (typeof symbols === 'string') return { code: 'bad_symbol', message: symbols };
  if (m.action === 'unsubscribe') {
    session.unsubscribe(symbols, m.channels);
    return null;
  }
  if (m.since !== undefined && symbols.length > 1) {
    return { code: 'bad_message', message: '`since` needs exactly one symbol: sequence numbers are per symbol.' };
  }
  await session.subscribe(symbols, m.channels, m.since);
  return null;
}

/** Canonical, served, distinct symbols; or the message naming the first bad one. */
export function resolveSymbols(inputs: readonly string[], served: readonly string[]): string[] | string {
  const out: string[] = [];
  for (const input of inputs) {
    try {
      const symbol = servedSymbol(served, input);
      if (!out.includes(symbol)) out.push(symbol);
    } catch (err) {
      return errorMessage(err);
    }
  }
  return out;
}
