/**
 * The research config: costs, splits, purge, gates and trials of the pipeline, `tasa train` and
 * `tasa backtest`, in one validated file (`research.config.json` at the repo root, or the path in
 * TASA_RESEARCH_CONFIG), every field with a default, overridden by command-line flags.
 *
 * - `costs.spreadBps` is the half-spread paid per unit of position change: a number, or
 *   "from-ticks" to estimate it from the stored bid/ask quotes (spread-estimate.ts), falling back
 *   to `costs.fallbackSpreadBps` when fewer than `costs.minSpreadTicks` quotes exist.
 * - `hash` is the sha256 of the resolved content (the config as used, not the file's bytes), so
 *   two files that resolve the same (defaults spelled out or not) are one research setup.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { TasaError } from '../errors.ts';
import { DEFAULT_GATE_THRESHOLDS } from './gates.ts';
import { DEFAULT_RL_DATASET_CONFIG } from './rl-dataset.ts';

const d = DEFAULT_RL_DATASET_CONFIG;
const g = DEFAULT_GATE_THRESHOLDS;

const bps = (def: number, what: string) => Type.Number({ minimum: 0, maximum: 10_000, default: def, description: `${what}: a number of basis points from 0 to 10000` });
const fraction = (def: number) => Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: def, description: 'a fraction of the sessions, > 0 and < 1' });
const number = (def: number, rule: string, bounds: { minimum?: number; exclusiveMaximum?: number } = {}) => Type.Number({ ...bounds, default: def, description: rule });

const CostsSchema = Type.Object(
  {
    spreadBps: Type.Union([Type.Number({ minimum: 0, maximum: 10_000 }), Type.Literal('from-ticks')], {
      default: d.costs.spreadBps,
      description: 'the half-spread: a number of basis points from 0 to 10000, or "from-ticks"',
    }),
    fallbackSpreadBps: bps(d.costs.spreadBps, 'the half-spread used when "from-ticks" finds too few quotes'),
    minSpreadTicks: Type.Integer({ minimum: 1, default: 100, description: 'the quotes (ticks with bid and ask) "from-ticks" needs: a whole number >= 1' }),
    feeBps: bps(d.costs.feeBps, 'the fee'),
    slippageBps: bps(d.costs.slippageBps ?? 0, 'the slippage'),
  },
  { default: {}, additionalProperties: false },
);

export const ResearchConfigSchema = Type.Object(
  {
    costs: CostsSchema,
    split: Type.Object(
      { train: fraction(d.trainFraction), validation: fraction(d.validationFraction), test: fraction(d.testFraction) },
      { default: {}, additionalProperties: false },
    ),
    purgeSessions: Type.Integer({ minimum: 0, default: d.purgeSessions, description: 'a whole number of sessions >= 0' }),
    gates: Type.Object(
      {
        minSortino: number(g.minSortino, 'a number'),
        maxDrawdown: number(g.maxDrawdown, 'a fraction >= 0', { minimum: 0 }),
        costStressFactor: number(g.costStressFactor, 'a number >= 1 (a stress raises costs)', { minimum: 1 }),
        minStressedReturn: number(g.minStressedReturn, 'a number'),
        minTrades: number(g.minTrades, 'a number >= 0', { minimum: 0 }),
        minSharpeOverFlat: number(g.minSharpeOverFlat, 'a number'),
        minExcessReturn: number(g.minExcessReturn, 'a number'),
        confidence: number(g.confidence, 'a probability >= 0 and < 1', { minimum: 0, exclusiveMaximum: 1 }),
      },
      { default: {}, additionalProperties: false },
    ),
    trials: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      default: null,
      description: 'the configurations tried, for the deflated Sharpe ratio: a whole number >= 1, or null for the policies evaluated',
    }),
  },
  { additionalProperties: false },
);

export type ResearchConfig = Static<typeof ResearchConfigSchema>;
export type ResearchCosts = ResearchConfig['costs'];

/** Partial fields of the config: what a file or the command line may set. */
export interface ResearchConfigOverrides {
  costs?: Partial<ResearchCosts>;
  split?: Partial<ResearchConfig['split']>;
  purgeSessions?: number;
  gates?: Partial<ResearchConfig['gates']>;
  trials?: number | null;
}

