/**
 * The ingest writer's durable spool: an append-only JSON-lines file where ticks and bars wait
 * while the database is down.
 *
 * - Durable: every append is followed by `datasync`, so an accepted line survives a crash.
 * - Bounded: an append that would pass `maxBytes` is refused as a whole, counted and logged as
 *   an error (the disk is not allowed to fill up silently, and nothing is dropped silently).
 * - Drained in order, in bounded chunks read as a stream (a 1 GB spool is never read at once).
 *   After each chunk is written to the database, the byte offset reached is saved (fsync'd) in a
 *   side file, so a drain interrupted by a crash resumes there; at worst the last chunk is written
 *   again, which the idempotent writes make harmless. The files are removed only when everything
 *   in them is written.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

/** 1 GiB: hours of ticks at any rate TwelveData sends, small beside a server's disk. */
const DEFAULT_SPOOL_MAX_BYTES = 1024 ** 3;

export interface SpoolStats {
  bytes: number;
  /** Size of the spool file on disk: the waiting bytes plus a drained prefix kept until the spool is cleared. */
  diskBytes: number;
  entries: number;
  /** Clock time of the oldest entry waiting (its receive or close time); null when empty. */
  oldestAt: number | null;
  /** Entries refused because the spool was full. */
  rejected: number;
}

export interface SpoolChunk {
  lines: string[];
  /** 1-based line number of the chunk's first line in the file (for error messages). */
  firstLine: number;
  /** Byte offset of the chunk's start in the file. */
  startOffset: number;
  /** Byte offset just past the chunk: where a resumed drain starts. */
  endOffset: number;
}

export class Spool {
  private handle: FileHandle | null = null;
  private readonly stat: SpoolStats = { bytes: 0, diskBytes: 0, entries: 0, oldestAt: null, rejected: 0 };
  private opened = false;

  constructor(
    readonly path: string,
    readonly maxBytes: number = DEFAULT_SPOOL_MAX_BYTES,
  ) {}

  get offsetPath(): string {
    return `${this.path}.offset`;
  }

  stats(): SpoolStats {
    return { ...this.stat };
  }

  get empty(): boolean {
    return this.stat.entries === 0;
  }

  /** Learns the size of a spool left by an earlier run (a crash while the database was down). */
  async open(oldestOf: (line: string) => number | null): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    const found = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
    if (found === 0) return;
    const size = await this.endTornLine(found);
    const start = await this.savedOffset();
    this.stat.bytes = size - start;
    this.stat.diskBytes = size;
    for await (const chunk of this.chunks(10_000)) {
      if (this.stat.oldestAt === null && chunk.lines[0] !== undefined) this.stat.oldestAt = oldestOf(chunk.lines[0]);
      this.stat.entries += chunk.lines.length;
    }
  }

  /** Appends lines and syncs them to disk; false (nothing written) when they would pass the bound. */
  async append(lines: readonly string[], oldestAt: number): Promise<boolean> {
    if (lines.length === 0) return true;
    const text = lines.join('\n') + '\n';
    const bytes = Buffer.byteLength(text);
    if (this.stat.bytes + bytes > this.maxBytes) {
      this.stat.rejected += lines.length;
      return false;
    }
    const handle = await this.fileHandle();
    await handle.appendFile(text);
    await handle.datasync();
    this.stat.bytes += bytes;
    this.stat.diskBytes += bytes;
    this.stat.entries += lines.length;
    this.stat.oldestAt ??= oldestAt;
    return true;
  }

  /** The waiting lines in order, `size` at a time, from where an earlier drain stopped. */
  async *chunks(size: number): AsyncGenerator<SpoolChunk> {
    let offset = await this.savedOffset();
    const input = createReadStream(this.path, { start: offset, encoding: 'utf8' });
    const reader = createInterface({ input, crlfDelay: Infinity });
    let lines: string[] = [];
    let lineNo = 0;
    let firstLine = 1;
    let startOffset = offset;
    try {
      for await (const line of reader) {
        lineNo++;
        if (lines.length === 0) {
          firstLine = lineNo;
          startOffset = offset;
        }
        offset += Buffer.byteLength(line) + 1;
        if (line.trim() === '') continue;
        lines.push(line);
        if (lines.length >= size) {
          yield { lines, firstLine, startOffset, endOffset: offset };
          lines = [];
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    } finally {
      reader.close();
      input.destroy();
    }
    if (lines.length > 0) yield { lines, firstLine, startOffset, endOffset: offset };
  }

  /** Records that the chunk, and everything before it, is in the database (survives a crash). */
  async commit(chunk: SpoolChunk): Promise<void> {
    const handle = await open(this.offsetPath, 'w');
    try {
      await handle.writeFile(String(chunk.endOffset));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.stat.entries = Math.max(0, this.stat.entries - chunk.lines.length);
    this.stat.bytes = Math.max(0, this.stat.bytes - (chunk.endOffset - chunk.startOffset));
  }

  /** Everything is in the database: removes the spool and its offset. */
  async clear(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
    await rm(this.offsetPath, { force: true });
    this.stat.bytes = 0;
    this.stat.diskBytes = 0;
    this.stat.entries = 0;
    this.stat.oldestAt = null;
  }

  /** Counts entries that could not be appended for another reason (the disk refused). */
  countRejected(entries: number): void {
    this.stat.rejected += entries;
  }

  /** Sets the oldest entry's time after a partial drain (the next line to drain). */
  setOldest(at: number | null): void {
    this.stat.oldestAt = at;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private async fileHandle(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    await mkdir(dirname(this.path), { recursive: true });
    this.handle = await open(this.path, 'a');
    return this.handle;
  }

  /**
   * A crash in the middle of an append can leave a last line without its newline (never synced,
   * so never accepted); end it, so that the next append starts a line of its own and the torn one
   * is skipped (logged) by the drain instead of swallowing the next entry.
   */
  private async endTornLine(size: number): Promise<number> {
    const handle = await open(this.path, 'r');
    const last = Buffer.alloc(1);
    try {
      await handle.read(last, 0, 1, size - 1);
    } finally {
      await handle.close();
    }
    if (last[0] === 0x0a) return size;
    const append = await this.fileHandle();
    await append.appendFile('\n');
    await append.datasync();
    return size + 1;
  }

  private async savedOffset(): Promise<number> {
    try {
      const n = Number((await readFile(this.offsetPath, 'utf8')).trim());
      return Number.isSafeInteger(n) && n >= 0 ? n : 0;
    } catch {
      return 0;
    }
  }
}

