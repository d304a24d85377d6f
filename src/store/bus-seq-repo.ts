/**
 * The bus's seq floors in the database (table `bus_seq_floors`): the SeqFloorStore of the Redis
 * bus (src/bus/redis/seq-floor.ts explains the ceiling it keeps). A save only ever raises a floor,
 * so concurrent savers (several processes) cannot lower one another's reservation.
 */
import type { Clock } from '../clock.ts';
import type { Db } from './db.ts';

/** The shape of the bus's SeqFloorStore, spelled out here because store/ does not import bus/. */
export interface BusSeqFloors {
  load(symbol: string): Promise<number>;
  save(symbol: string, seq: number): Promise<void>;
}

export function busSeqFloors(db: Db, clock: Clock): BusSeqFloors {
  return {
    load: async (symbol) => {
      const rows = await db.query<{ seq: number }>('SELECT seq FROM bus_seq_floors WHERE symbol = $1', [symbol]);
      return rows[0]?.seq ?? 0;
    },
    save: async (symbol, seq) => {
      await db.query(
        `INSERT INTO bus_seq_floors (symbol, seq, updated_at) VALUES ($1, $2, $3::timestamptz)
         ON CONFLICT (symbol) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
         WHERE bus_seq_floors.seq < excluded.seq`,
        [symbol, seq, new Date(clock.now()).toISOString()],
      );
    },
  };
}
