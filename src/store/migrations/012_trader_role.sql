-- 012 trader role: API tokens may be issued for traders (place and cancel orders, start and stop
-- strategies) besides readers and admins (src/server/auth.ts ranks reader < trader < admin).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('reader', 'trader', 'admin'));
