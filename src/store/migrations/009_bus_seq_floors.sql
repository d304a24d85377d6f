-- The bus's seq floor per symbol, outside Redis: a ceiling above every seq the bus may have
-- allocated (kept ahead by a block, see src/bus/redis/seq-floor.ts), so that seqs continue after a
-- Redis that restarted empty even when every process restarted too. Only ever raised.
CREATE TABLE IF NOT EXISTS bus_seq_floors (
  symbol text PRIMARY KEY,
  seq bigint NOT NULL CHECK (seq >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
