/**
 * Where the pipeline's files (Parquet partitions, manifests) are kept: a local directory or an
 * S3-compatible bucket, behind one interface. Keys are relative, `/`-separated paths.
 */
import { join } from 'node:path';
import { TasaError } from '../../errors.ts';

export interface ArchiveEntry {
  key: string;
  bytes: number;
}

export interface ArchiveStore {
  readonly kind: 'local' | 's3';
  /** Writes the whole object; a reader sees the old bytes or the new ones, never a part. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes; a TasaError `not_found` when there is none. */
  get(key: string): Promise<Uint8Array>;
  /** Size of the object, or null when there is none. */
  head(key: string): Promise<ArchiveEntry | null>;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ArchiveEntry[]>;
  /** Removes the object; nothing happens when there is none. */
  delete(key: string): Promise<void>;
  /** Where the archive is, for logs and `tasa doctor`: never credentials. */
  describe(): string;
  close(): Promise<void>;
}

/**
 * Keys become file paths and object names, so they are restricted: relative, `/`-separated,
 * segments of letters, digits, `.`, `_`, `-`, `=`, none starting with a dot (no `..`, no hidden
 * temp files).
 */
export function checkKey(key: string): string {
  const segments = key.split('/');
  const ok = key.length > 0 && key.length <= 1024 && segments.every((s) => /^[A-Za-z0-9_=-][A-Za-z0-9._=-]*$/.test(s));
  if (!ok) throw new TasaError('bad_argument', `Archive key "${key}" is not a relative path of plain names.`, { input: key });
  return key;
}

/** A prefix is a key start: empty, or plain segments possibly ending in `/` or a partial name. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

export interface ArchiveOptions {
  /** The data directory (TASA_DATA_DIR); the local archive defaults to `<dataDir>/archive`. */
  dataDir: string;
  /** TASA_ARCHIVE_DIR: the local archive directory. */
  dir?: string | undefined;
  /** TASA_ARCHIVE_S3_BUCKET: set = S3 instead of a local directory. */
  s3Bucket?: string | undefined;
  /** TASA_ARCHIVE_S3_ENDPOINT: an S3-compatible server (MinIO, ...); path-style addressing. */
  s3Endpoint?: string | undefined;
  /** TASA_ARCHIVE_S3_PREFIX: keys are stored under `<prefix>/`. */
  s3Prefix?: string | undefined;
  /** AWS_REGION; unset = the SDK's own lookup (or us-east-1 with a custom endpoint). */
  s3Region?: string | undefined;
}

/** The settings `openArchive` reads, by their environment names (the shape of `Config` once they are added). */
export interface ArchiveConfigKeys {
  TASA_DATA_DIR: string;
  TASA_ARCHIVE_DIR?: string | undefined;
  TASA_ARCHIVE_S3_BUCKET?: string | undefined;
  TASA_ARCHIVE_S3_ENDPOINT?: string | undefined;
  TASA_ARCHIVE_S3_PREFIX?: string | undefined;
  AWS_REGION?: string | undefined;
}

export function archiveOptionsFrom(config: ArchiveConfigKeys): ArchiveOptions {
  return {
    dataDir: config.TASA_DATA_DIR,
    dir: config.TASA_ARCHIVE_DIR,
    s3Bucket: config.TASA_ARCHIVE_S3_BUCKET,
    s3Endpoint: config.TASA_ARCHIVE_S3_ENDPOINT,
    s3Prefix: config.TASA_ARCHIVE_S3_PREFIX,
    s3Region: config.AWS_REGION,
  };
}

/**
 * S3 when a bucket is configured, else a local directory. Credentials come from the AWS SDK's
 * environment chain only. The implementations are loaded on demand: the AWS SDK takes a few
 * hundred milliseconds to load, which a local archive should not pay.
 */
export async function openArchive(options: ArchiveOptions): Promise<ArchiveStore> {
  if (options.s3Bucket !== undefined && options.s3Bucket !== '') {
    const { openS3Archive } = await import('./s3-archive.ts');
    return openS3Archive({
      bucket: options.s3Bucket,
      endpoint: nonEmpty(options.s3Endpoint),
      prefix: nonEmpty(options.s3Prefix),
      region: nonEmpty(options.s3Region),
    });
  }
  const { openLocalArchive } = await import('./local-archive.ts');
  return openLocalArchive(nonEmpty(options.dir) ?? join(options.dataDir, 'archive'));
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
