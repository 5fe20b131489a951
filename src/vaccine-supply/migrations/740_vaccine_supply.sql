-- Vaccine lots, stock and the cold chain (issue #22 items 4–6). Doses given are FHIR Immunization
-- resources and AEFI are FHIR AdverseEvent resources: the change-log processor copies what the
-- stock and the trace read into vs_dose and vs_aefi. Everything else is this module's own record.

-- Vaccination clinics (接种门诊) and the CDC's store; aliases are what an Immunization names the
-- place by (Location/<id>, Organization/<id>, a location's display or identifier value).
CREATE TABLE vs_clinic (
  code text PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('clinic', 'cdc-store')),
  aliases text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL
);
CREATE TABLE vs_clinic_alias (
  alias text PRIMARY KEY,
  clinic_code text NOT NULL REFERENCES vs_clinic (code)
);

-- One lot of one vaccine: lot number, expiry, manufacturer, GTIN when scanned.
CREATE TABLE vs_lot (
  id bigserial PRIMARY KEY,
  vaccine_code text NOT NULL,
  vaccine_name text,
  lot_number text NOT NULL,                -- as printed
  lot_key text NOT NULL,                   -- upper-cased, trimmed: what doses are matched by
  manufacturer text,
  expiry date NOT NULL,
  gtin text,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'quarantined')),
  created_at timestamptz NOT NULL,
  UNIQUE (vaccine_code, lot_key)
);
CREATE INDEX vs_lot_key ON vs_lot (lot_key);

-- Fridges and cold boxes, each at a clinic (or the CDC store); sensors report for one of them.
CREATE TABLE vs_fridge (
  id text PRIMARY KEY,
  clinic_code text NOT NULL REFERENCES vs_clinic (code),
  kind text NOT NULL CHECK (kind IN ('fridge', 'cold-box')),
  name text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TABLE vs_sensor (
  id text PRIMARY KEY,
  fridge_id text NOT NULL REFERENCES vs_fridge (id),
  last_at timestamptz,                     -- newest reading seen (detection state follows it)
  last_celsius double precision,
  state jsonb NOT NULL DEFAULT '{}',       -- the excursion detector's episode (excursion.ts)
  created_at timestamptz NOT NULL
);

-- Every stock movement, signed: receipt +, transfer-out −, transfer-in +, dose −, discard −.
-- A receipt or transfer-in names the fridge the vials went into; doses take from the clinic's fridge holding the lot.
CREATE TABLE vs_movement (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('receipt', 'transfer-out', 'transfer-in', 'dose', 'discard')),
  clinic_code text NOT NULL REFERENCES vs_clinic (code),
  lot_id bigint NOT NULL REFERENCES vs_lot (id),
  fridge_id text REFERENCES vs_fridge (id),
  quantity integer NOT NULL,
  at timestamptz NOT NULL,
  transfer_id bigint,                      -- both legs of a transfer share it
  counterpart text,                        -- the other clinic of a transfer, the supplier of a receipt
  immunization_id text,                    -- a dose
  reason text,                             -- a discard
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL
);
CREATE INDEX vs_movement_lot ON vs_movement (lot_id, at);
CREATE INDEX vs_movement_fridge ON vs_movement (fridge_id, lot_id, at) WHERE fridge_id IS NOT NULL;
CREATE UNIQUE INDEX vs_movement_dose ON vs_movement (immunization_id) WHERE kind = 'dose';

-- Stock now, per clinic × lot × fridge ('' when none), kept with every movement.
CREATE TABLE vs_stock (
  clinic_code text NOT NULL,
  lot_id bigint NOT NULL REFERENCES vs_lot (id),
  fridge_id text NOT NULL DEFAULT '',
  quantity integer NOT NULL,
  PRIMARY KEY (clinic_code, lot_id, fridge_id)
);
CREATE INDEX vs_stock_lot ON vs_stock (lot_id);

