/** Where 5-minute bars come from: the seeded model or stored history (replay). */
import type { Ohlc } from '../../domain/bar.ts';

export interface SlotPriceSource {
  /** The OHLC of the 5-minute slot opening at `slotOpen` (epoch ms on the 5-minute grid), or null: no trading. */
  slotOhlc(slotOpen: number): Ohlc | null;
  /** No slot before this instant has data; backward scans stop here. */
  readonly earliest: number;
  /** No slot at or after this instant has data (Infinity for the model). */
  readonly latest: number;
}
