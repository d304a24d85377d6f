/** What `tasa migrate` and `tasa doctor` run (loaded on demand by ../commands/admin-commands.ts). */
import { Redis } from 'ioredis';
import { redactUrl } from '../../config.ts';
import { errorMessage } from '../../errors.ts';
import { latestSchemaVersion, migrate, schemaVersion } from '../../store/migrate.ts';
import { createContext, openConfiguredDb, type CliContext } from '../context.ts';

export async function runMigrate(): Promise<void> {
  const db = await openConfiguredDb(createContext());
  try {
    const result = await migrate(db);
    console.log(
      result.applied.length === 0
        ? `${db.target}: schema is up to date (version ${result.to}).`
        : `${db.target}: migrated from version ${result.from} to ${result.to} (${result.applied.join(', ')}).`,
    );
  } finally {
    await db.close();
  }
}

/** Exit code 1 unless every check passed. */
export async function runDoctor(): Promise<void> {
  const healthy = await doctor(createContext());
  process.exitCode = healthy ? 0 : 1;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function doctor(ctx: CliContext): Promise<boolean> {
  const checks = [await checkDatabase(ctx), await checkRedis(ctx)];
  console.log(`node ${process.version}; data dir ${ctx.config.TASA_DATA_DIR}; calendar overrides ${ctx.config.TASA_CALENDAR_OVERRIDES ?? 'none'}`);
  for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(9)} ${c.detail}`);
  return checks.every((c) => c.ok);
}

async function checkDatabase(ctx: CliContext): Promise<Check> {
  try {
    const db = await openConfiguredDb(ctx);
    try {
      const version = await schemaVersion(db);
      const latest = latestSchemaVersion();
      const state = version === latest ? 'up to date' : `behind: run \`tasa migrate\` to reach ${latest}`;
      return { name: 'database', ok: version === latest, detail: `${db.target} (${db.driver}); schema version ${version}, ${state}` };
    } finally {
      await db.close();
    }
  } catch (err) {
    return { name: 'database', ok: false, detail: errorMessage(err) };
  }
}

async function checkRedis(ctx: CliContext): Promise<Check> {
  const url = ctx.config.REDIS_URL;
  if (url === undefined) return { name: 'redis', ok: true, detail: 'not configured (in-process bus)' };
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    const pong = await redis.ping();
    return { name: 'redis', ok: pong === 'PONG', detail: `${redactUrl(url)} answered ${pong}` };
  } catch (err) {
    return { name: 'redis', ok: false, detail: `${redactUrl(url)} unreachable: ${errorMessage(err)}` };
  } finally {
    redis.disconnect();
  }
}
