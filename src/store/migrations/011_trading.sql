-- 011 trading: paper orders, their transitions and fills, positions, the account, the trading
-- (risk) state, each day's opening equity, and strategies. Money is exact integer minor units in
-- int8 (src/trading/money.ts): quantities in USD cents, prices in 1e-4 COP, cash/fees/P&L in COP
-- centavos. Read them as text (the drivers return int8 as a JS number).

CREATE TABLE trading_orders (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- a resubmission with the same client order id is the same order
  client_order_id text NOT NULL UNIQUE,
  symbol          text NOT NULL,
  side            text NOT NULL CHECK (side IN ('buy', 'sell')),
  type            text NOT NULL CHECK (type IN ('market', 'limit', 'stop')),
  quantity        int8 NOT NULL CHECK (quantity > 0),
  time_in_force   text NOT NULL CHECK (time_in_force IN ('DAY', 'GTC')),
  limit_price     int8 CHECK (limit_price > 0),
  stop_price      int8 CHECK (stop_price > 0),
  status          text NOT NULL CHECK (status IN ('new', 'accepted', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired', 'denied')),
  filled_quantity int8 NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0 AND filled_quantity <= quantity),
  fill_count      int NOT NULL DEFAULT 0 CHECK (fill_count >= 0),
  -- DAY orders: the Bogota session whose close expires them
  session_date    date,
  actor           text NOT NULL,
  strategy_id     text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  CONSTRAINT trading_orders_day_session CHECK (time_in_force = 'GTC' OR status IN ('new', 'denied', 'rejected') OR session_date IS NOT NULL)
);
CREATE INDEX trading_orders_open_idx ON trading_orders (id) WHERE status IN ('new', 'accepted', 'partially_filled');
CREATE INDEX trading_orders_created_idx ON trading_orders (created_at);

-- Every status change of an order; step 0 is `new`. Append-only.
CREATE TABLE trading_order_transitions (
  order_id bigint NOT NULL REFERENCES trading_orders (id),
  step     int NOT NULL CHECK (step >= 0),
  status   text NOT NULL,
  at       timestamptz NOT NULL,
  reason   text,
  PRIMARY KEY (order_id, step)
);
CREATE TRIGGER trading_order_transitions_append_only BEFORE UPDATE OR DELETE ON trading_order_transitions
  FOR EACH ROW EXECUTE FUNCTION tasa_reject_change();

-- One row per fill; (order_id, seq) makes a fill written twice a no-op. `time` is the exchange
-- time of the tick it filled on. Append-only.
CREATE TABLE trading_fills (
  order_id    bigint NOT NULL REFERENCES trading_orders (id),
  seq         int NOT NULL CHECK (seq >= 1),
  symbol      text NOT NULL,
  side        text NOT NULL CHECK (side IN ('buy', 'sell')),
  time        timestamptz NOT NULL,
  quantity    int8 NOT NULL CHECK (quantity > 0),
  price       int8 NOT NULL CHECK (price > 0),
  notional    int8 NOT NULL CHECK (notional >= 0),
  fee         int8 NOT NULL CHECK (fee >= 0),
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (order_id, seq)
);
CREATE INDEX trading_fills_time_idx ON trading_fills (time);
CREATE TRIGGER trading_fills_append_only BEFORE UPDATE OR DELETE ON trading_fills
  FOR EACH ROW EXECUTE FUNCTION tasa_reject_change();

CREATE TABLE trading_positions (
  symbol       text PRIMARY KEY,
  quantity     int8 NOT NULL,
  cost_basis   int8 NOT NULL,
  realized_pnl int8 NOT NULL,
  updated_at   timestamptz NOT NULL
);

-- The one paper account.
CREATE TABLE trading_account (
  id           int PRIMARY KEY CHECK (id = 1),
  initial_cash int8 NOT NULL CHECK (initial_cash >= 0),
  cash         int8 NOT NULL,
  fees         int8 NOT NULL CHECK (fees >= 0),
  realized_pnl int8 NOT NULL,
  updated_at   timestamptz NOT NULL
);

-- The trading state (src/trading/risk.ts); its history is in the audit log.
CREATE TABLE trading_state (
  id     int PRIMARY KEY CHECK (id = 1),
  mode   text NOT NULL CHECK (mode IN ('ACTIVE', 'REDUCING', 'HALTED')),
  since  timestamptz NOT NULL,
  reason text,
  actor  text NOT NULL
);

-- The account's equity when a trading day's first mark was taken: the base of the day's P&L.
CREATE TABLE trading_days (
  date           date PRIMARY KEY,
  opening_equity int8 NOT NULL,
  recorded_at    timestamptz NOT NULL
);

CREATE TABLE trading_strategies (
  id              text PRIMARY KEY,
  symbol          text NOT NULL,
  policy_id       text NOT NULL,
  target_notional int8 NOT NULL CHECK (target_notional > 0),
  enabled         boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);
