/**
 * `tasa --version` and `tasa --help` answer in a directory without a store, and create none; a
 * mistyped option is named as unknown even when a required option is missing too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/tasa.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('tasa --version and --help', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasa-version-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tasa = (args: string[]) => {
    const env: Record<string, string | undefined> = { ...process.env, TASA_DATA_DIR: join(dir, 'data') };
    delete env['DATABASE_URL'];
    return run(process.execPath, [BIN, ...args], { cwd: dir, env, timeout: 60_000 });
  };

  it('prints the version and the commands without opening or creating a store', async () => {
    assert.equal((await tasa(['--version'])).stdout, `${VERSION}\n`);
    const help = await tasa(['--help']);
    assert.match(help.stdout, /^Usage: tasa \[options\] \[command\]/);
    assert.match(help.stdout, /-V, --version +print the version/);
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  });

  it('names an unknown option before a missing required one', async () => {
    const fails = (args: string[], stderr: RegExp) =>
      assert.rejects(tasa(args), (err: { code?: unknown; stderr?: unknown }) => {
        assert.equal(err.code, 1);
        assert.match(String(err.stderr), stderr);
        return true;
      });
    await fails(['calendar', '--bogus'], /^error: unknown option '--bogus'\n/);
    await fails(['calendar', '--to', '2024-01-02'], /^error: required option '--from <date>' not specified\n/);
    await fails(['token', 'create', '--name', 'x', '--rol', 'admin'], /^error: unknown option '--rol'\n/);
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  });
});
