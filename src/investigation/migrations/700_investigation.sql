-- Case investigations (流调): the investigation, the contact candidates proposed for it, the
-- confirmed contacts with their exposures and follow-up window, and the daily checks. Stays
-- (inv_stay) index every Encounter's places and periods for co-stay queries; a change-log
-- processor keeps it in step with the FHIR store.

CREATE TABLE inv_investigation (
  id bigserial PRIMARY KEY,
  patient_id text NOT NULL,
  disease_key text NOT NULL,
  disease_name text NOT NULL,
  disease_class text NOT NULL,
  source text NOT NULL CHECK (source IN ('alert', 'report-card', 'manual', 'contact')),
  source_ref text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in-progress', 'closed')),
  assignee text,
  organization text,
  onset_date date,
  opened_by text NOT NULL,
  opened_at timestamptz NOT NULL DEFAULT now(),
  deadline_at timestamptz NOT NULL,
  closed_by text,
  closed_at timestamptz,
  close_note text,
  note text,
  response_id text,
  questionnaire_id text NOT NULL,
  from_contact_id bigint,
  candidates_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inv_investigation_worklist ON inv_investigation (status, deadline_at);
CREATE INDEX inv_investigation_patient ON inv_investigation (patient_id);
CREATE INDEX inv_investigation_assignee ON inv_investigation (assignee, status);

CREATE TABLE inv_candidate (
  id bigserial PRIMARY KEY,
  investigation_id bigint NOT NULL REFERENCES inv_investigation (id),
  patient_id text NOT NULL,
  kind text NOT NULL,
  place_key text NOT NULL,
  place_label text NOT NULL,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'confirmed', 'rejected')),
  decided_by text,
  decided_at timestamptz,
  reason text,
  contact_id bigint,
  UNIQUE (investigation_id, patient_id, kind, place_key)
);

CREATE TABLE inv_contact (
  id bigserial PRIMARY KEY,
  investigation_id bigint NOT NULL REFERENCES inv_investigation (id),
  patient_id text,
  name text,
  phone text,
  handover_note text,
  organization text,
  follow_up_start date NOT NULL,
  follow_up_end date NOT NULL,
  status text NOT NULL DEFAULT 'monitoring' CHECK (status IN ('monitoring', 'ended', 'became-case')),
  case_investigation_id bigint,
  confirmed_by text NOT NULL,
  confirmed_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1,
  CHECK (patient_id IS NOT NULL OR name IS NOT NULL)
);
CREATE UNIQUE INDEX inv_contact_person ON inv_contact (investigation_id, patient_id) WHERE patient_id IS NOT NULL;
CREATE INDEX inv_contact_worklist ON inv_contact (organization, follow_up_end) WHERE status = 'monitoring';
CREATE INDEX inv_contact_investigation ON inv_contact (investigation_id);

CREATE TABLE inv_exposure (
  id bigserial PRIMARY KEY,
  contact_id bigint NOT NULL REFERENCES inv_contact (id),
  type text NOT NULL,
  place text,
  first_date date NOT NULL,
  last_date date NOT NULL CHECK (last_date >= first_date),
  candidate_id bigint,
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inv_exposure_contact ON inv_exposure (contact_id);

CREATE TABLE inv_check (
  contact_id bigint NOT NULL REFERENCES inv_contact (id),
  day date NOT NULL,
  symptoms boolean NOT NULL,
  temperature numeric(4, 1),
  note text,
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (contact_id, day)
);

CREATE TABLE inv_stay (
  encounter_id text NOT NULL,
  patient_id text NOT NULL,
  kind text NOT NULL,
  place_key text NOT NULL,
  label text NOT NULL,
  start_at timestamptz NOT NULL,
  end_at timestamptz
);
CREATE INDEX inv_stay_place ON inv_stay (place_key, start_at);
CREATE INDEX inv_stay_patient ON inv_stay (patient_id, start_at);
CREATE INDEX inv_stay_encounter ON inv_stay (encounter_id);
