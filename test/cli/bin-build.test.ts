/**
 * bin/tasa.js runs the JavaScript build only while every source file it was built from is unchanged
 * (scripts/build-cli.mjs stamps them in dist/cli/sources.json), and src/ through tsx otherwise: an
 * edit is never run stale. A miniature project: the real bin/tasa.js, a "build" and a "source" that
 * each say which they are.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('bin/tasa.js chooses the build or the source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasa-bin-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
  mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
  copyFileSync(join(REPO, 'bin', 'tasa.js'), join(dir, 'bin', 'tasa.js'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  const source = join(dir, 'src', 'cli', 'main.ts');
  writeFileSync(source, "const from: string = 'source';\nconsole.log(from);\n");
  writeFileSync(join(dir, 'dist', 'cli', 'main.js'), "console.log('build');\n");
  const stamp = (others: Record<string, [number, number]> = {}) => {
    const { size, mtimeMs } = statSync(source);
    writeFileSync(join(dir, 'dist', 'cli', 'sources.json'), JSON.stringify({ 'src/cli/main.ts': [size, mtimeMs], ...others }));
  };
  const ran = async () => (await run(process.execPath, [join(dir, 'bin', 'tasa.js')], { cwd: tmpdir(), timeout: 60_000 })).stdout.trim();

  it('runs the build while its sources are unchanged', async () => {
    stamp();
    assert.equal(await ran(), 'build');
  });

  it('runs the source once a source file is edited, even to the same size', async () => {
    stamp();
    writeFileSync(source, "const from: string = 'SOURCE';\nconsole.log(from);\n");
    assert.equal(await ran(), 'SOURCE');
  });

  it('runs the source when only the mtime changed, or a source file is gone, or nothing was stamped', async () => {
    stamp();
    const later = new Date(statSync(source).mtimeMs + 5_000);
    utimesSync(source, later, later);
    assert.equal(await ran(), 'SOURCE');
    stamp({ 'src/gone.ts': [10, 1] });
    assert.equal(await ran(), 'SOURCE');
    stamp();
    assert.equal(await ran(), 'build', 'the check itself passes again');
    rmSync(join(dir, 'dist', 'cli', 'sources.json'));
    assert.equal(await ran(), 'SOURCE');
  });
});

describe('the CLI build keeps only the holiday data the calendar uses', () => {
  it('prints the same calendar, Colombian and US holidays, as the source with the whole library', async () => {
    const args = ['calendar', '--from', '2020-01-01', '--to', '2030-12-31'];
    const built = join(REPO, 'dist', 'cli', 'main.js');
    assert.ok(statSync(built, { throwIfNoEntry: false }), 'dist/cli/main.js is missing: npm install (postinstall) or npm run build:cli builds it');
    const fromBuild = await run(process.execPath, [built, ...args], { cwd: tmpdir(), timeout: 60_000, maxBuffer: 8 << 20 });
    const fromSource = await run(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), ...args], {
      cwd: REPO,
      timeout: 60_000,
      maxBuffer: 8 << 20,
    });
    assert.ok(fromSource.stdout.includes("New Year's Day") && fromSource.stdout.includes('Año Nuevo'), 'both countries appear');
    assert.equal(fromBuild.stdout, fromSource.stdout);
  });
});
