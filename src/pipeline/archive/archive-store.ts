/**
 * Where the pipeline's files (Parquet partitions, manifests) are kept: a local directory or an
 * S3-compatible bucket, behind one interface. Keys are relative, `/`-separated paths.
 */
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