export interface ResolvedResearchConfig {
  config: ResearchConfig;
  /** sha256 of the resolved config (canonical JSON). */
  hash: string;
  /** Where it came from: the file, or "defaults". */
  source: string;
}

export const RESEARCH_CONFIG_FILE = 'research.config.json';

/**
 * The config of `file` (its JSON) with `overrides` on top, defaults for the rest, validated: a
 * bad value is one error naming the field, its rule and where it came from.
 */
export function resolveResearchConfig(file: unknown, overrides: ResearchConfigOverrides = {}, source = 'defaults'): ResolvedResearchConfig {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw badConfig(source, '', 'a JSON object', file);
  const merged = mergeDeep(file as Record<string, unknown>, overrides as Record<string, unknown>);
  const candidate = Value.Default(ResearchConfigSchema, Value.Clone(merged));
  assertValid(candidate, source);
  const config = candidate as ResearchConfig;
  const sum = config.split.train + config.split.validation + config.split.test;
  if (Math.abs(sum - 1) > 1e-9) throw badConfig(source, 'split', 'fractions train + validation + test summing to 1', sum);
  return { config, hash: sha256(canonicalJson(config)), source };
}

/**
 * Reads the research config: `path`, else TASA_RESEARCH_CONFIG, else `research.config.json` in
 * `root` when it exists (defaults when it does not). An explicitly named file must exist.
 */
export async function loadResearchConfig(root: string, overrides: ResearchConfigOverrides = {}, env: Record<string, string | undefined> = process.env): Promise<ResolvedResearchConfig> {
  const named = env['TASA_RESEARCH_CONFIG'];
  const explicit = named !== undefined && named !== '';
  const path = explicit ? named : `${root.replace(/\/$/, '')}/${RESEARCH_CONFIG_FILE}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing && !explicit) return resolveResearchConfig({}, overrides, 'defaults');
    throw new TasaError('bad_argument', `The research config ${path} cannot be read: ${(err as Error).message}.`, { input: path });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TasaError('bad_argument', `The research config ${path} is not JSON: ${(err as Error).message}.`, { input: path });
  }
  return resolveResearchConfig(parsed, overrides, path);
}

function assertValid(candidate: unknown, source: string): void {
  const first = [...Value.Errors(ResearchConfigSchema, candidate)][0];
  if (first === undefined) return;
  if (first.keyword === 'boolean' || first.keyword === 'additionalProperties') {
    const field = fieldName(first.instancePath);
    throw new TasaError('bad_argument', `The research config (${source}) has an unknown field ${field}; the fields are costs, split, purgeSessions, gates and trials.`, { input: field });
  }
  const field = fieldName(first.instancePath);
  const schema = schemaAt(first.instancePath);
  const description = schema?.description;
  const rule = typeof description === 'string' ? description : first.message;
  throw badConfig(source, field, rule, valueAt(candidate, first.instancePath));
}

function badConfig(source: string, field: string, rule: string, value: unknown): TasaError {
  const what = field === '' ? 'The research config' : `Research config field ${field}`;
  return new TasaError('bad_argument', `${what} (${source}) must be ${rule}, got ${JSON.stringify(value) ?? String(value)}.`, { input: field || source });
}

function fieldName(pointer: string): string {
  return pointer.replace(/^\//, '').replaceAll('/', '.');
}

function pathOf(pointer: string): string[] {
  return pointer.split('/').slice(1);
}

function valueAt(root: unknown, pointer: string): unknown {
  let value = root;
  for (const key of pathOf(pointer)) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** What `schemaAt` reads of a JSON schema node. */
interface SchemaNode {
  description?: unknown;
  properties?: Record<string, SchemaNode>;
}

function schemaAt(pointer: string): SchemaNode | undefined {
  let schema: SchemaNode | undefined = ResearchConfigSchema as unknown as SchemaNode;
  for (const key of pathOf(pointer)) schema = schema?.properties?.[key];
  return schema;
}

/** `over` on top of `base`, objects merged key by key; an undefined in `over` leaves `base`. */
function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const below = out[key];
    const bothObjects = isPlainObject(value) && isPlainObject(below);
    out[key] = bothObjects ? mergeDeep(below, value) : value;
  }
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** JSON with object keys sorted at every level: the same content, the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
