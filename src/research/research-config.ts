/**
 * The research config: costs, splits, purge, gates, trials and walk-forward folds of the pipeline, `tasa train` and
 * `tasa backtest`, in one validated file (`research.config.json` at the repo root, or the path in
 * TASA_RESEARCH_CONFIG), every field with a default, overridden by command-line flags.
 *
 * - `training` sets the PPO's honest selection (ppo-trainer.ts): seeds, validation scoring
 *   interval and early-stopping patience; `tasa train --steps/--seed` set the rest.
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
import { DEFAULT_SELECTION } from './ppo/model-selection.ts';
import { DEFAULT_RL_DATASET_CONFIG } from './rl-dataset.ts';
import { DEFAULT_WALK_FORWARD_CONFIG } from './walk-forward.ts';
import type { InstrumentCosts } from '../domain/symbol.ts';

const d = DEFAULT_RL_DATASET_CONFIG;
const g = DEFAULT_GATE_THRESHOLDS;
const w = DEFAULT_WALK_FORWARD_CONFIG;

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
    training: Type.Object(
      {
        seeds: Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_SELECTION.seeds, description: 'the PPO seeds trained (the best on validation is kept): a whole number from 1 to 100' }),
        evalEvery: Type.Integer({ minimum: 1, default: DEFAULT_SELECTION.evalEvery, description: 'PPO iterations between two validation scores: a whole number >= 1' }),
        patience: Type.Integer({ minimum: 1, default: DEFAULT_SELECTION.patience, description: 'validation scores without improvement before a seed stops: a whole number >= 1' }),
      },
      { default: {}, additionalProperties: false },
    ),
    trials: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      default: null,
      description: 'the configurations tried, for the deflated Sharpe ratio: a whole number >= 1, or null for the policies evaluated',
    }),
    walkForward: Type.Object(
      {
        enabled: Type.Boolean({ default: w.enabled, description: 'true or false: whether `tasa pipeline run` (with L6) evaluates walk-forward folds' }),
        mode: Type.Union([Type.Literal('expanding'), Type.Literal('rolling')], { default: w.mode, description: '"expanding" (train from the first session) or "rolling" (train windows of trainSessions)' }),
        folds: Type.Integer({ minimum: 1, maximum: 200, default: w.folds, description: 'a whole number of folds from 1 to 200' }),
        trainSessions: Type.Integer({ minimum: 1, default: w.trainSessions, description: 'a whole number of sessions >= 1 (the first train window, or every one when rolling)' }),
        validationSessions: Type.Integer({ minimum: 1, default: w.validationSessions, description: 'a whole number of sessions >= 1' }),
        testSessions: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
          default: w.testSessions,
          description: 'a whole number of sessions >= 1, or null to share the sessions after the first train and validation windows evenly',
        }),
        purgeSessions: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
          default: w.purgeSessions,
          description: "a whole number of sessions >= 0 between train and validation and between validation and test, or null for the config's purgeSessions",
        }),
      },
      { default: {}, additionalProperties: false },
    ),
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
  training?: Partial<ResearchConfig['training']>;
  walkForward?: Partial<ResearchConfig['walkForward']>;
}

export interface ResolvedResearchConfig {
  config: ResearchConfig;
  /** sha256 of the resolved config (canonical JSON). */
  hash: string;
  /** Where it came from: the file, or "defaults". */
  source: string;
  /** The cost fields the file and the command line set; the others are defaults an instrument may replace (`researchConfigFor`). */
  givenCosts: Partial<ResearchCosts>;
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
  const given = (merged['costs'] ?? {}) as Record<string, unknown>;
  const givenCosts = Object.fromEntries(Object.keys(given).map((k) => [k, config.costs[k as keyof ResearchCosts]])) as Partial<ResearchCosts>;
  return { config, hash: sha256(canonicalJson(config)), source, givenCosts };
}

/**
 * The config as it applies to one instrument: the instrument's own costs (the instruments file:
 * half-spread, fee, slippage; the half-spread also the "from-ticks" fallback) wherever the
 * research config and the command line set none. The hash is of the result, so two instruments
 * with different costs never share a research setup.
 */
export function researchConfigFor(research: ResolvedResearchConfig, instrumentCosts: InstrumentCosts): ResolvedResearchConfig {
  const { spreadBps, feeBps, slippageBps } = instrumentCosts;
  const costs: ResearchCosts = { ...research.config.costs, spreadBps, fallbackSpreadBps: spreadBps, feeBps, slippageBps, ...research.givenCosts };
  const config = { ...research.config, costs };
  return { ...research, config, hash: sha256(canonicalJson(config)) };
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
    throw new TasaError('bad_argument', `The research config (${source}) has an unknown field ${field}; the fields are costs, split, purgeSessions, gates, training, trials and walkForward.`, { input: field });
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
