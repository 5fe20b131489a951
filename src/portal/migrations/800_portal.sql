-- The resident portal (issue #22 items 1–3): sign-in codes and their lockout, accounts and
-- guardians, the message outbox, weekly reminders, preferences and online contract requests.

-- One row per code sent (or pretended: an unknown person gets a row too, so both answer alike).
CREATE TABLE portal_login_code (
  id bigserial PRIMARY KEY,
  -- sha256 of the normalised ID number and phone: the pair the code was asked for.
  pair_hash text NOT NULL,
  salt text NOT NULL,
  code_hash text NOT NULL,
  -- The Patients the pair matched; empty when nobody did.
  patient_ids text[] NOT NULL DEFAULT '{}',
  display_name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX portal_login_code_pair ON portal_login_code (pair_hash, created_at DESC);

-- Wrong codes per ID number (sha256): past the cap the number is locked until locked_until.
CREATE TABLE portal_login_lock (
  id_hash text PRIMARY KEY,
  failures integer NOT NULL DEFAULT 0,
  locked_until timestamptz
);

-- Code requests per source address in a window: one address cannot text many phones.
CREATE TABLE portal_address_throttle (
  address text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  requests integer NOT NULL
);

-- A resident who signed in once: the app_user behind their sessions and the Patients found.
CREATE TABLE portal_account (
  username text PRIMARY KEY,
  id_hash text NOT NULL UNIQUE,
  phone_hash text NOT NULL,
  phone text NOT NULL,
  patient_ids text[] NOT NULL,
  display_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);

-- A guardian (an account) and a child under 18 (a Patient).
CREATE TABLE portal_guardian (
  username text NOT NULL REFERENCES portal_account (username),
  ward_patient_id text NOT NULL,
  relationship text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (username, ward_patient_id)
);

CREATE TABLE portal_preference (
  username text PRIMARY KEY REFERENCES portal_account (username),
  sms_reminders boolean NOT NULL DEFAULT true,
  notice_reminders boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Messages waiting for, or past, their transport. channel: sms | notice (shown in the portal).
CREATE TABLE portal_outbox (
  id bigserial PRIMARY KEY,
  channel text NOT NULL CHECK (channel IN ('sms', 'notice')),
  kind text NOT NULL CHECK (kind IN ('login-code', 'reminder')),
  username text,
  phone text,
  body text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'discarded')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  provider_ref text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  read_at timestamptz,
  reminder_id bigint
);
CREATE INDEX portal_outbox_due ON portal_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX portal_outbox_user ON portal_outbox (username, created_at DESC);

-- At most one reminder per resident per ISO week (China time): the unique key is the rule.
CREATE TABLE portal_reminder (
  id bigserial PRIMARY KEY,
  username text NOT NULL REFERENCES portal_account (username),
  week text NOT NULL,
  items jsonb NOT NULL,
  done_keys text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (username, week)
);

-- A resident's signing, renewal or transfer, waiting for the team (FHIR Contract alongside).
CREATE TABLE portal_contract_request (
  id text PRIMARY KEY,
  username text NOT NULL REFERENCES portal_account (username),
  patient_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('sign', 'renew', 'transfer')),
  team_id text NOT NULL,
  organization_id text,
  package text NOT NULL,
  contract_id text NOT NULL,
  signed_at timestamptz NOT NULL,
  signature_method text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined')),
  decided_by text,
  decided_at timestamptz,
  reason text,
  episode_id text,
  task_ids text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX portal_contract_request_open ON portal_contract_request (status, team_id);
CREATE INDEX portal_contract_request_user ON portal_contract_request (username);
