import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { findActiveToken, hashToken } from '../../src/store/api-tokens-repo.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { openDb } from '../../src/store/open-db.ts';
import { databaseTargets, openScratchPostgres, type DatabaseTarget } from '../support/test-db.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where the CLI keeps its store: an embedded data dir, or a scratch PostgreSQL database. */
interface Store {
  env: Record<string, string>;
  /** Opens the store from this process (after the CLI has exited, for PGlite). */
  open(): Promise<Db>;
  close(): Promise<void>;
}

async function openStore(target: DatabaseTarget): Promise<Store> {
  const url = process.env['TEST_DATABASE_URL'];
  if (target.name === 'postgres') {
    // In CI without a URL, the target's open() fails the suite rather than skipping it.
    if (url === undefined || url === '') await target.open();
    const scratch = await openScratchPostgres(url ?? '');
    return { env: { DATABASE_URL: scratch.url }, open: () => Promise.resolve({ ...scratch.db, close: () => Promise.resolve() }), close: () => scratch.db.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'tasa-token-cli-'));
  return { env: { TASA_DATA_DIR: dir }, open: () => openDb({ dataDir: resolve(dir) }), close: () => Promise.resolve() };
}

async function tasa(store: Store, args: string[]): Promise<Result> {
  const env: Record<string, string | undefined> = { ...process.env, TASA_LOG_LEVEL: 'silent', ...store.env };
  if (!('DATABASE_URL' in store.env)) delete env['DATABASE_URL'];
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function field(stdout: string, name: string): string {
  const match = new RegExp(`^${name}: (\\S+)$`, 'm').exec(stdout);
  assert.ok(match?.[1], `no "${name}:" line in ${stdout}`);
  return match[1];
}

for (const target of databaseTargets()) {
  describe(`tasa token, ${target.name}`, { concurrency: false }, () => {
    let store: Store;
    let token = '';
    let id = '';
    before(async () => {
      store = await openStore(target);
    });
    after(async () => {
      await store.close();
    });

    it('creates a token, printing its id and secret once', async () => {
      const r = await tasa(store, ['token', 'create', '--name', 'grafana', '--role', 'reader']);
      assert.equal(r.code, 0, r.stderr);
      id = field(r.stdout, 'id');
      token = field(r.stdout, 'token');
      assert.match(id, /^t_[0-9a-f]{12}$/);
      assert.match(token, /^tasa_[A-Za-z0-9_-]{43}$/);
      assert.equal(field(r.stdout, 'role'), 'reader');
      assert.match(r.stderr, /not shown again/);
    });

    it('lists tokens without their secrets', async () => {
      const r = await tasa(store, ['token', 'list', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(token));
      const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      assert.deepEqual(
        rows.map((t) => [t['id'], t['name'], t['role'], t['status'], t['revoked_at']]),
        [[id, 'grafana', 'reader', 'active', null]],
      );
    });

    it('revokes a token; a second revoke is an error', async () => {
      const r = await tasa(store, ['token', 'revoke', id]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `token ${id} (grafana, reader) revoked`);
      // Each CLI run costs seconds: the second revoke runs on one store only.
      if (target.name === 'pglite') {
        const again = await tasa(store, ['token', 'revoke', id]);
        assert.equal(again.code, 2);
        assert.match(again.stderr, /already revoked/);
      }
    });

    it('stored only the hash and audited both changes with actor cli, never the secret', async () => {
      const db = await store.open();
      try {
        const [row] = await db.query<{ token_hash: string }>('SELECT token_hash FROM api_tokens WHERE id = $1', [id]);
        assert.equal(row?.token_hash, hashToken(token));
        assert.equal(await findActiveToken(db, token), null, 'revoked');
        const entries = await listAudit(db, { entity: `token:${id}`, limit: 10 });
        assert.deepEqual(
          entries.map((e) => [e.actor, e.action, e.details]),
          [
            ['cli', 'token.create', { name: 'grafana', role: 'reader' }],
            ['cli', 'token.revoke', { name: 'grafana', role: 'reader' }],
          ],
        );
        assert.ok(!JSON.stringify(await listAudit(db, { limit: 1000 })).includes(token));
      } finally {
        await db.close();
      }
    });
  });
}

describe('tasa token input checks', () => {
  it('rejects a bad role and a malformed id with one sentence, before opening any store', async () => {
    // No store: the checks come first (an unreachable DATABASE_URL would otherwise be the error).
    const unreachable: Store = { env: { DATABASE_URL: 'postgres://tasa@127.0.0.1:1/none' }, open: () => Promise.reject(new Error('unused')), close: () => Promise.resolve() };
    const cases: Array<[string[], RegExp]> = [
      [['token', 'create', '--name', 'x', '--role', 'root'], /^error: --role must be one of reader, trader, admin, not "root"\.$/m],
      [['token', 'revoke', 'abc'], /^error: "abc" is not a token id \(t_ \+ 12 hex digits\); see `tasa token list`\.$/m],
    ];
    for (const [args, message] of cases) {
      const r = await tasa(unreachable, args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
