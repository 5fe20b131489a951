-- Accounts (issue #15): what an administrator manages on a user, the second factor, sessions
-- that end after 30 minutes without use, and counters of failed sign-ins.
ALTER TABLE app_user ADD COLUMN IF NOT EXISTS areas text[] NOT NULL DEFAULT '{}';
-- Set by an administrator's reset (a one-time password): the user must choose a new one first.
ALTER TABLE app_user ADD COLUMN IF NOT EXISTS must_change_password boolean NOT NULL DEFAULT false;
ALTER TABLE app_user ADD COLUMN IF NOT EXISTS password_changed_at timestamptz;
ALTER TABLE app_user ADD COLUMN IF NOT EXISTS last_login_at timestamptz;
-- TOTP (RFC 6238): the confirmed secret (base32), one being enrolled, and the last time step
-- used (a code is accepted once).
ALTER TABLE app_user ADD COLUMN IF NOT EXISTS totp_secret text;
ALTER TABLE app_user ADD COLUMN IF NOT EXISTS totp_pending_secret text;
ALTER TABLE app_user ADD COLUMN IF NOT EXISTS totp_last_step bigint NOT NULL DEFAULT 0;

ALTER TABLE app_session ADD COLUMN IF NOT EXISTS last_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE app_session ADD COLUMN IF NOT EXISTS source_address text;
CREATE INDEX IF NOT EXISTS app_session_username ON app_session (username);
CREATE INDEX IF NOT EXISTS app_session_last_seen ON app_session (last_seen_at);

-- Sign-in attempts per account ('u:<username>') and per source address ('a:<ip>') in a fixed
-- window from the first failure: an attempt is counted before the password is checked (so
-- parallel guesses cannot overshoot the cap) and taken back when it succeeds.
CREATE TABLE IF NOT EXISTS app_login_throttle (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS app_login_throttle_window ON app_login_throttle (window_start);
