-- 005 serving: API tokens and realtime subscriptions (issue 4).

-- Tokens for the REST/WS API. Only the sha256 of the token is stored; the token is shown once.
CREATE TABLE api_tokens (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  role         text NOT NULL CHECK (role IN ('reader', 'admin')),
  token_hash   text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

-- Subscriptions of programmatic clients; shared by every gateway process through the database.
CREATE TABLE realtime_subscriptions (
  id               text PRIMARY KEY,
  symbols          text[] NOT NULL,
  channels         text[] NOT NULL,
  update_frequency text NOT NULL,
  owner            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  deleted_at       timestamptz
);
