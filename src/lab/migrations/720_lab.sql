-- The lab loop (采送检报, issue #20): orders, shipments, specimens with their state and live
-- clock, the append-only chain of custody events, breaches of the clocks and custody flags.
-- FHIR keeps ServiceRequest, Specimen, Task, Observation and DiagnosticReport; these tables keep
-- the state machine and what the clocks and the dashboard read.
CREATE TABLE lab_order (
  id text PRIMARY KEY,                      -- the ServiceRequest id
  test_code text NOT NULL,
  test_system text,
  test_name text,
  mode text NOT NULL CHECK (mode IN ('routine', 'emergency')),
  patient_id text,
  ordering_unit text NOT NULL,              -- organisation code of the orderer
  investigation_id text,                    -- an investigation, as plain text
  source text NOT NULL,                     -- api | fhir (an existing ServiceRequest adopted)
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
CREATE INDEX lab_order_investigation ON lab_order (investigation_id) WHERE investigation_id IS NOT NULL;

CREATE TABLE lab_shipment (
  id bigserial PRIMARY KEY,
  from_unit text NOT NULL,
  to_lab text NOT NULL,
  courier text NOT NULL,
  seal_number text NOT NULL,
  temp_min double precision NOT NULL,
  temp_max double precision NOT NULL,
  readings jsonb NOT NULL DEFAULT '[]',     -- [{at, celsius, outOfRange}]
  out_of_range integer NOT NULL DEFAULT 0,
  departed_at timestamptz,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);

CREATE TABLE lab_specimen (
  id text PRIMARY KEY,                      -- the Specimen id: one identity across referrals
  barcode text NOT NULL UNIQUE,
  order_id text NOT NULL REFERENCES lab_order (id),
  task_id text NOT NULL,
  test_code text NOT NULL,
  mode text NOT NULL,
  patient_id text,
  state text NOT NULL,
  hop integer NOT NULL DEFAULT 0,           -- 0 at the first lab, +1 per referral
  collecting_unit text NOT NULL,
  holder text NOT NULL,                     -- unit code, or 'shipment:<id>' in transit
  lab text,                                 -- the lab it was last received at
  shipment_id bigint REFERENCES lab_shipment (id),
  specimen_type text,
  container text,
  collector text,
  collected_at timestamptz NOT NULL,
  first_received_at timestamptz,
  received_at timestamptz,
  result_at timestamptz,
  verified_at timestamptz,
  reported_at timestamptz,
  condition text,
  rejected_reason text,
  result_value text,
  result_interpretation text,
  observation_id text,
  report_id text,
  leg text,                                 -- the clocked leg it is on (NULL: none, the loop is over)
  leg_unit text,                            -- the unit answering for that leg
  leg_started_at timestamptz,
  leg_deadline timestamptz,
  -- leg_deadline while the leg runs and is not yet breached: the breach scan reads only these
  next_deadline timestamptz,
  last_at timestamptz NOT NULL,             -- time of the last step
  chain_seq integer NOT NULL DEFAULT 0,     -- head of the custody chain
  chain_hash text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL
);
-- The breach scan: specimens in flight whose next deadline has not yet been passed and recorded.
CREATE INDEX lab_specimen_due ON lab_specimen (next_deadline) WHERE next_deadline IS NOT NULL;
CREATE INDEX lab_specimen_in_flight ON lab_specimen (leg, leg_unit) WHERE leg IS NOT NULL;
CREATE INDEX lab_specimen_order ON lab_specimen (order_id);
CREATE INDEX lab_specimen_collected ON lab_specimen (collected_at);
CREATE INDEX lab_specimen_state ON lab_specimen (state, updated_at DESC);

CREATE TABLE lab_event (
  id bigserial PRIMARY KEY,
  specimen_id text NOT NULL REFERENCES lab_specimen (id),
  seq integer NOT NULL,
  step text NOT NULL,
  from_state text,
  to_state text NOT NULL,
  at timestamptz NOT NULL,                  -- when it happened, as scanned
  recorded_at timestamptz NOT NULL,
  by_user text NOT NULL,                    -- who scanned
  performer text,                           -- who did it, when someone else (the collector, the courier)
  unit text NOT NULL,                       -- where
  location text,
  shipment_id bigint,
  detail jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL,                  -- SHA-256 of the previous event of this specimen ('' first)
  hash text NOT NULL,
  UNIQUE (specimen_id, seq)
);

-- Custody events are append-only.
CREATE FUNCTION lab_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'lab_event is append-only: custody events are never changed or removed';
END;
$$;
CREATE TRIGGER lab_event_append_only BEFORE UPDATE OR DELETE ON lab_event
  FOR EACH ROW EXECUTE FUNCTION lab_event_append_only();

CREATE TABLE lab_breach (
  id bigserial PRIMARY KEY,
  specimen_id text NOT NULL REFERENCES lab_specimen (id),
  leg text NOT NULL,
  hop integer NOT NULL,
  unit text NOT NULL,                       -- the unit answering for the leg: the notice goes to it
  test_code text NOT NULL,
  mode text NOT NULL,
  started_at timestamptz NOT NULL,
  deadline timestamptz NOT NULL,
  detected_at timestamptz NOT NULL,
  closed_at timestamptz,                    -- when the late leg finally ended
  UNIQUE (specimen_id, leg, hop)
);
CREATE INDEX lab_breach_leg_unit ON lab_breach (leg, unit, detected_at DESC);
CREATE INDEX lab_breach_detected ON lab_breach (detected_at DESC, id DESC);

CREATE TABLE lab_flag (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,                       -- no-receipt | received-twice | temperature
  specimen_id text REFERENCES lab_specimen (id),
  shipment_id bigint REFERENCES lab_shipment (id),
  hop integer,
  unit text,
  detail text NOT NULL,
  raised_at timestamptz NOT NULL,
  raised_by text
);
CREATE UNIQUE INDEX lab_flag_no_receipt ON lab_flag (specimen_id, hop) WHERE kind = 'no-receipt';
CREATE INDEX lab_flag_raised ON lab_flag (raised_at DESC, id DESC);
CREATE INDEX lab_flag_specimen ON lab_flag (specimen_id) WHERE specimen_id IS NOT NULL;
