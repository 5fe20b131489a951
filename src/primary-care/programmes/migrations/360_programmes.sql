-- Basic public-health programmes (config/programmes/*.json): the facts the programme engine
-- reads, kept from the FHIR change log, and per-programme enrolments and scheduled items
-- derived from them. Everything here can be rebuilt from the store.
CREATE TABLE prog_person (
  patient_id text PRIMARY KEY,
  name text,
  birth_date date,
  gender text,
  area_code text,
  organization_id text,
  deceased boolean NOT NULL DEFAULT false,
  derived_on date                       -- the day its enrolments and items were last derived (the refresh re-derives old ones)
);
CREATE INDEX prog_person_derived ON prog_person (derived_on);

CREATE TABLE prog_fact (
  ref text PRIMARY KEY,                 -- Type/id
  patient_id text NOT NULL,
  resource_type text NOT NULL,
  codes text[] NOT NULL DEFAULT '{}',   -- system|code
  start_on date,
  end_on date,
  active boolean NOT NULL,
  value_codes text[] NOT NULL DEFAULT '{}',
  value_num double precision
);
CREATE INDEX prog_fact_patient ON prog_fact (patient_id);

CREATE TABLE prog_enrolment (
  programme text NOT NULL,
  patient_id text NOT NULL,
  episode_key text NOT NULL,
  start_on date NOT NULL,
  end_on date,                          -- first day no longer enrolled; NULL = open
  end_event_on date,                    -- delivery, when the programme has an end event
  version text NOT NULL,
  flags text[] NOT NULL DEFAULT '{}',
  controlled boolean,
  last_service date,
  services integer NOT NULL DEFAULT 0,
  area_code text,
  organization_id text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (programme, patient_id, episode_key)
);
CREATE INDEX prog_enrolment_patient ON prog_enrolment (patient_id);

CREATE TABLE prog_item (
  programme text NOT NULL,
  patient_id text NOT NULL,
  episode_key text NOT NULL,
  item text NOT NULL,
  name text NOT NULL,
  window_from date NOT NULL,
  window_to date NOT NULL,              -- exclusive
  recommended text,
  delivered_on date,
  delivered_ref text,
  version text NOT NULL,
  PRIMARY KEY (programme, patient_id, episode_key, item, window_from)
);
CREATE INDEX prog_item_open ON prog_item (programme, window_to) WHERE delivered_on IS NULL;
CREATE INDEX prog_item_patient ON prog_item (patient_id);
