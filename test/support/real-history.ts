/** The real 2020-2025 USD/COP history (../shared/data), for the tests that skip when it is absent. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Bar } from '../../src/domain/bar.ts';
import type { MarketCalendar } from '../../src/domain/calendar.ts';
import { parseRawBar, type ParsedRawBar } from '../../src/domain/raw-bar.ts';
import { standardizeBars } from '../../src/domain/standardize.ts';
import { openBarFile } from '../../src/feeds/files/bar-file.ts';

export const REAL_FILE = fileURLToPath(new URL('../../../shared/data/usdcop_m5_2020-01_2025-06.csv.gz', import.meta.url));

/** `describe`'s skip option: false when the file is there, else the reason. */
export const REAL_FILE_SKIP: false | string = existsSync(REAL_FILE) ? false : `${REAL_FILE} is absent`;

/** The file's standardized bars with open times in [fromMs, toMs) (default: all). */
export async function realBars(calendar: MarketCalendar, fromMs = -Infinity, toMs = Infinity): Promise<Bar[]> {
  const rows: ParsedRawBar[] = [];
  for await (const chunk of await openBarFile(REAL_FILE)) {
    for (const rec of chunk.records) {
      const parsed = parseRawBar(rec, 'USD/COP');
      if (parsed.ok && parsed.bar.time >= fromMs && parsed.bar.time < toMs) rows.push(parsed.bar);
    }
  }
  return standardizeBars(rows, 'USD/COP', calendar).bars;
}
