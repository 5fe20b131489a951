-- Signal counts kept up to date as records arrive (never recomputed by scanning encounters).
-- Residents' current area and birth date, from Patient (so a visit can be placed and aged).
CREATE TABLE surv_person (
  patient_id text PRIMARY KEY,
  area_code text,
  birth_date date
);

-- One row per visit with what classification needs; visit facts arrive in several resources
-- (Encounter, body-temperature Observation, Condition), so each processor updates this row and
-- the counts move by the difference between the old and the new classification.
CREATE TABLE surv_visit (
  encounter_id text PRIMARY KEY,
  patient_id text,
  day date,
  area_code text,
  facility text,
  age_group text,
  outpatient boolean NOT NULL DEFAULT false,
  complaint text,
  temperature_c numeric,
  icd10 text[] NOT NULL DEFAULT '{}',
  syndromes text[] NOT NULL DEFAULT '{}',
  counted boolean NOT NULL DEFAULT false
);
CREATE INDEX surv_visit_patient ON surv_visit (patient_id);

-- Daily counts per signal and stratum. '' (not null) for an unused stratum keeps the key simple.
-- n = the count; denom = its denominator where one exists (ILI: all visits; absence: enrolled).
CREATE TABLE signal_count (
  signal text NOT NULL,
  day date NOT NULL,
  area_code text NOT NULL DEFAULT '',
  facility text NOT NULL DEFAULT '',
  school text NOT NULL DEFAULT '',
  unit text NOT NULL DEFAULT '',
  age_group text NOT NULL DEFAULT '',
  n integer NOT NULL DEFAULT 0,
  denom integer NOT NULL DEFAULT 0,
  PRIMARY KEY (signal, day, area_code, facility, school, unit, age_group)
);
CREATE INDEX signal_count_day ON signal_count (day);

-- Lab results already counted (a corrected result must not count twice).
CREATE TABLE surv_lab_positive (
  observation_id text PRIMARY KEY,
  signal text NOT NULL,
  day date NOT NULL,
  area_code text NOT NULL,
  facility text NOT NULL DEFAULT '',
  age_group text NOT NULL DEFAULT ''
);

-- Feed rows (school absenteeism, pharmacy sales) as last received, so a resent row moves the
-- counts by its difference only.
CREATE TABLE surv_feed_absence (
  school text NOT NULL,
  class_code text NOT NULL,
  day date NOT NULL,
  area_code text NOT NULL DEFAULT '',
  enrolled integer NOT NULL,
  absent integer NOT NULL,
  illness_absent integer NOT NULL,
  PRIMARY KEY (school, class_code, day)
);
CREATE TABLE surv_feed_pharmacy (
  pharmacy text NOT NULL,
  category text NOT NULL,
  day date NOT NULL,
  area_code text NOT NULL DEFAULT '',
  units integer NOT NULL,
  PRIMARY KEY (pharmacy, category, day)
);

-- Public or media reports entered by staff (舆情/群众报告).
CREATE TABLE surv_public_report (
  id bigserial PRIMARY KEY,
  day date NOT NULL,
  area_code text NOT NULL,
  category text NOT NULL,
  description text NOT NULL,
  source text,
  entered_by text NOT NULL,
  entered_at timestamptz NOT NULL DEFAULT now()
);

-- District geography for maps (filled from the simulator's district.json or a real one).
CREATE TABLE surv_area (
  code text PRIMARY KEY,
  name text NOT NULL,
  level text NOT NULL,
  parent_code text,
  centroid jsonb,
  polygon jsonb
);
CREATE TABLE surv_place (
  code text PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL,
  area_code text
);
