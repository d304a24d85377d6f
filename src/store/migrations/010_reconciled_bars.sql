-- 010 reconciled bars: once a session has closed, the failsafe compares each stored bar of it with
-- the vendor's and writes the vendor's values, flagged `reconciled`, where they differ
-- (jobs/reconcile.ts). This redefines the one replacement rule of the `bars` upsert
-- (store/bars-repo.ts; first defined in 008), for a row whose values differ:
-- - a `partial` bar (the stream missed part of its slot) replaces only a bar built from no more
--   ticks: the same stream revising its own bar, or downgrading it (a stall detected after the
--   bar closed). Never a complete bar with more ticks (a standby that took over mid-slot), never
--   a backfilled, reconciled or imported bar (no tick count);
-- - a `reconciled` bar (the vendor's bar after the close) replaces anything: it is final;
-- - a stored `partial` bar is replaced by any other bar (a backfill repairs it);
-- - a `backfilled` bar (REST history) replaces nothing else: never a complete live or imported bar;
-- - a stored `reconciled` bar is replaced only by an import (no tick count), never by a live
--   revision (a late tick within the revision horizon) or a backfill;
-- - anything else (a complete live bar, an import) replaces what is stored.
CREATE OR REPLACE FUNCTION tasa_bar_may_replace(stored_flags text[], stored_ticks int, new_flags text[], new_ticks int)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN 'partial' = ANY (new_flags) THEN coalesce(new_ticks >= stored_ticks, false)
    WHEN 'reconciled' = ANY (new_flags) THEN true
    WHEN 'partial' = ANY (stored_flags) THEN true
    WHEN 'backfilled' = ANY (new_flags) THEN false
    WHEN 'reconciled' = ANY (stored_flags) THEN new_ticks IS NULL
    ELSE true
  END
$$;
