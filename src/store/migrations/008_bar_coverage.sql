-- 008 bar coverage: how much of its slot the live stream covered, and which stored bar a new one
-- may replace. float8, not real: the upsert compares the stored value with the incoming float8,
-- and 0.8::real is not 0.8, so a real column would make every rewrite look like a change.
ALTER TABLE bars ADD COLUMN IF NOT EXISTS coverage float8;
ALTER TABLE bars DROP CONSTRAINT IF EXISTS bars_coverage_fraction;
ALTER TABLE bars ADD CONSTRAINT bars_coverage_fraction CHECK (coverage >= 0 AND coverage <= 1);
ALTER TABLE bar_revisions ADD COLUMN IF NOT EXISTS coverage float8;

-- The one replacement rule of the `bars` upsert (store/bars-repo.ts), for a row whose values differ:
-- - a `partial` bar (the stream missed part of its slot) replaces only a bar built from no more
--   ticks: the same stream revising its own bar, or downgrading it (a stall detected after the
--   bar closed). Never a complete bar with more ticks (a standby that took over mid-slot), never
--   a backfilled or imported bar (no tick count);
-- - a stored `partial` bar is replaced by any other bar (a backfill repairs it);
-- - a `backfilled` bar (REST history) replaces nothing else: never a complete live or imported bar;
-- - anything else (a complete live bar, an import) replaces what is stored.
CREATE OR REPLACE FUNCTION tasa_bar_may_replace(stored_flags text[], stored_ticks int, new_flags text[], new_ticks int)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN 'partial' = ANY (new_flags) THEN coalesce(new_ticks >= stored_ticks, false)
    WHEN 'partial' = ANY (stored_flags) THEN true
    WHEN 'backfilled' = ANY (new_flags) THEN false
    ELSE true
  END
$$;
