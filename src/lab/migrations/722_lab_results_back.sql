-- Results back to the ordering facility (issue #20, item 4): MLLP endpoints per facility, the
-- outbox (one row per verified result and destination, with a control id that never changes so a
-- resend is the same message), every delivery attempt, and the report-card updates a positive asks for.
CREATE TABLE lab_endpoint (
  facility text PRIMARY KEY,                -- organisation code of the ordering facility
  host text NOT NULL,
  port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  receiving_application text NOT NULL DEFAULT '',
  receiving_facility text NOT NULL DEFAULT '',
  active boolean NOT NULL DEFAULT true,
  ack_timeout_ms integer NOT NULL,          -- how long to wait for the ACK of one message
  max_attempts integer NOT NULL,            -- attempts with no answer (or a broken connection) before parking
  max_ae_attempts integer NOT NULL,         -- attempts answered AE before parking (AR parks at once)
  backoff_ms integer NOT NULL,              -- first retry after this long, doubling, capped by max_backoff_ms
  max_backoff_ms integer NOT NULL,
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL
);

CREATE SEQUENCE lab_outbox_seq;
CREATE TABLE lab_outbox (
  id bigint PRIMARY KEY,
  control_id text NOT NULL UNIQUE,          -- MSH-10: the same on every attempt and every resend
  specimen_id text NOT NULL REFERENCES lab_specimen (id),
  facility text NOT NULL,                   -- the destination (lab_endpoint.facility)
  patient_id text,
  message text NOT NULL,                    -- the ORU^R01 as built once at verification (ER7, CR-separated)
  status text NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'parked')),
  attempts integer NOT NULL DEFAULT 0,      -- every attempt, over all rounds
  round_attempts integer NOT NULL DEFAULT 0,-- attempts since it was queued or last resent
  round_ae integer NOT NULL DEFAULT 0,      -- AE answers since it was queued or last resent
  next_attempt_at timestamptz,
  lease_until timestamptz,                  -- a 'sending' row whose lease ran out is taken again (a crash mid-send)
  last_error text,
  parked_reason text,
  ack_code text,
  ack_text text,
  created_at timestamptz NOT NULL,
  verified_at timestamptz NOT NULL,         -- when the result was verified (the latency figure starts here)
  delivered_at timestamptz,
  resent_count integer NOT NULL DEFAULT 0,
  resent_by text,
  UNIQUE (specimen_id, facility)
);
-- The delivery loop reads only rows still to send.
CREATE INDEX lab_outbox_due ON lab_outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX lab_outbox_status ON lab_outbox (status, created_at DESC, id DESC);

CREATE TABLE lab_delivery_attempt (
  id bigserial PRIMARY KEY,
  outbox_id bigint NOT NULL REFERENCES lab_outbox (id),
  attempt integer NOT NULL,
  control_id text NOT NULL,
  host text NOT NULL,
  port integer NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('AA', 'AE', 'AR', 'timeout', 'closed', 'error', 'mismatch')),
  detail text,
  ack text,
  UNIQUE (outbox_id, attempt)
);
-- A message is confirmed once, by one ACK.
CREATE UNIQUE INDEX lab_delivery_confirmed ON lab_delivery_attempt (outbox_id) WHERE outcome = 'AA';

CREATE TABLE lab_case_update (
  id bigserial PRIMARY KEY,
  specimen_id text NOT NULL REFERENCES lab_specimen (id) UNIQUE,
  patient_id text NOT NULL,
  test_code text NOT NULL,
  result_value text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'applied', 'no-card', 'waiting')),
  card_id text,
  detail text,
  verified_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  done_at timestamptz
);
CREATE INDEX lab_case_update_pending ON lab_case_update (id) WHERE status = 'pending';
