/**
 * The layering of src/, checked by dependency-cruiser (`npm run lint:layers`, part of `npm test`).
 *
 * LAYERS is the one statement of the rules: each part of src/ lists the parts it may import
 * (besides itself). docs/architecture.md shows the same table, and test/architecture/layers.test.ts
 * fails when the two differ. Everything else follows from it: an import that is not listed, an
 * import cycle, a runtime import from the web into the server's code, or I/O in the domain fails
 * the check.
 */

/** @typedef {import("./.dependency-cruiser.d.mts").Layer} Layer */

/** @type {Layer[]} Ordered from the bottom: a layer never imports one listed after it. */
export const LAYERS = [
  { name: 'foundation', path: '^src/(errors|clock|log|config|version|row-writer)\\.ts$', imports: [] },
  { name: 'contracts', path: '^src/contracts/', imports: [] },
  { name: 'domain', path: '^src/domain/', imports: ['foundation', 'contracts'] },
  { name: 'trading', path: '^src/trading/', imports: ['foundation', 'contracts', 'domain'] },
  { name: 'store', path: '^src/store/', imports: ['foundation', 'contracts', 'domain', 'trading'] },
  { name: 'bus', path: '^src/bus/', imports: ['foundation', 'contracts', 'domain'] },
  { name: 'metrics', path: '^src/metrics/', imports: ['foundation', 'contracts', 'domain', 'store', 'bus'] },
  { name: 'feeds', path: '^src/feeds/', imports: ['foundation', 'contracts', 'domain', 'store'] },
  { name: 'ingest', path: '^src/ingest/', imports: ['foundation', 'contracts', 'domain', 'store', 'bus', 'metrics', 'feeds'] },
  { name: 'research', path: '^src/research/', imports: ['foundation', 'contracts', 'domain', 'store', 'bus', 'metrics'] },
  {
    name: 'execution',
    path: '^src/execution/',
    imports: ['foundation', 'contracts', 'domain', 'trading', 'store', 'bus', 'metrics', 'research'],
  },
  { name: 'pipeline', path: '^src/pipeline/', imports: ['foundation', 'contracts', 'domain', 'store', 'feeds', 'research'] },
  {
    name: 'jobs',
    path: '^src/jobs/',
    imports: ['foundation', 'contracts', 'domain', 'trading', 'store', 'bus', 'metrics', 'feeds', 'research', 'execution', 'pipeline'],
  },
  { name: 'alerts', path: '^src/alerts/', imports: ['foundation', 'contracts', 'domain', 'store', 'bus', 'metrics', 'ingest', 'jobs'] },
  {
    name: 'server',
    path: '^src/server/',
    imports: ['foundation', 'contracts', 'domain', 'trading', 'store', 'bus', 'metrics', 'feeds', 'ingest', 'research', 'execution', 'pipeline', 'jobs', 'alerts'],
  },
  {
    name: 'root',
    path: '^src/(system|calendar-config)\\.ts$',
    imports: ['foundation', 'contracts', 'domain', 'trading', 'store', 'bus', 'metrics', 'feeds', 'ingest', 'research', 'execution', 'pipeline', 'jobs', 'alerts', 'server'],
  },
  {
    name: 'cli',
    path: '^src/cli/',
    imports: ['foundation', 'contracts', 'domain', 'trading', 'store', 'bus', 'metrics', 'feeds', 'ingest', 'research', 'execution', 'pipeline', 'jobs', 'alerts', 'server', 'root'],
  },
  { name: 'web', path: '^src/web/', imports: ['contracts'] },
];

const byName = new Map(LAYERS.map((l) => [l.name, l]));
const pathOf = (name) => {
  const layer = byName.get(name);
  if (!layer) throw new Error(`.dependency-cruiser.mjs: unknown layer "${name}"`);
  return layer.path;
};
const anyOf = (paths) => `(${paths.join('|')})`;

/** One rule per layer: from it, only into itself or the layers it lists (npm packages and node: builtins are other rules' business). */
const layerRules = LAYERS.map((layer) => ({
  name: `layer-${layer.name}`,
  comment: `${layer.name} may import only: ${layer.imports.length === 0 ? '(nothing else in src/)' : layer.imports.join(', ')}`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: '^src/', pathNot: anyOf([layer.path, ...layer.imports.map(pathOf)]) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    { name: 'no-circular', comment: 'No import cycle, type-only imports included.', severity: 'error', from: {}, to: { circular: true } },
    { name: 'no-unlisted-folder', comment: 'Every file of src/ belongs to a layer of LAYERS.', severity: 'error', from: { path: '^src/', pathNot: anyOf(LAYERS.map((l) => l.path)) }, to: {} },
    ...layerRules,
    {
      name: 'web-imports-types-only',
      comment: 'The dashboard takes only types from outside web/ (the bundle never carries server code).',
      severity: 'error',
      from: { path: pathOf('web') },
      to: { path: '^src/', pathNot: pathOf('web'), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'contracts-only-typebox',
      comment: 'Contracts are shapes: no package but typebox, no node: builtin.',
      severity: 'error',
      from: { path: pathOf('contracts') },
      to: { dependencyTypes: ['npm', 'npm-dev', 'core'], pathNot: '^node_modules/typebox/' },
    },
    {
      name: 'domain-no-io',
      comment: 'The domain and the trading domain are pure: no node: builtin, no package but luxon and date-holidays.',
      severity: 'error',
      from: { path: anyOf([pathOf('domain'), pathOf('trading')]) },
      to: { dependencyTypes: ['npm', 'npm-dev', 'core'], pathNot: '^node_modules/(luxon|date-holidays)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
