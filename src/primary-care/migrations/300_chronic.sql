-- Chronic care, immunization, contracts, referrals and education: facts extracted from the
-- FHIR store by change-log processors, and the state derived from them (registries, schedules,
-- per-visit evaluations). Everything here can be rebuilt from the store (yifang chronic recompute).
CREATE TABLE chronic_person (
  patient_id text PRIMARY KEY,
  name text,
  birth_date date,
  gender text,
  area_code text,
  organization_id text,
  household_id text,
  deceased boolean NOT NULL DEFAULT false
);
CREATE INDEX chronic_person_household ON chronic_person (household_id);

CREATE TABLE chronic_condition (
  condition_id text PRIMARY KEY,
  patient_id text NOT NULL,
  icd text NOT NULL,
  onset date,
  active boolean NOT NULL
);
CREATE INDEX chronic_condition_patient ON chronic_condition (patient_id);

CREATE TABLE chronic_medication (
  request_id text PRIMARY KEY,
  patient_id text NOT NULL,
  atc text,
  authored date,
  active boolean NOT NULL
);
CREATE INDEX chronic_medication_patient ON chronic_medication (patient_id);

CREATE TABLE chronic_reading (
  observation_id text PRIMARY KEY,
  patient_id text NOT NULL,
  encounter_id text,
  kind text NOT NULL,            -- bp, fpg, glucose, hba1c
  taken_on date NOT NULL,
  sbp real,
  dbp real,
  value real,
  flag text                      -- why the reading is implausible (excluded from decisions)
);
CREATE INDEX chronic_reading_patient ON chronic_reading (patient_id);
CREATE INDEX chronic_reading_encounter ON chronic_reading (encounter_id);

CREATE TABLE chronic_encounter (
  encounter_id text PRIMARY KEY,
  patient_id text NOT NULL,
  visit_date date NOT NULL,
  class text,
  status text,
  follow_up_mode text,           -- face-to-face / phone / home when the encounter is a follow-up
  doctor_id text,
  organization_id text,
  symptoms text[] NOT NULL DEFAULT '{}',
  adverse_reaction text,
  new_complication boolean NOT NULL DEFAULT false,
  ended_on date
);
CREATE INDEX chronic_encounter_patient ON chronic_encounter (patient_id);
-- Check-ins: web check-in (arrived) and ADT A04 registrations (in-progress, no end yet).
CREATE INDEX chronic_encounter_checkin ON chronic_encounter (visit_date) WHERE status IN ('arrived', 'in-progress');

CREATE TABLE care_team_member (
  team_id text NOT NULL,
  practitioner_id text NOT NULL,
  team_name text,
  organization_id text,
  PRIMARY KEY (team_id, practitioner_id)
);
CREATE INDEX care_team_member_practitioner ON care_team_member (practitioner_id);

CREATE TABLE chronic_registry (
  patient_id text NOT NULL,
  disease text NOT NULL,          -- htn, dm
  diagnosed_on date,
  source text NOT NULL,           -- record, manual
  status text NOT NULL DEFAULT 'managed',  -- managed, transferred, died (lost-to-follow-up is derived on read)
  status_reason text,
  team_id text,
  doctor_id text,
  organization_id text,
  area_code text,
  last_visit date,
  next_due date,
  decision text,
  controlled boolean,
  reasons text[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, disease)
);
CREATE INDEX chronic_registry_doctor ON chronic_registry (doctor_id, next_due);
CREATE INDEX chronic_registry_team ON chronic_registry (team_id, next_due);
CREATE INDEX chronic_registry_due ON chronic_registry (next_due);

CREATE TABLE chronic_visit_eval (
  encounter_id text NOT NULL,
  disease text NOT NULL,
  patient_id text NOT NULL,
  visit_date date NOT NULL,
  mode text,
  rule_version text NOT NULL,
  controlled boolean,
  decision text NOT NULL,
  due_date date NOT NULL,
  on_time boolean NOT NULL,
  reasons text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (encounter_id, disease)
);
CREATE INDEX chronic_visit_eval_patient ON chronic_visit_eval (patient_id);
CREATE INDEX chronic_visit_eval_date ON chronic_visit_eval (visit_date);

CREATE TABLE chronic_confirmation (
  patient_id text NOT NULL,
  disease text NOT NULL,
  reason text NOT NULL,
  detected_on date NOT NULL,
  status text NOT NULL DEFAULT 'open',    -- open, confirmed, dismissed
  PRIMARY KEY (patient_id, disease)
);

CREATE TABLE imm_dose (
  immunization_id text PRIMARY KEY,
  patient_id text NOT NULL,
  vaccine text NOT NULL,
  given_on date NOT NULL
);
CREATE INDEX imm_dose_patient ON imm_dose (patient_id);

CREATE TABLE care_contract (
  episode_id text PRIMARY KEY,
  patient_id text NOT NULL,
  team_id text,
  household_id text,
  package text,
  start_on date,
  end_on date,
  status text NOT NULL
);
CREATE INDEX care_contract_patient ON care_contract (patient_id);
CREATE INDEX care_contract_team ON care_contract (team_id);

CREATE TABLE care_referral (
  task_id text PRIMARY KEY,
  service_request_id text,
  patient_id text NOT NULL,
  direction text NOT NULL,        -- up, down
  status text NOT NULL,           -- FHIR Task.status: requested, accepted, rejected, in-progress, completed, cancelled
  urgency text,
  reason text,
  requester text,
  owner text,
  due_on date,
  authored_on date,
  source_encounter_id text
);
CREATE INDEX care_referral_patient ON care_referral (patient_id);
CREATE INDEX care_referral_owner ON care_referral (owner, status);

CREATE TABLE care_education_given (
  communication_id text PRIMARY KEY,
  patient_id text NOT NULL,
  item_id text NOT NULL,
  encounter_id text,
  given_on date NOT NULL
);
CREATE INDEX care_education_given_patient ON care_education_given (patient_id);
