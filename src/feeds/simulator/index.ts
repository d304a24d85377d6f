/** The TwelveData-compatible simulator: `startSimulator` and its types. */
export { startSimulator, type RunningSimulator, type SimulatorOptions, type SimulatorStats } from './simulator.ts';
export type { FaultControls, FaultCounts, FaultOptions, StreamFaultRates } from './faults.ts';
export type { CreditPlan, KeyCredits } from './credits.ts';
export { keyId } from './api-keys.ts';
export { CATALOG_SYMBOLS } from './instruments.ts';
export { ANCHOR_DATE } from './price-model.ts';
