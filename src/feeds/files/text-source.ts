/**
 * A file's text, piece by piece, gunzipped when the bytes start with the gzip magic, with the
 * sha256 and byte count of the bytes on disk. Faults while reading (corrupt gzip, I/O error) do
 * not throw: `next()` returns null and `fault` says why, after every byte decoded before it.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, type Gunzip } from 'node:zlib';
import { errorMessage } from '../../errors.ts';

/** Small enough that one chunk of highly compressed gzip stays a few MB of text. */
const RAW_CHUNK_BYTES = 64 * 1024;

export interface SourceFault {
  kind: 'gzip' | 'io';
  message: string;
}

export class TextSource {
  bytesRead = 0;
  fault: SourceFault | null = null;
  private readonly hash = createHash('sha256');
  // StringDecoder: about twice as fast as TextDecoder here; it keeps a BOM, which next() drops.
  private readonly decoder = new StringDecoder('utf8');
  private atStart = true;
  private readonly gunzip: Gunzip | null;
  private output: Buffer[] = [];
  private finished = false;
  private tailTaken = false;
  private wake: (() => void) | null = null;

  private constructor(
    private readonly file: FileHandle,
    readonly sizeBytes: number,
    private firstBytes: Buffer | null,
  ) {
    this.gunzip = isGzip(firstBytes) ? this.startGunzip() : null;
  }

  /** Opens a regular file; throws the Node error (ENOENT, EACCES, EISDIR...) when it cannot. */
  static async open(path: string): Promise<TextSource> {
    const file = await open(path, 'r');
    try {
      const stat = await file.stat();
      if (!stat.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EISDIR' });
      const first = await readBytes(file);
      return new TextSource(file, stat.size, first);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  get compressed(): boolean {
    return this.gunzip !== null;
  }

  /** The next piece of text ('' is possible), or null at the end of the data or at a fault. */
  async next(): Promise<string | null> {
    while (this.output.length === 0) {
      if (this.finished) return this.decoderTail();
      await this.feed();
    }
    const text = this.decoder.write(this.output.shift()!);
    if (!this.atStart || text === '') return text;
    this.atStart = false;
    return text.startsWith('\uFEFF') ? text.slice(1) : text;
  }

  /** After a fault, hashes the bytes not read yet so the digest is still the whole file's when possible. */
  async hashRemainder(): Promise<void> {
    try {
      while ((await this.readRaw()) !== null);
    } catch {
      // An I/O error again: the digest then covers the bytes that could be read.
    }
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  async close(): Promise<void> {
    this.gunzip?.destroy();
    await this.file.close();
  }

  /** At a clean end, what the decoder still holds (a cut multi-byte character, as U+FFFD). */
  private decoderTail(): string | null {
    if (this.tailTaken || this.fault) return null;
    this.tailTaken = true;
    const tail = this.decoder.end();
    return tail === '' ? null : tail;
  }

  private async feed(): Promise<void> {
    let bytes: Buffer | null;
    try {
      bytes = await this.readRaw();
    } catch (err) {
      this.fault = { kind: 'io', message: errorMessage(err) };
      this.finished = true;
      return;
    }
    if (bytes === null) await this.endInput();
    else if (this.gunzip) await this.inflate(this.gunzip, bytes);
    else this.output.push(bytes);
    if (bytes === null || this.fault) this.finished = true;
  }

  private async readRaw(): Promise<Buffer | null> {
    const bytes = this.firstBytes ?? (await readBytes(this.file));
    this.firstBytes = null;
    if (bytes === null) return null;
    this.hash.update(bytes);
    this.bytesRead += bytes.length;
    return bytes;
  }

  /**
   * The gunzip stream is never paused and is given one chunk at a time, so all it decoded sits in
   * `output` and none is left in its internal buffer, which is dropped when a later fault destroys it.
   */
  private startGunzip(): Gunzip {
    // 256 KB output pieces instead of the 16 KB default: fewer trips to zlib's thread pool, about 3x faster here.
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    gunzip.on('data', (bytes: Buffer) => this.output.push(bytes));
    gunzip.on('error', (err) => {
      this.fault ??= { kind: 'gzip', message: err.message };
      this.wake?.();
    });
    return gunzip;
  }

  private inflate(gunzip: Gunzip, bytes: Buffer): Promise<void> {
    return this.until((done) =>
      gunzip.write(bytes, (err) => {
        if (err) this.fault ??= { kind: 'gzip', message: err.message };
        done();
      }),
    );
  }

  private endInput(): Promise<void> {
    const gunzip = this.gunzip;
    if (!gunzip) return Promise.resolve();
    return this.until((done) => {
      gunzip.once('end', done);
      gunzip.end();
    });
  }

  /** Resolves when `start`'s callback runs or the gunzip stream fails, whichever comes first. */
  private until(start: (done: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.wake === done) this.wake = null;
        resolve();
      };
      this.wake = done;
      start(done);
    });
  }
}

/**
 * The sha256 (hex) of a file's bytes on disk, the same digest a full read gives: tells whether a
 * file was imported before without decompressing or parsing it.
 */
export async function fileSha256(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    for (let bytes = await readBytes(file); bytes !== null; bytes = await readBytes(file)) hash.update(bytes);
    return hash.digest('hex');
  } finally {
    await file.close();
  }
}

function isGzip(bytes: Buffer | null): boolean {
  return bytes !== null && bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

async function readBytes(file: FileHandle): Promise<Buffer | null> {
  const buffer = Buffer.allocUnsafe(RAW_CHUNK_BYTES);
  const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
  return bytesRead === 0 ? null : buffer.subarray(0, bytesRead);
}
