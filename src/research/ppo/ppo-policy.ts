/**
 * A trained PPO policy behind the common Policy interface, and its serialized form (the `weights`
 * column of the model registry).
 *
 * Format (little-endian):
 *   "TPPO" | u32 header length | header JSON (utf-8) | zero padding to a multiple of 4 | float32 data
 * The header holds the format version, what the network observes (feature names, window), the
 * hidden sizes, the activation, the layer shapes in data order (actor then critic, each layer's
 * weights then bias), and optional metadata (e.g. the dataset's normalization). The actor runs in
 * plain JS (see actor-critic.ts): one decision costs tens of microseconds.
 */
import { TasaError } from '../../errors.ts';
import type { Decision, Observation, Policy, Position } from '../types.ts';
import { JsForward, mostLikelyAction, POSITION_INPUTS, checkModelShape, encodeInput, type DenseLayer, type PpoModel } from './actor-critic.ts';
import type { SeededRandom } from '../../domain/random.ts';

const MAGIC = 'TPPO';
const FORMAT_VERSION = 1;

interface Header {
  version: number;
  activation: 'tanh';
  observation: PpoModel['observation'];
  hidden: number[];
  actor: Array<[inputs: number, outputs: number]>;
  critic: Array<[inputs: number, outputs: number]>;
  metadata: Record<string, unknown>;
}

/** The model as bytes; `metadata` (JSON) travels with it, e.g. the normalization the features need. */
export function serializeModel(model: PpoModel, metadata: Record<string, unknown> = {}): Uint8Array {
  checkModelShape(model, 'serializeModel');
  const header: Header = {
    version: FORMAT_VERSION,
    activation: 'tanh',
    observation: model.observation,
    hidden: model.hidden,
    actor: model.actor.map((l) => [l.inputs, l.outputs]),
    critic: model.critic.map((l) => [l.inputs, l.outputs]),
    metadata,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = align4(8 + json.length);
  const arrays = [...model.actor, ...model.critic].flatMap((l) => [l.weights, l.bias]);
  const floats = arrays.reduce((n, a) => n + a.length, 0);
  const out = Buffer.alloc(dataStart + floats * 4);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(json.length, 4);
  json.copy(out, 8);
  let offset = dataStart;
  for (const array of arrays) {
    for (const x of array) offset = out.writeFloatLE(x, offset);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export interface DeserializedModel {
  model: PpoModel;
  metadata: Record<string, unknown>;
}

/** Reads `serializeModel` output; anything else is a bad_input error naming `source`. */
export function deserializeModel(bytes: Uint8Array, source = 'PPO weights'): DeserializedModel {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string) => new TasaError('bad_input', `${source} cannot be read as a Tasa PPO model: ${why}.`, { input: source });
  if (buf.length < 8 || buf.toString('latin1', 0, 4) !== MAGIC) throw bad('it does not start with the TPPO signature');
  const headerLength = buf.readUInt32LE(4);
  if (8 + headerLength > buf.length) throw bad('its header is truncated');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as Header;
  } catch {
    throw bad('its header is not JSON');
  }
  if (header.version !== FORMAT_VERSION) throw bad(`format version ${String(header.version)} is not ${FORMAT_VERSION}`);
  if (header.activation !== 'tanh') throw bad(`activation ${String(header.activation)} is not supported`);
  if (!isWellFormed(header)) throw bad('its header lacks the observation, hidden sizes or layer shapes');
  const reader = { offset: align4(8 + headerLength) };
  const readLayers = (shapes: Header['actor']): DenseLayer[] =>
    shapes.map(([inputs, outputs]) => ({ inputs, outputs, weights: readFloats(buf, reader, inputs * outputs, bad), bias: readFloats(buf, reader, outputs, bad) }));
  const model: PpoModel = { observation: header.observation, hidden: header.hidden, actor: readLayers(header.actor), critic: readLayers(header.critic) };
  if (reader.offset !== buf.length) throw bad(`${buf.length - reader.offset} bytes follow the weights`);
  checkModelShape(model, source);
  return { model, metadata: header.metadata ?? {} };
}

function isWellFormed(h: Header): boolean {
  const shapes = (x: unknown) => Array.isArray(x) && x.every((s) => Array.isArray(s) && s.length === 2 && s.every((n) => Number.isInteger(n) && (n as number) > 0));
  return (
    typeof h.observation === 'object' && h.observation !== null && Array.isArray(h.observation.featureNames) && Number.isInteger(h.observation.window) &&
    Array.isArray(h.hidden) && shapes(h.actor) && shapes(h.critic)
  );
}

function readFloats(buf: Buffer, reader: { offset: number }, count: number, bad: (why: string) => TasaError): Float32Array {
  if (reader.offset + count * 4 > buf.length) throw bad('its weights are truncated');
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(reader.offset + i * 4);
  reader.offset += count * 4;
  return out;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

export interface PpoPolicyOptions {
  /**
   * Sample the position from the probabilities with this generator instead of taking the most
   * likely one (the default, for serving and backtests).
   */
  sample?: SeededRandom;
  metadata?: Record<string, unknown>;
}

export class PpoPolicy implements Policy {
  readonly kind = 'ppo' as const;
  readonly metadata: Record<string, unknown>;
  private readonly forward: JsForward;
  private readonly input: Float32Array;
  private readonly featureLength: number;

  constructor(
    readonly id: string,
    readonly model: PpoModel,
    private readonly options: PpoPolicyOptions = {},
  ) {
    checkModelShape(model, `model ${id}`);
    this.forward = new JsForward(model);
    this.featureLength = model.observation.window * model.observation.featureNames.length;
    this.input = new Float32Array(this.featureLength + POSITION_INPUTS);
    this.metadata = options.metadata ?? {};
  }

  decide(obs: Observation): Decision {
    return this.decideFeatures(obs.features, obs.position);
  }

  /** The same decision from the feature window alone (the rest of an Observation is not used). */
  decideFeatures(features: Float32Array, position: Position): Decision {
    this.checkFeatures(features);
    const probabilities: [number, number, number] = [0, 0, 0];
    this.forward.probabilities(encodeInput(features, position, this.input), probabilities);
    const action = this.options.sample ? this.options.sample.categorical(probabilities) : mostLikelyAction(probabilities);
    return { position: (action - 1) as Position, probabilities };
  }

  /** The model in its stored form (its metadata included). */
  serialize(): Uint8Array {
    return serializeModel(this.model, this.metadata);
  }

  private checkFeatures(features: Float32Array): void {
    if (features.length !== this.featureLength) {
      const { window, featureNames } = this.model.observation;
      throw new TasaError('bad_argument', `Policy ${this.id} expects ${window} x ${featureNames.length} features, got ${features.length} values.`, { input: this.id });
    }
    for (let i = 0; i < features.length; i++) {
      if (!Number.isFinite(features[i])) throw new TasaError('bad_input', `Policy ${this.id} was given a missing (non-finite) feature value at position ${i}.`, { input: this.id });
    }
  }
}

/** A policy from registry bytes (`serializeModel` output). */
export function loadPpoPolicy(id: string, bytes: Uint8Array, options: Omit<PpoPolicyOptions, 'metadata'> = {}): PpoPolicy {
  const { model, metadata } = deserializeModel(bytes, `the weights of model ${id}`);
  return new PpoPolicy(id, model, { ...options, metadata });
}
