-- Users, sessions and processor cursors: the platform's own tables (not FHIR resources).
CREATE TABLE app_user (
  username text PRIMARY KEY,
  display_name text NOT NULL,
  password_hash text NOT NULL,
  roles text[] NOT NULL,
  organization text,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_session (
  token_hash text PRIMARY KEY,
  username text NOT NULL REFERENCES app_user (username),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX app_session_expires ON app_session (expires_at);

-- Each change-log processor (identity linking, syndrome counts, ...) keeps its position here.
CREATE TABLE processor_cursor (
  processor text PRIMARY KEY,
  last_seq bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Raw inbound payloads (FHIR bulk files, HL7 messages, CSV feeds) kept with their outcome.
CREATE TABLE inbound_message (
  id bigserial PRIMARY KEY,
  channel text NOT NULL,
  source text,
  dedup_key text,
  received_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL,
  error text,
  payload bytea NOT NULL
);
CREATE UNIQUE INDEX inbound_message_dedup ON inbound_message (channel, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX inbound_message_status ON inbound_message (channel, status);
