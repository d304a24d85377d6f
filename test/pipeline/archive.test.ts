/**
 * One suite for every archive backend: a local directory and S3 (a real S3 server, s3rver, in
 * its own process on a free port). Manifests are checked on both: stored next to the files, read back, and verified
 * against corrupted, truncated and missing files.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { TasaError } from '../../src/errors.ts';
import type { ArchiveStore } from '../../src/pipeline/archive/archive-store.ts';
import { archiveOptionsFrom, openArchive } from '../../src/pipeline/archive/open-archive.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { openS3Archive } from '../../src/pipeline/archive/s3-archive.ts';
import { doubleColumn, timestampColumn, writeParquetTable } from '../../src/pipeline/archive/parquet-table.ts';
import { buildManifest, loadManifest, sha256Hex, storeManifest, verifyManifest, type Manifest } from '../../src/pipeline/manifest.ts';
import { manifestKey, monthKey } from '../../src/pipeline/layout.ts';

// s3rver checks signatures against its built-in account; the archive takes credentials from the environment only.
const S3_KEY = 'S3RVER';
const S3_SECRET = 'S3RVER';
const BUCKET = 'tasa-archive-test';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
process.env['AWS_ACCESS_KEY_ID'] = S3_KEY;
process.env['AWS_SECRET_ACCESS_KEY'] = S3_SECRET;
delete process.env['AWS_SESSION_TOKEN'];
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

interface RunningS3 {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * s3rver in its own process, as a real server would be. It signs list continuation tokens with
 * DES, which OpenSSL 3 only offers through its legacy provider, hence the flag.
 */
