/**
 * Serves the embedded database of the process that owns it to other processes, over the
 * PostgreSQL wire protocol on a local socket, so that they reach the same data without opening
 * the directory themselves (PGlite is one process; two on one directory corrupt it).
 *
 * Why not `@electric-sql/pglite-socket`: every version pins its peer `@electric-sql/pglite` to an
 * older exact release (0.2.17 -> 0.5.14, plus seven extension packages), and it takes PGlite's
 * query lock per protocol message only, so a client's statements could run inside the owner's
 * open transaction (and the owner's inside a client's), or between a client's Parse and its
 * Execute. Here a client holds the owner's `gate` for a whole unit of work: from its first
 * message until PGlite answers ReadyForQuery with the session idle (after a statement or a
 * whole transaction). The owner's own queries take the same gate (pglite-driver.ts).
 *
 * Every client shares the one PGlite session, so clients must not leave state in it: they use
 * unnamed statements only (the postgres driver's `prepare: false`), and do not LISTEN.
 *
 * Notifications: the session's LISTENs are the owner's (pglite-driver.ts). PGlite writes a
 * notification into the answer of the COMMIT that sent it, and hands it to its own listeners only
 * for the owner's statements; for a client's statement it is read here from the answer and given
 * to `onNotification` before the answer is sent on (the client ignores it: it did not LISTEN).
 */
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Mutex, PGlite } from '@electric-sql/pglite';

/** Where a served store listens: a Unix socket path, or a TCP port on 127.0.0.1. */
export type StoreEndpoint = { path: string } | { port: number };

export interface PgliteServer {
  readonly endpoint: StoreEndpoint;
  /** Stops listening, rolls back and drops every client. */
  close(): Promise<void>;
}

export interface ServeOptions {
  /** A client that keeps a unit of work open and silent this long is rolled back and dropped (default 30 s). */
  idleInTransactionMs?: number;
  /** Each notification in the answers to clients' statements (channel, payload). */
  onNotification?: (channel: string, payload: string) => void;
}

const IDLE_IN_TRANSACTION_MS = 30_000;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const COPY_FROM_STDIN = /\bcopy\b[\s\S]*\bfrom\s+stdin\b/i;
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Untyped packets that may come before the start-up message. */
const PRE_STARTUP_REQUESTS = [SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST];
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
/** ReadyForQuery with the session idle: 'Z', length 5, 'I'. */
const READY_IDLE = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

export async function servePglite(pg: PGlite, gate: Mutex, where: StoreEndpoint, opts: ServeOptions = {}): Promise<PgliteServer> {
  const idleMs = opts.idleInTransactionMs ?? IDLE_IN_TRANSACTION_MS;
  if ('path' in where) await rm(where.path, { force: true }); // left by an owner that was killed
  const clients = new Set<Client>();
  const server = createServer((socket) => {
    const notifications = new NotificationReader(opts.onNotification ?? (() => {}));
    const client = new Client(pg, gate, socket, idleMs, notifications, () => clients.delete(client));
    clients.add(client);
  });
  const endpoint = await listen(server, where);
  return {
    endpoint,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...clients].map((c) => c.drop()));
      await closed;
    },
  };
}

function listen(server: Server, where: StoreEndpoint): Promise<StoreEndpoint> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = (): void => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? { port: address.port } : where);
    };
    if ('path' in where) server.listen(where.path, ready);
    else server.listen(where.port, '127.0.0.1', ready);
  });
}

/** One connection: splits the byte stream into messages and runs them one after another. */
class Client {
  private pending = Buffer.alloc(0);
  private started = false;
  private work: Promise<void> = Promise.resolve();
  /** Set while this client holds the gate (inside a unit of work). */
  private release: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private dropped = false;
  /** After a refused Parse, the rest of that extended query up to its Sync is skipped. */
  private discardingUntilSync = false;