-- Doses given, copied from Immunization resources by the processor.
CREATE TABLE vs_dose (
  immunization_id text PRIMARY KEY,
  patient_id text,
  status text NOT NULL,
  vaccine_code text,
  vaccine_name text,
  lot_number text,
  lot_key text,
  lot_id bigint REFERENCES vs_lot (id),
  clinic_code text,
  place text,                              -- what the Immunization named the place by
  manufacturer text,
  expiration_date date,
  given_at timestamptz,
  flags text[] NOT NULL DEFAULT '{}',      -- unstocked-lot, unknown-clinic, expired-lot, quarantined-lot, no-lot
  updated_at timestamptz NOT NULL
);
CREATE INDEX vs_dose_lot ON vs_dose (lot_id, given_at) WHERE lot_id IS NOT NULL;
CREATE INDEX vs_dose_clinic_lot ON vs_dose (clinic_code, lot_id, given_at);
CREATE INDEX vs_dose_lot_key ON vs_dose (lot_key) WHERE lot_key IS NOT NULL;
CREATE INDEX vs_dose_flagged ON vs_dose (updated_at DESC) WHERE flags <> '{}';

-- Adverse events following immunization (AEFI), from AdverseEvent resources.
CREATE TABLE vs_aefi (
  adverse_event_id text PRIMARY KEY,
  patient_id text,
  immunization_id text,
  lot_key text,
  lot_id bigint REFERENCES vs_lot (id),
  occurred_at timestamptz,
  seriousness text,
  description text,
  updated_at timestamptz NOT NULL
);
CREATE INDEX vs_aefi_lot ON vs_aefi (lot_key);

-- Temperature readings, one per sensor and time (a duplicate is dropped).
CREATE TABLE vs_reading (
  sensor_id text NOT NULL,
  at timestamptz NOT NULL,
  celsius double precision NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (sensor_id, at)
);
-- Readings of sensors nobody registered: kept, never lost, listed for the operator.
CREATE TABLE vs_reading_unknown (
  id bigserial PRIMARY KEY,
  sensor_id text NOT NULL,
  at timestamptz,
  celsius double precision,
  raw text,
  received_at timestamptz NOT NULL
);
CREATE INDEX vs_reading_unknown_sensor ON vs_reading_unknown (sensor_id, received_at);

-- One excursion per episode outside the range (excursion.ts).
CREATE TABLE vs_excursion (
  id bigserial PRIMARY KEY,
  sensor_id text NOT NULL REFERENCES vs_sensor (id),
  fridge_id text NOT NULL REFERENCES vs_fridge (id),
  clinic_code text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('warm', 'cold', 'freezing')),
  started_at timestamptz NOT NULL,
  ended_at timestamptz,                    -- NULL while the episode runs
  min_celsius double precision NOT NULL,
  max_celsius double precision NOT NULL,
  outside_seconds integer NOT NULL,
  detected_at timestamptz NOT NULL
);
CREATE INDEX vs_excursion_fridge ON vs_excursion (fridge_id, started_at);
CREATE INDEX vs_excursion_started ON vs_excursion (started_at DESC, id DESC);

-- Alarms to the clinic (excursion, freezing, silent sensor), acknowledged or escalated to the CDC.
CREATE TABLE vs_alarm (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('excursion', 'freezing', 'sensor-silent')),
  sensor_id text NOT NULL,
  fridge_id text NOT NULL,
  clinic_code text NOT NULL,
  excursion_id bigint REFERENCES vs_excursion (id),
  message text NOT NULL,
  raised_at timestamptz NOT NULL,
  level text NOT NULL DEFAULT 'clinic' CHECK (level IN ('clinic', 'cdc')),
  escalated_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by text,
  note text,
  resolved_at timestamptz
);
CREATE INDEX vs_alarm_raised ON vs_alarm (raised_at DESC, id DESC);
CREATE INDEX vs_alarm_unacked ON vs_alarm (raised_at) WHERE acknowledged_at IS NULL AND escalated_at IS NULL;
CREATE UNIQUE INDEX vs_alarm_silent_open ON vs_alarm (sensor_id) WHERE kind = 'sensor-silent' AND resolved_at IS NULL;