async function startS3(): Promise<RunningS3> {
  const directory = await mkdtemp(join(tmpdir(), 'tasa-s3rver-'));
  const script = `
    const S3rver = require('s3rver');
    new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: process.env.S3RVER_DIR })
      .run().then((a) => process.stdout.write(JSON.stringify({ port: a.port }) + '\\n'));`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, S3RVER_DIR: directory, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('\n')) resolve((JSON.parse(out) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1' });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  admin.destroy();
  return {
    endpoint,
    close: async () => {
      child.kill();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

interface Backend {
  name: string;
  open(): Promise<ArchiveStore>;
  close(): Promise<void>;
}

function localBackend(): Backend {
  let dir = '';
  return {
    name: 'local directory',
    async open() {
      dir = await mkdtemp(join(tmpdir(), 'tasa-archive-'));
      return openLocalArchive(dir);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

function s3Backend(): Backend {
  let s3: RunningS3 | undefined;
  return {
    name: 'S3 (s3rver)',
    async open() {
      s3 = await startS3();
      return openS3Archive({ bucket: BUCKET, endpoint: s3.endpoint, prefix: 'runs/tasa' });
    },
    close: async () => s3?.close(),
  };
}

const bytesOf = (text: string) => new TextEncoder().encode(text);
const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

for (const backend of [localBackend(), s3Backend()]) {
  describe(`archive on ${backend.name}`, () => {
    let archive: ArchiveStore;
    before(async () => {
      archive = await backend.open();
    });
    after(async () => {
      await archive.close();
      await backend.close();
    });

    test('put then get returns the same bytes; a second put replaces them', async () => {
      await archive.put('L2/USDCOP/2024/2024-01.parquet', bytesOf('first'));
      assert.equal(textOf(await archive.get('L2/USDCOP/2024/2024-01.parquet')), 'first');
      await archive.put('L2/USDCOP/2024/2024-01.parquet', bytesOf('second, longer'));
      assert.equal(textOf(await archive.get('L2/USDCOP/2024/2024-01.parquet')), 'second, longer');
      const binary = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256);
      await archive.put('L2/USDCOP/blob.bin', binary);
      assert.deepEqual(await archive.get('L2/USDCOP/blob.bin'), binary);
    });

    test('get of a missing key is a not_found TasaError naming the key', async () => {
      await assert.rejects(archive.get('L2/USDCOP/2030/2030-01.parquet'), (err: unknown) => {
        assert.ok(err instanceof TasaError);
        assert.equal(err.code, 'not_found');
        assert.match(err.message, /L2\/USDCOP\/2030\/2030-01\.parquet/);
        return true;
      });
    });

    test('head and exists give the size, or null / false when missing', async () => {
      await archive.put('L3/USDCOP/2024/2024-02.parquet', bytesOf('12345'));
      assert.deepEqual(await archive.head('L3/USDCOP/2024/2024-02.parquet'), { key: 'L3/USDCOP/2024/2024-02.parquet', bytes: 5 });
      assert.equal(await archive.exists('L3/USDCOP/2024/2024-02.parquet'), true);
      assert.equal(await archive.head('L3/USDCOP/2024/2024-03.parquet'), null);
      assert.equal(await archive.exists('L3/USDCOP/2024/2024-03.parquet'), false);
      // A folder is not an object.
      assert.equal(await archive.exists('L3/USDCOP/2024'), false);
    });

    test('list returns the keys under a prefix, sorted, with sizes, and nothing else', async () => {
      const keys = ['L4/USDCOP/2024/2024-12.parquet', 'L4/USDCOP/2023/2023-01.parquet', 'L4/USDCOP/2024/2024-02.parquet', 'L4/USDCOPX/2024/2024-01.parquet', 'L4/USDCOP/manifests/abc.json'];
      for (const [i, key] of keys.entries()) await archive.put(key, bytesOf('x'.repeat(i + 1)));
      assert.deepEqual(await archive.list('L4/USDCOP/'), [
        { key: 'L4/USDCOP/2023/2023-01.parquet', bytes: 2 },
        { key: 'L4/USDCOP/2024/2024-02.parquet', bytes: 3 },
        { key: 'L4/USDCOP/2024/2024-12.parquet', bytes: 1 },
        { key: 'L4/USDCOP/manifests/abc.json', bytes: 5 },
      ]);
      // A prefix may end inside a name, as on S3.
      assert.deepEqual((await archive.list('L4/USDCOP/2024/2024-1')).map((e) => e.key), ['L4/USDCOP/2024/2024-12.parquet']);
      assert.deepEqual((await archive.list('L4/USDCOP')).map((e) => e.key).length, 5);
      assert.deepEqual(await archive.list('L9/'), []);
      const all = (await archive.list('')).map((e) => e.key);
      assert.ok(all.includes('L4/USDCOPX/2024/2024-01.parquet') && all.includes('L2/USDCOP/blob.bin'));
    });

    test('delete removes the object; deleting a missing one is fine', async () => {
      await archive.put('L5/USDCOP/model.json', bytesOf('{}'));
      await archive.delete('L5/USDCOP/model.json');
      assert.equal(await archive.exists('L5/USDCOP/model.json'), false);
      await archive.delete('L5/USDCOP/model.json');
      assert.deepEqual(await archive.list('L5/'), []);
    });

    test('keys that are not plain relative paths are refused before any I/O', async () => {
      for (const key of ['../escape', '/abs/key', 'a//b', 'a/./b', '.hidden', 'a\\b', 'a/b/', '', 'a b']) {
        await assert.rejects(archive.put(key, bytesOf('x')), (err: unknown) => err instanceof TasaError && err.code === 'bad_argument', key);
      }
      await assert.rejects(archive.list('../'), TasaError);
    });

    test('describe says where the archive is and never holds the secret', () => {
      const where = archive.describe();
      assert.match(where, backend.name.startsWith('S3') ? /^s3:\/\/tasa-archive-test\/runs\/tasa\/ at http:\/\/127\.0\.0\.1:\d+$/ : /^local directory \//);
      assert.ok(!where.includes(S3_SECRET));
    });

    test('a manifest is stored next to its files, reads back equal, and verifies', async () => {
      const manifest = await writeDataset(archive);
      const key = await storeManifest(archive, manifest);
      assert.equal(key, manifestKey('L2', 'USD/COP', manifest.datasetHash));
      assert.deepEqual(await loadManifest(archive, key), manifest);
      assert.deepEqual(await verifyManifest(archive, manifest), []);
    });

    test('verifyManifest reports a corrupted, a truncated and a missing file', async () => {
      const manifest = await writeDataset(archive);
      const [jan, feb, mar] = manifest.files.map((f) => f.key) as [string, string, string];
      const original = await archive.get(jan);
      const flipped = original.slice();
      flipped[100] = (flipped[100] ?? 0) ^ 0xff;
      await archive.put(jan, flipped);
      await archive.put(feb, (await archive.get(feb)).subarray(0, 40));
      await archive.delete(mar);
      const problems = await verifyManifest(archive, manifest);
      assert.equal(problems.length, 3, problems.join('\n'));
      assert.match(problems[0] ?? '', new RegExp(`^${jan} has sha256 [0-9a-f]{64}, the manifest says ${manifest.files[0]?.sha256}\\.$`));
      assert.match(problems[1] ?? '', new RegExp(`^${feb} has 40 bytes, the manifest says \\d+\\.$`));
      assert.equal(problems[2], `${mar} is missing.`);
      await archive.put(jan, original);
      assert.equal((await verifyManifest(archive, manifest)).length, 2);
    });

    test('verifyManifest reports a manifest whose hash does not follow from its files and config', async () => {
      const manifest = await writeDataset(archive);
      const edited: Manifest = { ...manifest, config: { ...manifest.config, window: 99 } };
      const problems = await verifyManifest(archive, edited);
      assert.equal(problems.length, 1);
      assert.match(problems[0] ?? '', /datasetHash .* does not follow from the files and config/);
    });
  });
}

/** Three monthly Parquet files of L2 for USD/COP and their manifest (not yet stored). */
async function writeDataset(archive: ArchiveStore): Promise<Manifest> {
  const files = [];
  for (const [i, month] of ['2024-01', '2024-02', '2024-03'].entries()) {
    const start = Date.parse(`${month}-02T13:00:00Z`);
    const bytes = writeParquetTable([timestampColumn('time', [start, start + 300_000]), doubleColumn('ema20', [4000 + i, NaN])]);
    const key = monthKey('L2', 'USD/COP', month);
    await archive.put(key, bytes);
    files.push({ key, rows: 2, bytes: bytes.byteLength, sha256: sha256Hex(bytes) });
  }
  return buildManifest({
    layer: 'L2',
    symbol: 'USD/COP',
    runId: 7,
    files,
    codeVersion: { version: '0.1.0', commit: null },
    config: { window: 20, names: ['ema20'] },
    parentRuns: [{ layer: 'L1', runId: 3, datasetHash: 'a'.repeat(64) }],
    createdAt: Date.UTC(2024, 3, 1),
  });
}

describe('openArchive', () => {
  test('without a bucket it is the local directory <TASA_DATA_DIR>/archive, or TASA_ARCHIVE_DIR', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tasa-data-'));
    try {
      const byDataDir = await openArchive(archiveOptionsFrom({ TASA_DATA_DIR: dataDir }));
      assert.equal(byDataDir.kind, 'local');
      assert.equal(byDataDir.describe(), `local directory ${join(dataDir, 'archive')}`);
      await byDataDir.put('L1/USDCOP/2024/2024-01.parquet', bytesOf('x'));
      assert.deepEqual(await readdir(join(dataDir, 'archive', 'L1', 'USDCOP', '2024')), ['2024-01.parquet']);
      const explicit = await openArchive(archiveOptionsFrom({ TASA_DATA_DIR: dataDir, TASA_ARCHIVE_DIR: join(dataDir, 'elsewhere'), TASA_ARCHIVE_S3_BUCKET: '' }));
      assert.equal(explicit.describe(), `local directory ${join(dataDir, 'elsewhere')}`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('with a bucket it is S3, described without credentials', async () => {
    const archive = await openArchive(
      archiveOptionsFrom({ TASA_DATA_DIR: '/unused', TASA_ARCHIVE_S3_BUCKET: 'my-bucket', TASA_ARCHIVE_S3_ENDPOINT: 'http://user:hunter2@minio.local:9000', TASA_ARCHIVE_S3_PREFIX: '/tasa/', AWS_REGION: 'sa-east-1' }),
    );
    try {
      assert.equal(archive.kind, 's3');
      assert.equal(archive.describe(), 's3://my-bucket/tasa/ at http://minio.local:9000');
    } finally {
      await archive.close();
    }
  });

  test('a local write leaves no temp file behind, and list skips a stray one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tasa-archive-'));
    try {
      const archive = openLocalArchive(dir);
      await archive.put('L1/USDCOP/a.parquet', bytesOf('a'));
      await writeFile(join(dir, 'L1', 'USDCOP', '.tmp-deadbeef'), 'half a file');
      assert.deepEqual((await archive.list('L1/')).map((e) => e.key), ['L1/USDCOP/a.parquet']);
      assert.deepEqual((await readdir(join(dir, 'L1', 'USDCOP'))).sort(), ['.tmp-deadbeef', 'a.parquet']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an S3 prefix puts every key under it, keys come back without it, and every list page is read', async () => {
    const s3 = await startS3();
    const prefixed = openS3Archive({ bucket: BUCKET, endpoint: s3.endpoint, prefix: 'team/tasa', listPageSize: 2 });
    const root = openS3Archive({ bucket: BUCKET, endpoint: s3.endpoint });
    try {
      await prefixed.put('L1/USDCOP/2024/2024-01.parquet', bytesOf('x'));
      assert.deepEqual(await root.list(''), [{ key: 'team/tasa/L1/USDCOP/2024/2024-01.parquet', bytes: 1 }]);
      assert.deepEqual(await prefixed.list('L1/'), [{ key: 'L1/USDCOP/2024/2024-01.parquet', bytes: 1 }]);
      // Five more objects listed two per request: every page is followed.
      for (const month of ['02', '03', '04', '05', '06']) await prefixed.put(`L1/USDCOP/2024/2024-${month}.parquet`, bytesOf(month));
      assert.deepEqual((await prefixed.list('L1/USDCOP/2024/')).map((e) => e.key.slice(-10, -8)), ['01', '02', '03', '04', '05', '06']);
    } finally {
      await prefixed.close();
      await root.close();
      await s3.close();
    }
  });

  test('an S3 failure is one TasaError naming the object, without the secret', async () => {
    const s3 = await startS3();
    const archive = openS3Archive({ bucket: 'no-such-bucket', endpoint: s3.endpoint });
    try {
      await assert.rejects(archive.list('L1/'), (err: unknown) => {
        assert.ok(err instanceof TasaError);
        assert.match(err.message, /^Could not list s3:\/\/no-such-bucket\/L1\/: NoSuchBucket/);
        assert.ok(!err.message.includes(S3_SECRET) && !(err.hint ?? '').includes(S3_SECRET));
        return true;
      });
      // A missing bucket is not a missing file.
      await assert.rejects(archive.get('L1/x.parquet'), (err: unknown) => err instanceof TasaError && err.code !== 'not_found');
    } finally {
      await archive.close();
      await s3.close();
    }
  });
});
