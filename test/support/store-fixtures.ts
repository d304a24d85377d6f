/** Small builders for store tests. */
import type { Bar } from '../../src/domain/bar.ts';
import { BAR_MS } from '../../src/domain/bar.ts';
import type { Db } from '../../src/store/db.ts';

/** 2024-01-02 13:00Z, 08:00 in Bogota: the first bar of a session. */
export const T0 = Date.UTC(2024, 0, 2, 13, 0);

export function bar(time: number, close: number, overrides: Partial<Bar> = {}): Bar {
  return {
    symbol: 'USD/COP',
    time,
    open: close,
    high: close + 2,
    low: close - 2,
    close,
    volume: 0,
    tickCount: null,
    source: 'import',
    revision: 1,
    flags: [],
    ...overrides,
  };
}

/** `count` consecutive 5-minute bars from `start`. */
export function barSeries(start: number, count: number, overrides: Partial<Bar> = {}): Bar[] {
  return Array.from({ length: count }, (_, i) => bar(start + i * BAR_MS, 4000 + i, overrides));
}

/** The same Db without the COPY fast path (also inside its transactions), to test the unnest path. */
export function withoutCopy(db: Db): Db {
  return {
    driver: db.driver,
    target: db.target,
    query: <T extends object>(text: string, params?: readonly unknown[]) => db.query<T>(text, params),
    exec: (text) => db.exec(text),
    transaction: (fn) => db.transaction((tx) => fn(withoutCopy(tx))),
    close: () => db.close(),
  };
}