  constructor(
    private readonly pg: PGlite,
    private readonly gate: Mutex,
    private readonly socket: Socket,
    private readonly idleMs: number,
    private readonly notifications: NotificationReader,
    private readonly onGone: () => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data) => this.receive(data));
    socket.on('error', () => void this.drop());
    socket.on('close', () => void this.drop());
  }

  /** Ends the connection; a unit of work left open is rolled back first. */
  drop(): Promise<void> {
    if (!this.dropped) {
      this.dropped = true;
      clearTimeout(this.idleTimer);
      this.socket.destroy();
      this.work = this.work.then(() => this.abandonUnit());
      this.onGone();
    }
    return this.work;
  }

  private receive(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    for (let next = this.nextMessage(); next !== null; next = this.nextMessage()) {
      const { message, untyped } = next;
      const handle = () => (untyped ? this.handleUntyped(message) : this.handle(message));
      // Not `catch(() => this.drop())`: drop() chains onto this very promise, which would then wait for itself.
      this.work = this.work.then(() => (this.dropped ? undefined : handle())).catch(() => void this.drop());
    }
  }

  /**
   * The next whole message: untyped packets (SSL request, then the start-up message) first, then
   * type byte + length. Decided here, not when a message runs: the next one may be in the same chunk.
   */
  private nextMessage(): { message: Buffer; untyped: boolean } | null {
    const untyped = !this.started;
    const typeBytes = untyped ? 0 : 1;
    if (this.pending.length < typeBytes + 4) return null;
    const length = typeBytes + this.pending.readInt32BE(typeBytes);
    if (length < typeBytes + 4 || length > MAX_MESSAGE_BYTES) {
      void this.drop(); // not the PostgreSQL protocol
      return null;
    }
    if (this.pending.length < length) return null;
    const message = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    if (untyped && !PRE_STARTUP_REQUESTS.includes(requestCode(message))) this.started = true;
    return { message, untyped };
  }

  private async handle(message: Buffer): Promise<void> {
    const type = String.fromCharCode(message[0] ?? 0);
    if (type === 'X') return void this.drop(); // Terminate: PGlite's session outlives this client
    if (this.discardingUntilSync && type !== 'S') return;
    this.discardingUntilSync = false;
    if ((type === 'Q' || type === 'P') && COPY_FROM_STDIN.test(message.toString('utf8', 5))) return this.refuseCopyFromStdin(type);
    await this.run(message);
  }

  /** PGlite exits (and the owner with it) on COPY FROM STDIN over the wire: answer an error instead. */
  private async refuseCopyFromStdin(type: 'Q' | 'P'): Promise<void> {
    this.socket.write(errorResponse('0A000', 'COPY FROM STDIN is not supported through the embedded store\'s socket; use INSERT'));
    // A simple query is answered at once; an extended one after its Sync, as PostgreSQL does.
    if (type === 'Q') await this.run(SYNC);
    else this.discardingUntilSync = true;
  }

  private async handleUntyped(message: Buffer): Promise<void> {
    const code = requestCode(message);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) return void this.socket.write('N');
    if (code === CANCEL_REQUEST) return void this.drop(); // PGlite cannot cancel a running statement
    await this.run(message); // the start-up message
  }

  /** Runs one message inside this client's unit of work, and ends the unit when PGlite is idle again. */
  private async run(message: Buffer): Promise<void> {
    this.release ??= await this.gate.acquire();
    let tail = Buffer.alloc(0);
    await this.pg.runExclusive(() =>
      this.pg.execProtocolRawStream(new Uint8Array(message), {
        onRawData: (data) => {
          // A view of PGlite's memory, which the next chunk overwrites: the socket may still be holding it.
          const copy = Buffer.from(data);
          this.notifications.read(copy);
          this.socket.write(copy);
          tail = Buffer.concat([tail, copy]).subarray(-READY_IDLE.length);
        },
      }),
    );
    if (tail.equals(READY_IDLE) && !this.pg.isInTransaction()) this.endUnit();
    else this.watchIdle();
  }

  private endUnit(): void {
    clearTimeout(this.idleTimer);
    const release = this.release;
    this.release = null;
    release?.();
  }

  /** A client that stalls inside a transaction would stop the owner's own writes. */
  private watchIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.drop(), this.idleMs);
  }

  /** Closes whatever the client left open (an unsynced extended query, a transaction) and frees the gate. */
  private async abandonUnit(): Promise<void> {
    if (this.release === null) return;
    try {
      await this.pg.runExclusive(async () => {
        await this.pg.execProtocolRaw(new Uint8Array(SYNC));
        if (this.pg.isInTransaction()) await this.pg.execProtocolRaw(new Uint8Array(simpleQuery('ROLLBACK')));
      });
    } finally {
      this.endUnit();
    }
  }
}

/**
 * Finds NotificationResponse messages ('A', length, pid, channel\0, payload\0) in a stream of
 * backend messages that arrives in chunks of any size, skipping every other message unread.
 */
class NotificationReader {
  /** The start of the current message while it is a header or a notification still incomplete. */
  private held = Buffer.alloc(0);
  /** Bytes of the current (not notification) message still to skip. */
  private skip = 0;

  constructor(private readonly onNotification: (channel: string, payload: string) => void) {}

  read(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      at = this.hold(chunk, at);
    }
  }

  /** Takes bytes of a header or a notification from `chunk` at `at`; returns where it stopped. */
  private hold(chunk: Buffer, at: number): number {
    if (this.held.length === 0 && chunk.length - at >= 5 && chunk[at] !== 0x41) {
      this.skip = 1 + chunk.readInt32BE(at + 1);
      return at;
    }
    const need = this.held.length < 5 ? 5 : 1 + this.held.readInt32BE(1);
    const end = Math.min(chunk.length, at + need - this.held.length);
    this.held = Buffer.concat([this.held, chunk.subarray(at, end)]);
    if (this.held.length < need) return end;
    const length = 1 + this.held.readInt32BE(1);
    if (this.held[0] !== 0x41) {
      this.skip = length - this.held.length;
      this.held = Buffer.alloc(0);
    } else if (this.held.length === length) {
      this.deliver(this.held);
      this.held = Buffer.alloc(0);
    }
    return end;
  }

  private deliver(message: Buffer): void {
    const channelEnd = message.indexOf(0, 9);
    const payloadEnd = message.indexOf(0, channelEnd + 1);
    this.onNotification(message.toString('utf8', 9, channelEnd), message.toString('utf8', channelEnd + 1, payloadEnd));
  }
}

/** The request code of an untyped packet (the protocol version, for a start-up message). */
function requestCode(packet: Buffer): number {
  return packet.length >= 8 ? packet.readInt32BE(4) : 0;
}

function simpleQuery(text: string): Buffer {
  return protocolMessage('Q', Buffer.from(`${text}\0`));
}

function errorResponse(code: string, text: string): Buffer {
  return protocolMessage('E', Buffer.from(`SERROR\0VERROR\0C${code}\0M${text}\0\0`));
}

/** A protocol message: type byte, int32 length (itself included), body. */
function protocolMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}
