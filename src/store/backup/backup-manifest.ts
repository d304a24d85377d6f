/**
 * A backup directory: one data file (a pg_dump custom-format archive or a PGlite data-directory
 * tarball) and `manifest.json`, written last, describing it: the store it came from, the schema
 * version (latest applied migration), every table's row count at the instant of the dump, the
 * creation time, the Tasa version, and each file's size and SHA-256. Restore reads the manifest,
 * refuses what it cannot restore faithfully, and verifies every checksum before touching a store.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TasaError, errorMessage } from '../../errors.ts';
import type { DbDriver } from '../db.ts';

export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'tasa-backup/1';

export interface BackupFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof FORMAT;
  store: DbDriver;
  schemaVersion: number;
  /** `schema.table` -> rows, at the instant the data file was taken. */
  tables: Record<string, number>;
  /** ISO time (UTC). */
  createdAt: string;
  tasaVersion: string;
  files: BackupFile[];
}

/** What the store says about itself at the instant of the dump. */
export interface StoreFacts {
  schemaVersion: number;
  tables: Record<string, number>;
}

export async function describeFile(dir: string, name: string): Promise<BackupFile> {
  const path = join(dir, name);
  return { name, bytes: (await stat(path)).size, sha256: await sha256File(path) };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export async function writeManifest(dir: string, m: Omit<BackupManifest, 'format'>): Promise<BackupManifest> {
  const manifest: BackupManifest = { format: FORMAT, ...m };
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The manifest of `dir`, checked for shape; a missing or malformed one is a clear error. */
export async function readManifest(dir: string): Promise<BackupManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TasaError('unreadable_file', `${path} cannot be read: ${errorMessage(err)}.`, { input: path, hint: 'Give the directory `tasa backup` wrote (it holds manifest.json).' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged(path, 'it is not JSON');
  }
  const problem = manifestProblem(parsed);
  if (problem !== null) throw damaged(path, problem);
  return parsed as BackupManifest;
}

function manifestProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'it is not an object';
  const m = v as Record<string, unknown>;
  if (m.format !== FORMAT) return `its format is ${JSON.stringify(m.format)}, not ${FORMAT}`;
  if (m.store !== 'postgres' && m.store !== 'pglite') return 'its store is neither postgres nor pglite';
  if (!Number.isInteger(m.schemaVersion)) return 'its schemaVersion is not an integer';
  if (typeof m.tables !== 'object' || m.tables === null || !Object.values(m.tables).every((n) => Number.isInteger(n))) return 'its table counts are not integers';
  if (typeof m.createdAt !== 'string' || typeof m.tasaVersion !== 'string') return 'createdAt or tasaVersion is missing';
  const files = m.files;
  if (!Array.isArray(files) || files.length === 0) return 'it lists no files';
  const fileOk = (f: unknown): boolean => {
    const r = f as Record<string, unknown>;
    return typeof f === 'object' && f !== null && typeof r.name === 'string' && !/[/\\]/.test(r.name) && Number.isInteger(r.bytes) && typeof r.sha256 === 'string';
  };
  return files.every(fileOk) ? null : 'a file entry lacks a plain name, size or sha256';
}

function damaged(path: string, why: string): TasaError {
  return new TasaError('bad_input', `${path} is damaged: ${why}.`, { input: path, hint: 'Use an intact copy of the backup.' });
}

/**
 * Everything restore checks before it touches a store: the kind of store, a schema this build
 * knows, and every file's size and SHA-256.
 */
export async function verifyBackup(dir: string, m: BackupManifest, o: { store: DbDriver; latestSchema: number }): Promise<void> {
  if (m.store !== o.store) {
    throw new TasaError('bad_input', `${dir} is a backup of a ${m.store} store; the configured store is ${o.store}.`, {
      input: dir,
      hint: m.store === 'postgres' ? 'Set DATABASE_URL to a new PostgreSQL database.' : 'Unset DATABASE_URL and set TASA_DATA_DIR to a new directory.',
    });
  }
  if (m.schemaVersion > o.latestSchema) {
    throw new TasaError('bad_input', `${dir} has schema version ${m.schemaVersion} (Tasa ${m.tasaVersion}); this Tasa knows versions up to ${o.latestSchema}.`, {
      input: dir,
      hint: `Restore it with Tasa ${m.tasaVersion} or newer.`,
    });
  }
  for (const f of m.files) {
    const actual = await describeFile(dir, f.name).catch((err: unknown) => {
      throw new TasaError('unreadable_file', `${join(dir, f.name)} cannot be read: ${errorMessage(err)}.`, { input: join(dir, f.name) });
    });
    if (actual.bytes !== f.bytes || actual.sha256 !== f.sha256) {
      throw new TasaError('bad_input', `${join(dir, f.name)} is damaged: its SHA-256 or size differs from the manifest; nothing was restored.`, {
        input: join(dir, f.name),
        hint: 'Use an intact copy of the backup.',
      });
    }
  }
}
