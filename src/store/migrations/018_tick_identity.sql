-- 018 tick identity: a tick is (symbol, exchange time, price, bid, ask), the quote the aggregator
-- already treats as one tick (src/domain/aggregator.ts). The key used to include received_at,
-- so the same vendor quote stored by two ingest processes during a lease handover (each with its
-- own receive time) was kept twice. The copies received later go; the first receipt stays.
-- The lock keeps writers of an older build from storing another copy before the key is rebuilt.
LOCK TABLE ticks IN SHARE ROW EXCLUSIVE MODE;

DELETE FROM ticks AS later
USING ticks AS first
WHERE later.symbol = first.symbol
  AND later.time = first.time
  AND later.price = first.price
  AND later.bid IS NOT DISTINCT FROM first.bid
  AND later.ask IS NOT DISTINCT FROM first.ask
  AND later.received_at > first.received_at;

ALTER TABLE ticks DROP CONSTRAINT ticks_dedup_key;
ALTER TABLE ticks ADD CONSTRAINT ticks_dedup_key UNIQUE NULLS NOT DISTINCT (symbol, time, price, bid, ask);
