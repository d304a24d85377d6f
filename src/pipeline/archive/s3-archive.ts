/**
 * The archive in an S3 bucket or an S3-compatible server (MinIO, ...). Credentials are never
 * passed in: the AWS SDK finds them itself (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, AWS_PROFILE, instance roles), so nothing here can log them.
 * A PutObject is atomic: a reader sees the old object or the new one.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { TasaError } from '../../errors.ts';
import { checkKey, checkPrefix, type ArchiveEntry, type ArchiveStore } from './archive-store.ts';

export interface S3ArchiveOptions {
  bucket: string;
  /** An S3-compatible server's URL; path-style addressing is used with it. */
  endpoint?: string | undefined;
  /** Keys are stored as `<prefix>/<key>`. */
  prefix?: string | undefined;
  region?: string | undefined;
  /** Keys per list request (S3's MaxKeys, at most 1000); small values exercise paging in tests. */
  listPageSize?: number;
}

/** S3-compatible servers accept any region name in the signature; AWS itself needs the real one. */
const REGION_FOR_CUSTOM_ENDPOINT = 'us-east-1';

export function openS3Archive(options: S3ArchiveOptions): ArchiveStore {
  const prefix = options.prefix === undefined ? '' : `${checkKey(options.prefix.replace(/^\/+|\/+$/g, ''))}/`;
  const bucket = options.bucket;
  const config: S3ClientConfig = {};
  const region = options.region ?? (options.endpoint === undefined ? undefined : REGION_FOR_CUSTOM_ENDPOINT);
  if (region !== undefined) config.region = region;
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    config.forcePathStyle = true;
    // The SDK's default CRC checksum headers are refused by several S3-compatible servers
    // (older MinIO, Backblaze, Hetzner...). Integrity does not depend on them: every file's
    // sha256 is in its manifest and checked on read back.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  const client = new S3Client(config);
  const where = `s3://${bucket}/${prefix}${options.endpoint === undefined ? '' : ` at ${redactEndpoint(options.endpoint)}`}`;
  const fail = (action: string, key: string, err: unknown) => failure(action, `s3://${bucket}/${prefix}${key}`, err);

  return {
    kind: 's3',
    async put(key, bytes) {
      const Key = prefix + checkKey(key);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: bytes, ContentLength: bytes.byteLength })).catch((err: unknown) => fail('write', key, err));
    },
    async get(key) {
      const Key = prefix + checkKey(key);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
        if (!out.Body) throw new TasaError('internal', `S3 returned no body for ${Key}.`, { input: key });
        return await out.Body.transformToByteArray();
      } catch (err) {
        if (isNotFound(err)) throw new TasaError('not_found', `The archive has no file ${key}.`, { input: key });
        return fail('read', key, err);
      }
    },
    async head(key) {
      const Key = prefix + checkKey(key);
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
        if (out.ContentLength === undefined) throw new TasaError('internal', `S3 returned no size for ${Key}.`, { input: key });
        return { key, bytes: out.ContentLength };
      } catch (err) {
        if (isNotFound(err)) return null;
        return fail('inspect', key, err);
      }
    },
    async exists(key) {
      return (await this.head(key)) !== null;
    },
    async list(keyPrefix) {
      const Prefix = prefix + checkPrefix(keyPrefix);
      const out: ArchiveEntry[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix, ContinuationToken, MaxKeys: options.listPageSize })).catch((err: unknown) => fail('list', keyPrefix, err));
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          if (o.Size === undefined) throw new TasaError('internal', `S3 listed ${o.Key} without a size.`, { input: o.Key });
          out.push({ key: o.Key.slice(prefix.length), bytes: o.Size });
        }
        ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(key) {
      const Key = prefix + checkKey(key);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch((err: unknown) => fail('delete', key, err));
    },
    describe: () => where,
    close: () => {
      client.destroy();
      return Promise.resolve();
    },
  };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (e?.name === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** One sentence naming the object and the server's reason; the SDK's messages carry no credentials. */
function failure(action: string, location: string, err: unknown): never {
  if (err instanceof TasaError) throw err;
  const e = err as { name?: string; message?: string } | null;
  throw new TasaError('internal', `Could not ${action} ${location}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}.`, {
    input: location,
    hint: 'Check TASA_ARCHIVE_S3_BUCKET, TASA_ARCHIVE_S3_ENDPOINT, AWS_REGION and the AWS credentials in the environment.',
    cause: err,
  });
}

/** An endpoint URL may carry user:password; it is shown without them. */
function redactEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '<unparseable endpoint>';
  }
}
