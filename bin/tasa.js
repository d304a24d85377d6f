#!/usr/bin/env node
// Entry point for the installed `tasa` command. Runs the JavaScript build of the CLI
// (scripts/build-cli.mjs: postinstall, prestart, `npm run build:cli`) when every source file it was
// built from is unchanged, so that start-up compiles nothing; otherwise (no build, or src/ edited
// since) the TypeScript in src/ through tsx, so that an edit is never run stale.
import { readFileSync, statSync } from 'node:fs';
import { URL } from 'node:url';

const BUILD = new URL('../dist/cli/', import.meta.url);
const ROOT = new URL('../', import.meta.url);

/** True when dist/cli/sources.json exists and each file it lists has the size and mtime it was built from. */
function buildIsCurrent() {
  try {
    const sources = JSON.parse(readFileSync(new URL('sources.json', BUILD), 'utf8'));
    return Object.entries(sources).every(([path, [size, mtimeMs]]) => {
      const stat = statSync(new URL(path, ROOT));
      return stat.size === size && stat.mtimeMs === mtimeMs;
    });
  } catch {
    return false;
  }
}

if (buildIsCurrent()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
