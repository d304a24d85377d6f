#!/usr/bin/env node
// Runs the fault suite (test/faults/*.faults.ts): whole simulated sessions with one fault each,
// on a private PostgreSQL cluster and Redis server. Not part of `npm test`; `.ci/run` runs it after.
// FAULTS=redis,kill runs the faults whose names contain one of those words.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join('test', 'faults');
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.faults.ts'))
  .map((name) => join(dir, name))
  .sort();
const result = spawnSync(
  process.execPath,
  // Each fault has its own timeout; --test-force-exit ends the run even if a failed fault left a timer behind.
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-force-exit', ...files],
  { stdio: 'inherit', env: { ...process.env, TASA_LOG_LEVEL: process.env.TASA_LOG_LEVEL ?? 'silent' } },
);
process.exit(result.status ?? 1);
