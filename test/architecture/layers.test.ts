/**
 * The layering rules of .dependency-cruiser.mjs: src/ keeps them, each kind of rule catches what
 * it is for (probed on a small tree that breaks it), and docs/architecture.md states the same table.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cruise, type ICruiseOptions, type IViolation } from 'dependency-cruiser';
import config, { LAYERS } from '../../.dependency-cruiser.mjs';

const ROOT = join(import.meta.dirname, '..', '..');

async function violationsIn(baseDir: string, withTsConfig: boolean): Promise<IViolation[]> {
  const options: ICruiseOptions = {
    validate: true,
    ruleSet: { forbidden: config.forbidden },
    baseDir,
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    ...(withTsConfig ? { tsConfig: { fileName: 'tsconfig.json' } } : {}),
  };
  const result = await cruise(['src'], options);
  if (typeof result.output === 'string') throw new Error('dependency-cruiser returned text, expected a result object');
  return result.output.summary.violations;
}

describe('layering', () => {
  test('src/ breaks no rule and has no import cycle', async () => {
    const violations = await violationsIn(ROOT, true);
    assert.deepEqual(
      violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`),
      [],
    );
  });

  describe('each rule catches what it is for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasa-layers-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write('src/errors.ts', 'export const e = 1;\n');
    write('src/server/app.ts', "import { d } from '../domain/upward.ts';\nexport const app = d;\n");
    // domain -> server: an upward import (and, with app.ts importing back, a cycle).
    write('src/domain/upward.ts', "import type { app } from '../server/app.ts';\nexport const d = 1;\nexport type A = typeof app;\n");
    // domain with I/O.
    write('src/domain/io.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n");
    // the web importing server code at runtime; a type-only import from contracts is allowed.
    write('src/contracts/shape.ts', 'export interface Shape { a: number }\n');
    write('src/web/view.ts', "import type { Shape } from '../contracts/shape.ts';\nimport { e } from '../errors.ts';\nexport const v: Shape = { a: e };\n");
    // a folder no layer names.
    write('src/stray/thing.ts', "import { e } from '../errors.ts';\nexport const t = e;\n");

    test('upward imports, cycles, I/O in the domain, runtime imports into the web and unlisted folders fail', async () => {
      const found = (await violationsIn(dir, false)).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
      assert.deepEqual(found, [
        'domain-no-io: src/domain/io.ts -> fs',
        'layer-domain: src/domain/upward.ts -> src/server/app.ts',
        'layer-web: src/web/view.ts -> src/errors.ts',
        'no-circular: src/domain/upward.ts -> src/server/app.ts',
        'no-unlisted-folder: src/stray/thing.ts -> src/errors.ts',
        'web-imports-types-only: src/web/view.ts -> src/errors.ts',
      ]);
    });
  });

  test('docs/architecture.md states the same layers and imports as the checker', () => {
    const documented = documentedLayers(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8'));
    const configured = LAYERS.map((l) => ({ name: l.name, imports: [...l.imports] }));
    assert.deepEqual(documented, configured, 'update the table in docs/architecture.md (or LAYERS in .dependency-cruiser.mjs) so that they agree');
  });
});

/** The "Layers" table: `| **name** ... | holds | a, b, c |` rows, in order; "—" for no imports. */
function documentedLayers(markdown: string): Array<{ name: string; imports: string[] }> {
  const section = markdown.split('\n## ').find((s) => s.startsWith('Layers'));
  assert.ok(section, 'docs/architecture.md has no "## Layers" section');
  return section
    .split('\n')
    .filter((line) => /^\| \*\*[a-z]+\*\*/.test(line))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      const name = /\*\*([a-z]+)\*\*/.exec(cells[1] ?? '')?.[1] ?? '';
      const last = cells.at(-2) ?? '';
      return { name, imports: last === '—' ? [] : last.split(',').map((s) => s.trim()) };
    });
}
