#!/usr/bin/env node
// Runs every test file under test/ with node's test runner (Node 20 has no --test globs).
// Suites that need PostgreSQL or Redis read TEST_DATABASE_URL / TEST_REDIS_URL; without them they
// are skipped with a notice, except under CI (CI=true), where a missing server is a failure.
// --test-force-exit: a file whose tests have all finished exits even if a failed test left a handle open
// (a hung file would otherwise hold the whole run until CI's time limit).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : findTests('test').sort();
for (const name of ['TEST_DATABASE_URL', 'TEST_REDIS_URL']) {
  if (!process.env[name]) {
    const verdict = process.env.CI ? 'CI requires it: those suites will FAIL' : 'those suites are skipped';
    console.error(`note: ${name} is not set; ${verdict}.`);
  }
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-force-exit', ...files],
  { stdio: 'inherit', env: { ...process.env, TASA_LOG_LEVEL: process.env.TASA_LOG_LEVEL ?? 'silent' } },
);
process.exit(result.status ?? 1);
