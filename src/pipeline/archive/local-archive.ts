/**
 * The archive as a local directory: a key is a path below the root. A write goes to a hidden
 * temp file in the target's folder, is flushed to disk, then renamed over the target, so a
 * reader (or a crash) never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { TasaError } from '../../errors.ts';
import { checkKey, checkPrefix, type ArchiveEntry, type ArchiveStore } from './archive-store.ts';

const TEMP_MARK = '.tmp-';

export function openLocalArchive(root: string): ArchiveStore {
  const base = resolve(root);
  const pathOf = (key: string) => join(base, ...checkKey(key).split('/'));

  return {
    kind: 'local',
    async put(key, bytes) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true });
      const temp = join(dirname(target), `${TEMP_MARK}${randomBytes(6).toString('hex')}`);
      try {
        const handle = await open(temp, 'w');
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, target);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (err) {
        if (isMissing(err)) throw new TasaError('not_found', `The archive has no file ${key}.`, { input: key });
        throw err;
      }
    },
    async head(key) {
      try {
        const s = await stat(pathOf(key));
        return s.isFile() ? { key, bytes: s.size } : null;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async exists(key) {
      return (await this.head(key)) !== null;
    },
    async list(prefix) {
      checkPrefix(prefix);
      // Walk only the folder the prefix names, then keep the keys that start with it.
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const found = await walk(base, folder);
      return found.filter((e) => e.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    describe: () => `local directory ${base}`,
    close: () => Promise.resolve(),
  };
}

async function walk(base: string, folder: string): Promise<ArchiveEntry[]> {
  let entries;
  try {
    entries = await readdir(join(base, ...(folder === '' ? [] : folder.split('/'))), { withFileTypes: true });
  } catch (err) {
    if (isMissing(err) || isNotDirectory(err)) return [];
    throw err;
  }
  const out: ArchiveEntry[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(TEMP_MARK)) continue;
    const key = folder === '' ? entry.name : `${folder}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walk(base, key)));
    else if (entry.isFile()) out.push({ key, bytes: (await stat(join(base, ...key.split('/')))).size });
  }
  return out;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function isNotDirectory(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOTDIR';
}
