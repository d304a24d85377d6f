/** Opens the configured archive: an S3-compatible bucket or a local directory (see archive-store.ts). */
import { join } from 'node:path';
import type { ArchiveStore } from './archive-store.ts';

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
