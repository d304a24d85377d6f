/**
 * A run's manifest: which files it wrote (with sizes and sha256), from which parent datasets,
 * with which config and code. `datasetHash` covers only the files' contents and the config,
 * so running the same inputs with the same config again reproduces it, whatever the run id or
 * the time. The manifest is stored next to the files and in `pipeline_runs.manifest`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TasaError } from '../errors.ts';
import type { ArchiveStore } from './archive/archive-store.ts';
import { isLayerId, manifestKey, type LayerId } from './layout.ts';

export const MANIFEST_VERSION = 1;

export interface CodeVersion {
  /** package.json version. */
  version: string;
  /** The git commit, when known. */
  commit: string | null;
}

export interface ManifestFile {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** A parent dataset a run read: the run that wrote it and its hash. */
export interface ParentRun {
  layer: LayerId;
  runId: number;
  datasetHash: string;
}

export type Manifest = {
  manifestVersion: typeof MANIFEST_VERSION;
  layer: LayerId;
  symbol: string;
  runId: number;
  /** Sorted by key. */
  files: ManifestFile[];
  rows: number;
  datasetHash: string;
  /** sha256 of what the run consumed: parents' hashes, config and code version (see `inputFingerprint`). */
  inputFingerprint: string;
  codeVersion: CodeVersion;
  config: Record<string, unknown>;
  parentRuns: ParentRun[];
  /** ISO 8601 UTC. */
  createdAt: string;
};

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * JSON with object keys sorted at every level, so equal values give equal text (and hashes)
 * whatever order their keys were built in. Undefined properties are left out (as JSON does);
 * values JSON cannot hold exactly (NaN, Infinity, bigint, functions) are refused, because a
 * hash over a silently changed value would be a lie.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value, '$'));
}

function canonical(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TasaError('bad_input', `${path} is ${value}, which JSON cannot hold; use null for a missing value.`, { input: path });
    return value;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v, i) => canonical(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v, `${path}.${key}`);
    }
    return out;
  }
  throw new TasaError('bad_input', `${path} is a ${typeof value}, which JSON cannot hold.`, { input: path });
}

/** sha256 over the files' keys and checksums (sorted by key) and the config. */
export function datasetHashOf(files: readonly ManifestFile[], config: Record<string, unknown>): string {
  const sorted = [...files].sort(byKey).map((f) => [f.key, f.sha256]);
  return sha256Hex(canonicalJson({ config, files: sorted }));
}

/** What a run consumes: the same fingerprint means the same output is expected. Parent run ids are left out: a rerun that reproduced the same parent hash counts as the same input. */
export function inputFingerprint(input: { layer: LayerId; symbol: string; config: Record<string, unknown>; parents: readonly ParentRun[]; codeVersion: CodeVersion }): string {
  const parents = input.parents.map((p) => [p.layer, p.datasetHash]).sort((a, b) => compare(`${a[0]}:${a[1]}`, `${b[0]}:${b[1]}`));
  return sha256Hex(canonicalJson({ codeVersion: input.codeVersion, config: input.config, layer: input.layer, parents, symbol: input.symbol }));
}

export interface ManifestInput {
  layer: LayerId;
  symbol: string;
  runId: number;
  files: readonly ManifestFile[];
  codeVersion: CodeVersion;
  config: Record<string, unknown>;
  parentRuns: readonly ParentRun[];
  /** Epoch ms. */
  createdAt: number;
}

export function buildManifest(input: ManifestInput): Manifest {
  const files = [...input.files].sort(byKey);
  // Round-trip the config through canonical JSON: what is stored is exactly what was hashed.
  const config = JSON.parse(canonicalJson(input.config)) as Record<string, unknown>;
  return {
    manifestVersion: MANIFEST_VERSION,
    layer: input.layer,
    symbol: input.symbol,
    runId: input.runId,
    files,
    rows: files.reduce((n, f) => n + f.rows, 0),
    datasetHash: datasetHashOf(files, config),
    inputFingerprint: inputFingerprint({ ...input, parents: input.parentRuns }),
    codeVersion: input.codeVersion,
    config,
    parentRuns: [...input.parentRuns],
    createdAt: new Date(input.createdAt).toISOString(),
  };
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** Stores the manifest at `<layer>/<SYMBOL>/manifests/<datasetHash>.json`; returns the key. */
export async function storeManifest(archive: ArchiveStore, manifest: Manifest): Promise<string> {
  const key = manifestKey(manifest.layer, manifest.symbol, manifest.datasetHash);
  await archive.put(key, encodeManifest(manifest));
  return key;
}

export async function loadManifest(archive: ArchiveStore, key: string): Promise<Manifest> {
  const text = new TextDecoder().decode(await archive.get(key));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TasaError('bad_input', `Manifest ${key} is not JSON.`, { input: key, cause: err });
  }
  return parseManifest(value, key);
}

