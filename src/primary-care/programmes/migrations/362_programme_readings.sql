-- The numeric readings of an Observation (its own value and each component's, by "system|code")
-- and the Encounter it names, kept with the programme fact: numeric control targets and
-- follow-ups linked to their readings by encounter (hypertension, diabetes) read them. Rows
-- stored before this have neither, and the facts hypertension and diabetes use (follow-up
-- Encounters, readings, A10 prescriptions) were not kept at all: replay the change log (reset the
-- `programmes` processor's cursor), then run `yifang programmes recompute`.
ALTER TABLE prog_fact
  ADD COLUMN readings jsonb,
  ADD COLUMN encounter text;

-- A programme whose 规范管理 is a chain of follow-ups (each due from the one before: hypertension,
-- diabetes) keeps the day of every follow-up of the chain, in order, with its summary (summary.ts):
-- the number in a period is then two binary searches of the array.
ALTER TABLE prog_enrolment ADD COLUMN chain_dates date[] NOT NULL DEFAULT '{}';

-- One partition per programme: an indicator reads one programme's rows, which the recompute and
-- the processor write interleaved with every other programme's (by resident), so on one heap it
-- touched nearly every page of the table whatever the programme's size. A programme added later
-- lands in the default partition until a migration gives it its own.
ALTER TABLE prog_enrolment RENAME TO prog_enrolment_unpartitioned;
ALTER INDEX prog_enrolment_pkey RENAME TO prog_enrolment_unpartitioned_pkey;
ALTER INDEX prog_enrolment_patient RENAME TO prog_enrolment_unpartitioned_patient;
CREATE TABLE prog_enrolment (LIKE prog_enrolment_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY LIST (programme);
ALTER TABLE prog_enrolment ADD PRIMARY KEY (programme, patient_id, episode_key);
CREATE INDEX prog_enrolment_patient ON prog_enrolment (patient_id);
CREATE TABLE prog_enrolment_child_0_6 PARTITION OF prog_enrolment FOR VALUES IN ('child-0-6');
CREATE TABLE prog_enrolment_maternal PARTITION OF prog_enrolment FOR VALUES IN ('maternal');
CREATE TABLE prog_enrolment_elderly_65 PARTITION OF prog_enrolment FOR VALUES IN ('elderly-65');
CREATE TABLE prog_enrolment_mental PARTITION OF prog_enrolment FOR VALUES IN ('severe-mental-disorders');
CREATE TABLE prog_enrolment_tuberculosis PARTITION OF prog_enrolment FOR VALUES IN ('tuberculosis');
CREATE TABLE prog_enrolment_hypertension PARTITION OF prog_enrolment FOR VALUES IN ('hypertension');
CREATE TABLE prog_enrolment_diabetes PARTITION OF prog_enrolment FOR VALUES IN ('diabetes');
CREATE TABLE prog_enrolment_other PARTITION OF prog_enrolment DEFAULT;
INSERT INTO prog_enrolment SELECT * FROM prog_enrolment_unpartitioned;
DROP TABLE prog_enrolment_unpartitioned;
