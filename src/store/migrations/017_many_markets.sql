-- 017 many markets: the holidays table holds every configured market's holidays, keyed by the
-- market's country code (CO, US, BR, MX, CL) or FX for a closure of the global 24-hour week.
ALTER TABLE holidays DROP CONSTRAINT IF EXISTS holidays_market_check;
ALTER TABLE holidays ADD CONSTRAINT holidays_market_code CHECK (market ~ '^[A-Z]{2}$');