/** Checks the shape of a manifest read from JSON (the archive or `pipeline_runs.manifest`). */
export function parseManifest(value: unknown, source: string): Manifest {
  const bad = (what: string) => new TasaError('bad_input', `Manifest ${source} ${what}.`, { input: source });
  if (!isRecord(value)) throw bad('is not an object');
  if (value['manifestVersion'] !== MANIFEST_VERSION) throw bad(`has version ${String(value['manifestVersion'])}, not ${MANIFEST_VERSION}`);
  const m = value as Partial<Record<keyof Manifest, unknown>>;
  if (typeof m.layer !== 'string' || !isLayerId(m.layer)) throw bad('has no valid layer');
  for (const field of ['symbol', 'datasetHash', 'inputFingerprint', 'createdAt'] as const) if (typeof m[field] !== 'string') throw bad(`has no ${field}`);
  for (const field of ['runId', 'rows'] as const) if (!Number.isSafeInteger(m[field])) throw bad(`has no ${field}`);
  if (!Array.isArray(m.files) || !m.files.every(isManifestFile)) throw bad('has malformed files');
  if (!Array.isArray(m.parentRuns) || !m.parentRuns.every(isParentRun)) throw bad('has malformed parentRuns');
  if (!isRecord(m.config)) throw bad('has no config object');
  if (!isRecord(m.codeVersion) || typeof m.codeVersion['version'] !== 'string' || !(m.codeVersion['commit'] === null || typeof m.codeVersion['commit'] === 'string')) throw bad('has no codeVersion');
  return value as Manifest;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isManifestFile(v: unknown): v is ManifestFile {
  return isRecord(v) && typeof v['key'] === 'string' && Number.isSafeInteger(v['rows']) && Number.isSafeInteger(v['bytes']) && typeof v['sha256'] === 'string';
}

function isParentRun(v: unknown): v is ParentRun {
  return isRecord(v) && typeof v['layer'] === 'string' && isLayerId(v['layer']) && Number.isSafeInteger(v['runId']) && typeof v['datasetHash'] === 'string';
}

/** How many files are read at once: hides an object store's latency without flooding it. */
const VERIFY_CONCURRENCY = 8;

/**
 * Re-reads every file and checks its size and sha256, and checks that the hash still follows
 * from the files and config. Returns the problems, one sentence each; empty = intact.
 */
export async function verifyManifest(archive: ArchiveStore, manifest: Manifest): Promise<string[]> {
  const problems: string[] = [];
  const expected = datasetHashOf(manifest.files, manifest.config);
  if (expected !== manifest.datasetHash) problems.push(`datasetHash ${manifest.datasetHash} does not follow from the files and config (expected ${expected}).`);
  const rows = manifest.files.reduce((n, f) => n + f.rows, 0);
  if (rows !== manifest.rows) problems.push(`rows is ${manifest.rows} but the files hold ${rows}.`);
  problems.push(...(await verifyFiles(archive, manifest.files)));
  return problems;
}

/** Re-reads each file and checks its size and sha256; returns the problems, one sentence each. */
export async function verifyFiles(archive: ArchiveStore, files: readonly ManifestFile[]): Promise<string[]> {
  const perFile = await mapLimit(files, VERIFY_CONCURRENCY, (f) => verifyFile(archive, f));
  return perFile.filter((p): p is string => p !== null);
}

async function verifyFile(archive: ArchiveStore, file: ManifestFile): Promise<string | null> {
  let bytes: Uint8Array;
  try {
    bytes = await archive.get(file.key);
  } catch (err) {
    if (err instanceof TasaError && err.code === 'not_found') return `${file.key} is missing.`;
    throw err;
  }
  if (bytes.byteLength !== file.bytes) return `${file.key} has ${bytes.byteLength} bytes, the manifest says ${file.bytes}.`;
  const sha = sha256Hex(bytes);
  if (sha !== file.sha256) return `${file.key} has sha256 ${sha}, the manifest says ${file.sha256}.`;
  return null;
}

/** Runs `fn` over the items with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The code version of a checkout: package.json's version and the commit read from `.git`
 * (files only: no `git` process). `commit` overrides the lookup (e.g. TASA_GIT_COMMIT in an
 * image without `.git`). For the composition root; pure code receives the result.
 */
export async function readCodeVersion(rootDir: string, commit?: string): Promise<CodeVersion> {
  const path = join(rootDir, 'package.json');
  const pkg = JSON.parse(await readFile(path, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new TasaError('bad_input', `${path} has no version.`, { input: path });
  return { version: pkg.version, commit: commit !== undefined && commit !== '' ? commit : await gitCommit(rootDir) };
}

async function gitCommit(rootDir: string): Promise<string | null> {
  try {
    let gitDir = join(rootDir, '.git');
    const dotGit = await readFile(gitDir, 'utf8').catch(() => null);
    // A worktree or submodule has a `.git` file pointing at the real folder.
    if (dotGit?.startsWith('gitdir:')) gitDir = resolve(rootDir, dotGit.slice(7).trim());
    const head = (await readFile(join(gitDir, 'HEAD'), 'utf8')).trim();
    if (!head.startsWith('ref:')) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    const ref = head.slice(4).trim();
    const loose = await readFile(join(gitDir, ...ref.split('/')), 'utf8').catch(() => null);
    if (loose !== null) return loose.trim();
    const packed = await readFile(join(gitDir, 'packed-refs'), 'utf8').catch(() => '');
    const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
    return line === undefined ? null : line.slice(0, 40);
  } catch {
    return null;
  }
}

function byKey(a: { key: string }, b: { key: string }): number {
  return compare(a.key, b.key);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
