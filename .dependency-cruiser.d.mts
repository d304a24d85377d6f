// Types of .dependency-cruiser.mjs for the TypeScript code that reads it (test/architecture/layers.test.ts).
import type { IConfiguration } from 'dependency-cruiser';

export interface Layer {
  name: string;
  /** A regular expression over paths relative to the repository root. */
  path: string;
  imports: string[];
}
export declare const LAYERS: Layer[];
declare const config: IConfiguration & { forbidden: NonNullable<IConfiguration['forbidden']> };
export default config;
