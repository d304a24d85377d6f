#!/usr/bin/env node
// Builds the CLI to JavaScript in dist/cli/ (run by postinstall and prestart, or `npm run build:cli`),
// so that `tasa` compiles no TypeScript when it starts. One ES module bundle of src/, split at every
// dynamic import so that a command loads only what it runs. npm packages stay plain imports, except
// BUNDLED ones: each is hundreds of small modules whose loading alone took most of `tasa calendar`.
// dist/cli/sources.json stamps every input (size, mtime): bin/tasa.js runs the build only while all
// of them are unchanged, and src/ through tsx otherwise.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist', 'cli');
const SOURCES_FILE = 'sources.json';
const MAIN_FILE = 'main.js';
const KEEP_OLD_CHUNKS_DAYS = 30;
/** Pure-JS packages bundled into the CLI; @fastify/type-provider-typebox with typebox, so that the server too has one copy of it. */
const BUNDLED = ['typebox', '@fastify/type-provider-typebox', 'date-holidays'];

/**
 * Source files find their data relative to themselves (`new URL('./migrations/', import.meta.url)`),
 * so in the bundle each one's import.meta.url still names the source file, relative to its chunk
 * (all chunks are written to OUT itself). import.meta.dirname and .filename are refused: not rewritten.
 */
const sourceUrlPlugin = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.tsx?$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (/import\.meta\.(dirname|filename)\b/.test(text)) {
        return { errors: [{ text: `${relative(ROOT, args.path)}: use import.meta.url (the CLI build rewrites only that)` }] };
      }
      const fromOut = relative(OUT, args.path).split(sep).join('/');
      const contents = text.replace(/\bimport\.meta\.url\b/g, `new URL(${JSON.stringify(fromOut)}, import.meta.url).href`);
      return { contents, loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
    });
  },
};

/**
 * The bundled date-holidays carries every country's rules, and moment-timezone (which it loads)
 * every zone: 1.5 MB of data parsed at each start, most of `tasa calendar`'s start-up. The bundle
 * keeps the countries of src/domain/holiday-countries.json and their zones (the calendar refuses any
 * other country, so a missing one fails loudly rather than having no holidays).
 */
const holidayDataPlugin = {
  name: 'holiday-data-subset',
  setup(b) {
    const countries = JSON.parse(readFileSync(join(ROOT, 'src', 'domain', 'holiday-countries.json'), 'utf8'));
    const zones = zonesOfCountries(countries);
    b.onLoad({ filter: /[\\/]date-holidays[\\/]src[\\/]data\.js$/ }, async (args) => {
      const { data } = await import(pathToFileURL(args.path).href);
      const holidays = Object.fromEntries(countries.map((code) => [code, data.holidays[code]]));
      return { contents: `export const data = ${JSON.stringify({ ...data, holidays })};`, loader: 'js' };
    });
    b.onLoad({ filter: /[\\/]moment-timezone[\\/]data[\\/]packed[\\/]latest\.json$/ }, (args) => {
      const packed = JSON.parse(readFileSync(args.path, 'utf8'));
      const kept = packed.zones.filter((zone) => zones.has(zone.split('|')[0]));
      const keptNames = new Set(kept.map((zone) => zone.split('|')[0]));
      const links = packed.links.filter((link) => keptNames.has(link.split('|')[0]));
      return { contents: JSON.stringify({ ...packed, zones: kept, links, countries: [] }), loader: 'json' };
    });
  },
};

/** The zones date-holidays names for the countries. */
function zonesOfCountries(countries) {
  const text = readFileSync(join(ROOT, 'node_modules', 'date-holidays', 'data', 'holidays.json'), 'utf8');
  const { holidays } = JSON.parse(text);
  return new Set(countries.flatMap((code) => holidays[code]?.zones ?? []));
}

/** Every installed package (nested copies too) as [name, what it depends on]. */
function installedPackages(dir = join(ROOT, 'node_modules')) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? readdirSync(join(dir, name)).map((sub) => join(dir, name, sub)) : [join(dir, name)]))
    .flatMap((pkgDir) => {
      const file = join(pkgDir, 'package.json');
      if (!existsSync(file)) return [];
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
      return [[pkg.name, deps], ...installedPackages(join(pkgDir, 'node_modules'))];
    });
}

/** BUNDLED minus any that a package left outside the bundle depends on: it would load a second copy. */
function packagesToBundle() {
  const outside = installedPackages().filter(([name]) => !BUNDLED.includes(name));
  return BUNDLED.filter((candidate) => {
    const dependent = outside.find(([, deps]) => deps.includes(candidate));
    if (dependent) console.warn(`build-cli: not bundling ${candidate}: ${dependent[0]} depends on it`);
    return dependent === undefined;
  });
}

/** `{ "src/x.ts": [size, mtimeMs] }` for every source file, and the package.json of each bundled package (a reinstall rewrites it). */
function sourceStamps(inputs) {
  const files = new Set(inputs.map((input) => input.replace(/^(.*node_modules\/(@[^/]+\/)?[^/]+)\/.*$/, '$1/package.json')));
  const stamps = {};
  for (const file of files) {
    const { size, mtimeMs } = statSync(join(ROOT, file));
    stamps[file] = [size, mtimeMs];
  }
  return stamps;
}

/** Builds into a staging directory, then installs it. */
async function buildCli() {
  const bundled = packagesToBundle();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const external = Object.keys(pkg.dependencies).filter((name) => !bundled.includes(name)).flatMap((name) => [name, `${name}/*`]);
  const staging = `${OUT}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    // For CommonJS inside bundled packages: esbuild's ES module output has no `require` of its own.
    banner: { js: "import { createRequire as __tasaCreateRequire } from 'node:module'; const require = __tasaCreateRequire(import.meta.url);" },
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [sourceUrlPlugin, holidayDataPlugin],
  });
  writeFileSync(join(staging, SOURCES_FILE), JSON.stringify(sourceStamps(Object.keys(result.metafile.inputs))));
  install(staging);
  return { inputs: Object.keys(result.metafile.inputs).length, bundled };
}

/**
 * Moves the new build into OUT: while it happens there is no sources.json, so a `tasa` starting
 * meanwhile runs src/. Chunks are named by content hash, and those of earlier builds stay for
 * KEEP_OLD_CHUNKS_DAYS: a running `tasa up` imports its chunks lazily, maybe long after it started.
 */
function install(staging) {
  mkdirSync(OUT, { recursive: true });
  rmSync(join(OUT, SOURCES_FILE), { force: true });
  const files = readdirSync(staging);
  const last = [MAIN_FILE, SOURCES_FILE];
  for (const name of [...files.filter((f) => !last.includes(f)), ...last]) renameSync(join(staging, name), join(OUT, name));
  rmSync(staging, { recursive: true, force: true });
  const keepSince = Date.now() - KEEP_OLD_CHUNKS_DAYS * 86_400_000;
  for (const name of readdirSync(OUT)) {
    if (!files.includes(name) && statSync(join(OUT, name)).mtimeMs < keepSince) rmSync(join(OUT, name), { force: true });
  }
}

const started = performance.now();
const { inputs, bundled } = await buildCli();
console.log(`tasa CLI built in ${Math.round(performance.now() - started)} ms: ${inputs} files (bundled packages: ${bundled.join(', ') || 'none'}) -> ${relative(ROOT, OUT)}/`);
